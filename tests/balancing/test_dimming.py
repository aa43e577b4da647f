"""Grid-operator dimming (EnWG section 14a): the cap binds with its reason, never below the guaranteed minimum.

The minimum is the determination's (BK6-22-300, Anlage 1, Ziffer 4.5.2, as restated
publicly; see `balancing.dimming` for the sources):
4.2 kW for one device, 4.2 kW + (n - 1) x GZF(n) x 4.2 kW for n behind one
energy management system.
"""

from __future__ import annotations

import pytest

from balancing import Controller, ControllerSettings, NetworkLimits, PowerCap, ScenarioError, allocate, parse_scenario
from balancing.dimming import guaranteed_minimum_w, simultaneity_factor

from .builders import charger, grid, violations

L = NetworkLimits
QUIET = grid(0, 0, 0)


def dimmed(asked_w: float, devices: int) -> PowerCap:
    """A control box's dimming signal for a network of ``devices`` chargers."""
    return PowerCap(asked_w, "14a-control-box", "grid_operator_cap", guaranteed_w=guaranteed_minimum_w(devices))


@pytest.mark.parametrize(
    ("devices", "factor", "minimum_w"),
    [
        # One device dimmed directly keeps 4.2 kW.
        (1, 1.0, 4200),
        # Behind an EMS: the table's factor, 0.05 less per device down to 0.45 from nine on.
        (2, 0.80, 7560),
        (3, 0.75, 10500),
        (4, 0.70, 13020),
        (5, 0.65, 15120),
        (6, 0.60, 16800),
        (7, 0.55, 18060),
        (8, 0.50, 18900),
        (9, 0.45, 19320),
        (12, 0.45, 24990),
    ],
)
def test_the_guaranteed_minimum_follows_the_determinations_table(devices, factor, minimum_w):
    assert simultaneity_factor(devices) == factor
    assert guaranteed_minimum_w(devices) == pytest.approx(minimum_w)


def test_the_minimum_grows_with_every_device():
    minima = [guaranteed_minimum_w(n) for n in range(1, 30)]
    assert minima == sorted(minima) and len(set(minima)) == len(minima)


@pytest.mark.parametrize("devices", [0, -1, 1.5, True, "2"])
def test_a_bad_number_of_devices_is_refused(devices):
    with pytest.raises(ScenarioError, match="^devices: must be a whole number"):
        guaranteed_minimum_w(devices)


def case(limits, chargers, setpoints, reasons, id):
    return pytest.param(limits, chargers, setpoints, reasons, id=id)


# fmt: off
CASES = [
    # The cap binds at what the grid operator asks, naming itself.
    case(L(32, max_power_w=22000, power_caps=(dimmed(11040, 2),)), [charger("a"), charger("b")], {"a": 8, "b": 8}, {"a": "grid_operator_cap", "b": "grid_operator_cap"}, id="binds-at-the-signal-above-the-minimum"),
    # A signal below the guarantee (or a bare contact, asking 0) holds at the guaranteed minimum.
    case(L(32, power_caps=(dimmed(0, 1),)), [charger("a")], {"a": 6}, {"a": "grid_operator_cap"}, id="one-charger-keeps-4.2-kW"),
    case(L(32, power_caps=(dimmed(1000, 3),)), [charger("a"), charger("b"), charger("c")], {"a": 7.6, "b": 7.6, "c": 0}, {"a": "grid_operator_cap", "b": "grid_operator_cap", "c": "waiting_turn"}, id="three-chargers-keep-10.5-kW-two-fit"),
    # The lowest cap in force wins: an operator's own cap may go below the grid operator's guarantee.
    case(L(32, power_caps=(dimmed(0, 2), PowerCap(3000, "operator", "operator_cap"))), [charger("a")], {"a": 0}, {"a": "operator_cap"}, id="operator-cap-below-the-guarantee-wins"),
    case(L(32, max_power_w=6900, power_caps=(dimmed(0, 2),)), [charger("a")], {"a": 10}, {"a": "network_power"}, id="network-power-below-the-guarantee-wins"),
    case(L(32, power_caps=(PowerCap(9000, "schedule:evening", "schedule_cap"), dimmed(0, 2))), [charger("a"), charger("b")], {"a": 10.9, "b": 0}, {"a": "grid_operator_cap", "b": "waiting_turn"}, id="guarantee-below-schedule-guarantee-binds"),
    # 7,560 W fits one 3-phase charger at its 6 A minimum, not two: one waits its turn.
    case(L(32, power_caps=(dimmed(0, 2),)), [charger("a"), charger("b")], {"a": 10.9, "b": 0}, {"a": "grid_operator_cap", "b": "waiting_turn"}, id="two-chargers-one-at-a-time"),
    # Single-phase vehicles count one phase each: three fit in 4.2 kW.
    case(L(32, power_caps=(dimmed(0, 1),)), [charger(c, phases=1, current_a=(6, 0, 0)) for c in "abc"], {"a": 6.1, "b": 6.1, "c": 6}, {"a": "grid_operator_cap", "b": "grid_operator_cap", "c": "grid_operator_cap"}, id="single-phase-vehicles-share-the-minimum"),
]
# fmt: on


@pytest.mark.parametrize(("limits", "chargers", "setpoints", "reasons"), CASES)
def test_dimming(limits, chargers, setpoints, reasons):
    result = allocate(limits, QUIET, chargers)
    assert result.setpoints_a == setpoints
    assert result.reasons == reasons
    assert violations(limits, QUIET, chargers, result) == []


def test_dimming_holds_in_fallback_too():
    limits = L(32, fallback_power_w=11000, power_caps=(dimmed(0, 1),))
    result = allocate(limits, None, [charger("a"), charger("b")])
    assert result.setpoints_a == {"a": 6, "b": 0}
    assert result.reasons == {"a": "grid_operator_cap", "b": "waiting_turn"}


def test_a_cap_below_one_charger_at_its_minimum_pauses_the_chargers_in_turn():
    """Two chargers, room for one at its minimum: they take turns instead of one charging all evening."""
    controller = Controller(
        ControllerSettings(turn_period_s=900, min_pause_s=0, resume_delay_s=0, increase_step_a=None, increase_interval_s=0)
    )
    limits = L(32, power_caps=(dimmed(0, 2),))
    chargers = [charger("a"), charger("b")]
    charging = []
    for now_s in (0, 899, 900, 1799, 1800):
        result = controller.step(limits, QUIET, chargers, now_s)
        assert violations(limits, QUIET, chargers, result) == []
        charging.append("".join(cid for cid, value in result.setpoints_a.items() if value))
        waiting = [cid for cid, value in result.setpoints_a.items() if not value]
        assert [result.reasons[cid] for cid in waiting] == ["waiting_turn"]
    assert charging == ["a", "a", "b", "b", "a"]


def test_a_guarantee_is_refused_when_negative_and_read_from_a_scenario():
    with pytest.raises(ScenarioError, match="^guaranteed_w: must be at least 0"):
        PowerCap(0, "box", "grid_operator_cap", guaranteed_w=-1)
    scenario = parse_scenario(
        {
            "limits": {
                "max_current_per_phase_a": 32,
                "power_caps": [{"power_w": 0, "source": "box", "reason": "grid_operator_cap", "guaranteed_w": 4200}],
            },
            "chargers": [{"id": "a", "max_current_a": 16}],
        }
    )
    assert allocate(scenario.limits, QUIET, scenario.chargers).setpoints_a == {"a": 6}
