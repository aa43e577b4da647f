"""Reserved current: an input of the engine, kept free on each grid phase and, as power, under every cap.

The gateway used to express a reservation (the possible draw of chargers it
cannot reach) by shrinking ``max_power_w`` and ``fallback_power_w`` and
adding the reserved current to the grid reading. ``old_formulation`` below
does exactly that; the table shows both formulations agree, and names the
one situation where the explicit input keeps more free than the old one did:
in fallback, where there was no grid reading to add the reservation to.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given, settings

from balancing import (
    Controller,
    ControllerSettings,
    GridMeasurement,
    NetworkLimits,
    PowerCap,
    Reservation,
    ScenarioError,
    allocate,
    parse_scenario,
)

from .builders import charger, grid, unused_capacity, violations
from .strategies import networks, reservations

L = NetworkLimits
QUIET = grid(0, 0, 0)
PROPERTIES = settings(deadline=None)
IMMEDIATE = ControllerSettings(increase_interval_s=0, increase_step_a=None, min_pause_s=0, resume_delay_s=0)


def old_formulation(limits, measurement, chargers, reserved_a):
    """The gateway's former way: power limits less the reserved power, the grid reading plus the reserved current."""
    reserved_w = sum(reserved_a) * limits.nominal_voltage_v
    if reserved_w:
        limits = replace(
            limits,
            max_power_w=None if limits.max_power_w is None else max(0.0, limits.max_power_w - reserved_w),
            fallback_power_w=None if limits.fallback_power_w is None else max(0.0, limits.fallback_power_w - reserved_w),
        )
    if measurement is not None:
        inflated = tuple(measured + kept for measured, kept in zip(measurement.current_a, reserved_a))
        measurement = GridMeasurement(inflated, age_s=measurement.age_s)
    return allocate(limits, measurement, chargers)


def row(limits, measurement, chargers, reserved_a, setpoints, reasons, id):
    """One row: the reserved current per grid phase and the expected setpoint (A) and reason code per charger."""
    return pytest.param(limits, measurement, chargers, reserved_a, setpoints, reasons, id=id)


# fmt: off
AGREEING = [
    # Normal mode: the reserved current comes off each grid phase, its power off the power cap.
    row(L(32, max_power_w=22000), grid(10, 10, 10), [charger("a"), charger("b")], (0, 0, 0), {"a": 11, "b": 11}, {"a": "limited_by_phase_L1", "b": "limited_by_phase_L1"}, id="nothing-reserved"),
    # The house rule applies as if the reserved load were on the meter: export the grid shows (PV) but the
    # house estimate does not credit, because the chargers claim more than the grid shows, may take it up.
    row(L(25), grid(-5, -5, -5), [charger("a", max_current_a=32, current_a=(16, 16, 16), setpoint_a=16)], (16, 16, 16), {"a": 25}, {"a": "limited_by_phase_L1"}, id="pv-export-beside-an-unreachable-charger"),
    row(L(32), grid(10, 10, 10), [charger("a", max_current_a=32, current_a=(16, 16, 16), setpoint_a=16)], (16, 16, 16), {"a": 22}, {"a": "limited_by_phase_L1"}, id="charger-readings-above-the-grid-reading"),
    row(L(32, max_power_w=22000), grid(10, 10, 10), [charger("a"), charger("b")], (10, 10, 10), {"a": 6, "b": 6}, {"a": "limited_by_phase_L1", "b": "limited_by_phase_L1"}, id="3-phase-charger-unreachable"),
    row(L(32), grid(5, 10, 5), [charger("a"), charger("b", phases=1)], (0, 16, 0), {"a": 6, "b": 16}, {"a": "limited_by_phase_L2", "b": "at_max"}, id="1-phase-charger-unreachable-on-L2"),
    row(L(32), grid(20, 20, 20), [charger("a", current_a=(10, 10, 10), setpoint_a=10), charger("b")], (6, 6, 6), {"a": 8, "b": 8}, {"a": "limited_by_phase_L1", "b": "limited_by_phase_L1"}, id="chargers-drawing-house-from-the-grid"),
    row(L(32, max_power_w=11040), QUIET, [charger("a"), charger("b")], (8, 8, 8), {"a": 8, "b": 0}, {"a": "network_power", "b": "waiting_turn"}, id="reservation-takes-half-the-power-cap"),
    row(L(32, max_power_w=4140), QUIET, [charger("a"), charger("b")], (16, 16, 16), {"a": 0, "b": 0}, {"a": "network_power", "b": "network_power"}, id="reservation-above-the-power-cap"),
    row(L(32), grid(20, 5, 5), [charger("a"), charger("b", phases=1, phase_rotation="L2L3L1")], (16, 0, 0), {"a": 0, "b": 16}, {"a": "house_over_limit_L1", "b": "at_max"}, id="house-and-reservation-over-the-limit-on-L1"),
    # Fallback: the reserved power comes off the fallback power (and every other cap).
    row(L(32, fallback_power_w=8280), None, [charger("a"), charger("b")], (6, 6, 6), {"a": 6, "b": 0}, {"a": "fallback", "b": "waiting_turn"}, id="fallback-power-less-the-reservation"),
    row(L(32, fallback_power_w=4140), None, [charger("a"), charger("b")], (6, 6, 6), {"a": 0, "b": 0}, {"a": "fallback_zero", "b": "fallback_zero"}, id="fallback-power-all-reserved"),
    row(L(32, max_power_w=6900, fallback_power_w=11000), None, [charger("a")], (0, 0, 6), {"a": 8}, {"a": "network_power"}, id="fallback-network-power-less-the-reservation"),
    row(L(32, fallback_power_w=4140), grid(0, 0, 0, age_s=10), [charger("a", phases=1)], (6, 0, 0), {"a": 12}, {"a": "fallback"}, id="stale-reading-fallback-less-the-reservation"),
]

# Where the explicit input keeps more free than the old formulation did, on purpose.
SAFER = [
    # Fallback: the per-phase limit bounds the chargers' own current, and the reserved draw is charger current
    # too; the old grid-reading trick could not reach this case, since there is no grid reading.
    row(L(20, fallback_power_w=22000), None, [charger("a")], (16, 0, 0), {"a": 0}, {"a": "limited_by_phase_L1"}, id="fallback-reservation-meets-the-phase-limit"),
    row(L(25, fallback_power_w=22000), None, [charger("a"), charger("b", phases=1, phase_rotation="L2L3L1")], (0, 16, 0), {"a": 9, "b": 0}, {"a": "limited_by_phase_L2", "b": "waiting_turn"}, id="fallback-reservation-on-L2"),
]
# fmt: on


@pytest.mark.parametrize(("limits", "measurement", "chargers", "reserved_a", "setpoints", "reasons"), AGREEING)
def test_the_reservation_as_input_agrees_with_the_old_formulation(limits, measurement, chargers, reserved_a, setpoints, reasons):
    reserved = Reservation(reserved_a)
    new = allocate(limits, measurement, chargers, reserved=reserved)
    old = old_formulation(limits, measurement, chargers, reserved_a)
    assert (new.setpoints_a, new.reasons) == (setpoints, reasons)
    assert (old.setpoints_a, old.reasons, old.mode) == (new.setpoints_a, new.reasons, new.mode)
    if old.headroom_a is None:
        assert new.headroom_a is None
    else:
        assert new.headroom_a == old.headroom_a
    assert violations(limits, measurement, chargers, new, reserved) == []


@pytest.mark.parametrize(("limits", "measurement", "chargers", "reserved_a", "setpoints", "reasons"), SAFER)
def test_where_the_formulations_differ_the_reservation_as_input_keeps_more_free(
    limits, measurement, chargers, reserved_a, setpoints, reasons
):
    reserved = Reservation(reserved_a)
    new = allocate(limits, measurement, chargers, reserved=reserved)
    old = old_formulation(limits, measurement, chargers, reserved_a)
    assert (new.setpoints_a, new.reasons) == (setpoints, reasons)
    assert all(new.setpoints_a[c.id] <= old.setpoints_a[c.id] for c in chargers)
    assert sum(new.setpoints_a.values()) < sum(old.setpoints_a.values())
    assert violations(limits, measurement, chargers, new, reserved) == []
    assert violations(limits, measurement, chargers, old, reserved) != []


@pytest.mark.parametrize("measurement", [QUIET, None], ids=["normal", "fallback"])
def test_the_reserved_power_comes_off_external_caps_too(measurement):
    # 8,280 W less 6 A on one phase (1,380 W) leaves 6,900 W: 10 A on three phases.
    limits = L(32, fallback_power_w=22000, power_caps=(PowerCap(8280, "14a-control-box", "grid_operator_cap"),))
    result = allocate(limits, measurement, [charger("a")], reserved=Reservation((0, 0, 6)))
    assert (result.setpoints_a, result.reasons) == ({"a": 10}, {"a": "grid_operator_cap"})


def test_the_house_load_reported_is_the_house_without_the_reservation():
    result = allocate(L(32), grid(10, 10, 10), [charger("a")], reserved=Reservation((16, 0, 0)))
    assert result.house_current_a == (10, 10, 10)
    assert result.headroom_a == (0, 16, 16)  # a at 6 A: 32 - 10 - 16 - 6 on L1, 32 - 10 - 6 on L2 and L3
    exporting = allocate(L(25), grid(-5, -5, -5), [charger("a", max_current_a=32, current_a=(16, 16, 16), setpoint_a=16)])
    assert exporting.house_current_a == (-5, -5, -5)


def test_no_reservation_and_an_empty_one_are_the_same():
    limits, chargers = L(32, max_power_w=11040, fallback_power_w=4140), [charger("a"), charger("b", phases=1)]
    for measurement in (grid(12, 3, 7), None):
        assert allocate(limits, measurement, chargers) == allocate(limits, measurement, chargers, reserved=Reservation())


def test_the_controller_passes_the_reservation_on_and_keeps_it_out_of_the_headroom():
    limits, measurement, chargers = L(32), grid(10, 10, 10), [charger("a"), charger("b")]
    reserved = Reservation((10, 10, 10))
    result = Controller(IMMEDIATE).step(limits, measurement, chargers, 0.0, reserved=reserved)
    safe = allocate(limits, measurement, chargers, reserved=reserved)
    assert (result.setpoints_a, result.reasons) == (safe.setpoints_a, safe.reasons) == ({"a": 6, "b": 6}, {"a": "limited_by_phase_L1", "b": "limited_by_phase_L1"})
    assert result.headroom_a == safe.headroom_a == (0, 0, 0)


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: Reservation((-1, 0, 0)), r"current_a\[0\]: must be at least 0"),
        (lambda: Reservation(16), "current_a: must be a list of three numbers"),
        (lambda: Reservation((0, float("inf"), 0)), r"current_a\[1\]: must be a finite number"),
        (lambda: allocate(L(32), QUIET, [charger("a")], reserved=(16, 0, 0)), "reserved: must be a Reservation or None"),
        (
            lambda: parse_scenario({"limits": {"max_current_per_phase_a": 32}, "chargers": [], "reserved": {"current_a": [6, -1, 0]}}),
            r"reserved.current_a\[1\]: must be at least 0",
        ),
        (
            lambda: parse_scenario({"limits": {"max_current_per_phase_a": 32}, "chargers": [], "reserved": {"power_w": 1380}}),
            "reserved.power_w: unknown field",
        ),
    ],
)
def test_a_bad_reservation_is_refused_naming_the_field(build, message):
    with pytest.raises(ScenarioError, match=f"^{message}"):
        build()


def test_the_scenario_json_takes_a_reservation():
    data = {"limits": {"max_current_per_phase_a": 32}, "chargers": [{"id": "a", "max_current_a": 16}]}
    assert parse_scenario(data).reserved is None
    scenario = parse_scenario({**data, "reserved": {"current_a": [6, 0, 0]}})
    assert scenario.reserved == Reservation((6, 0, 0))


@PROPERTIES
@given(networks(caps=True), reservations)
def test_with_a_reservation_and_caps_no_limit_is_exceeded_once_the_reserved_draw_is_added(network, reserved):
    limits, measurement, chargers = network
    result = allocate(limits, measurement, chargers, reserved=reserved)
    assert violations(limits, measurement, chargers, result, reserved) == []


@PROPERTIES
@given(networks(caps=True), reservations)
def test_with_a_reservation_and_caps_no_capacity_is_left_unused(network, reserved):
    limits, measurement, chargers = network
    result = allocate(limits, measurement, chargers, reserved=reserved)
    assert unused_capacity(limits, measurement, chargers, result, reserved) == []
