"""What ``allocate`` answers in the situations the product promises to handle, one table per concern."""

from __future__ import annotations

import pytest

from balancing import NetworkLimits, SubCircuit, allocate

from .builders import charger, grid, violations

L = NetworkLimits
QUIET = grid(0, 0, 0)


def case(limits, measurement, chargers, setpoints, reasons, id):
    """One row: the expected setpoint (A) and reason code for each charger, by id."""
    return pytest.param(limits, measurement, chargers, setpoints, reasons, id=id)


# One row per situation reads as a table; keep the formatter away from it.
# fmt: off
CASES = [
    # Phase rotation: a charger's phase 1 lands on the grid phase its rotation names.
    case(L(32), grid(20, 0, 0), [charger("a", phases=1)], {"a": 12}, {"a": "limited_by_phase_L1"}, id="rotation-L1L2L3-1-phase-on-L1"),
    case(L(32), grid(20, 0, 0), [charger("a", phases=1, phase_rotation="L2L3L1")], {"a": 16}, {"a": "at_max"}, id="rotation-L2L3L1-1-phase-on-L2"),
    case(L(32), grid(0, 0, 28), [charger("a", phases=1, phase_rotation="L3L1L2")], {"a": 0}, {"a": "limited_by_phase_L3"}, id="rotation-L3L1L2-1-phase-on-L3-below-minimum"),
    case(L(32), grid(0, 30, 0), [charger("a", phase_rotation="L3L1L2", current_a=(10, 10, 0))], {"a": 16}, {"a": "at_max"}, id="rotation-L3L1L2-vehicle-on-L3-and-L1-ignores-L2"),
    case(L(32), grid(0, 18, 0), [charger("a", phase_rotation="L2L3L1", max_current_a=32)], {"a": 14}, {"a": "limited_by_phase_L2"}, id="rotation-3-phase-limited-by-busiest-phase"),
    # 1-phase vehicles on 3-phase chargers: only the phases drawn count, for limits and for power.
    case(L(32), grid(0, 30, 0), [charger("a", current_a=(8, 0, 0))], {"a": 16}, {"a": "at_max"}, id="1-phase-vehicle-not-held-by-other-phases"),
    case(L(32), grid(0, 30, 0), [charger("a")], {"a": 0}, {"a": "limited_by_phase_L2"}, id="vehicle-not-drawing-yet-counts-on-all-phases"),
    case(L(32, max_power_w=2300), QUIET, [charger("a", current_a=(8, 0, 0))], {"a": 10}, {"a": "network_power"}, id="1-phase-vehicle-power-counts-one-phase"),
    case(L(32), grid(20, 0, 0), [charger("a", current_a=(0.5, 7, 7))], {"a": 16}, {"a": "at_max"}, id="below-1-A-is-not-drawing"),
    case(L(32), grid(20, 0, 0), [charger("a", phases=1, phase_rotation="L2L3L1", current_a=(0, 30, 30))], {"a": 16}, {"a": "at_max"}, id="unwired-phase-readings-are-noise"),
    # Export: negative grid current gives headroom, but only as much as the grid meter shows.
    case(L(20), grid(-10, -10, -10), [charger("a", max_current_a=32)], {"a": 30}, {"a": "limited_by_phase_L1"}, id="export-gives-headroom"),
    case(L(20), grid(-5, -5, -5), [charger("a", max_current_a=32, current_a=(10, 10, 10))], {"a": 25}, {"a": "limited_by_phase_L1"}, id="export-credited-up-to-grid-reading"),
    case(L(20), grid(6, 6, 6), [charger("a", max_current_a=32, current_a=(16, 16, 16))], {"a": 20}, {"a": "limited_by_phase_L1"}, id="charger-reading-never-makes-house-negative"),
    case(L(32), grid(26, 26, 26), [charger("a", max_current_a=32, current_a=(16, 16, 16), setpoint_a=10)], {"a": 16}, {"a": "limited_by_phase_L1"}, id="reading-above-setpoint-counts-as-house"),
    # Power cap binding before the phase limit.
    case(L(32, max_power_w=11040), QUIET, [charger("a"), charger("b")], {"a": 8, "b": 8}, {"a": "network_power", "b": "network_power"}, id="power-cap-shared-equally"),
    case(L(32, max_power_w=6900), QUIET, [charger("a"), charger("b", phases=1)], {"a": 7.5, "b": 7.5}, {"a": "network_power", "b": "network_power"}, id="power-cap-equal-amps-3-and-1-phase"),
    case(L(32, max_power_w=3000), QUIET, [charger("a"), charger("b")], {"a": 0, "b": 0}, {"a": "network_power", "b": "network_power"}, id="power-cap-below-one-minimum"),
    case(L(32, max_power_w=50000), grid(20, 20, 20), [charger("a", max_current_a=32)], {"a": 12}, {"a": "limited_by_phase_L1"}, id="phase-limit-binds-before-power"),
    # House load alone above the limit: chargers on that phase stop, others go on.
    case(
        L(32),
        grid(40, 5, 5),
        [charger("a", phases=1), charger("b"), charger("c", phases=1, phase_rotation="L2L3L1")],
        {"a": 0, "b": 0, "c": 16},
        {"a": "house_over_limit_L1", "b": "house_over_limit_L1", "c": "at_max"},
        id="house-over-limit-on-L1",
    ),
    case(L((32, 25, 20)), grid(10, 10, 21), [charger("a")], {"a": 0}, {"a": "house_over_limit_L3"}, id="house-over-the-smallest-breaker"),
    # Fallback: no or stale grid reading.
    case(L(32, fallback_power_w=0), None, [charger("a"), charger("b")], {"a": 0, "b": 0}, {"a": "fallback_zero", "b": "fallback_zero"}, id="fallback-zero-pauses-all"),
    case(L(32, fallback_power_w=None), None, [charger("a")], {"a": 0}, {"a": "fallback_zero"}, id="fallback-null-pauses-all"),
    case(L(32, fallback_power_w=8280), None, [charger("a"), charger("b")], {"a": 6, "b": 6}, {"a": "fallback", "b": "fallback"}, id="fallback-power-shared"),
    case(L(32, fallback_power_w=4140), None, [charger("a"), charger("b")], {"a": 6, "b": 0}, {"a": "fallback", "b": "waiting_turn"}, id="fallback-power-for-one"),
    case(L(32, fallback_power_w=4140), grid(0, 0, 0, age_s=10), [charger("a")], {"a": 6}, {"a": "fallback"}, id="stale-reading-is-fallback"),
    case(L(32, max_power_w=4140, fallback_power_w=11000), None, [charger("a")], {"a": 6}, {"a": "network_power"}, id="fallback-never-above-power-cap"),
    case(L(10, fallback_power_w=22000), None, [charger("a")], {"a": 10}, {"a": "limited_by_phase_L1"}, id="fallback-keeps-phase-limit-on-chargers"),
    # Priorities: higher first, the lower ones take what is left.
    case(L(20), QUIET, [charger("low"), charger("high", priority=1)], {"low": 0, "high": 16}, {"low": "priority", "high": "at_max"}, id="priority-takes-all"),
    case(L(25), QUIET, [charger("low"), charger("high", priority=1)], {"low": 9, "high": 16}, {"low": "limited_by_phase_L1", "high": "at_max"}, id="priority-leaves-the-rest"),
    case(L(32), QUIET, [charger("low"), charger("high", priority=1)], {"low": 16, "high": 16}, {"low": "at_max", "high": "at_max"}, id="priority-irrelevant-with-room"),
    # Starvation and turn-taking: when not all get the minimum, some wait.
    case(L(14), QUIET, [charger("a"), charger("b"), charger("c")], {"a": 7, "b": 7, "c": 0}, {"a": "limited_by_phase_L1", "b": "limited_by_phase_L1", "c": "waiting_turn"}, id="two-of-three-charge"),
    case(L(5), QUIET, [charger("a"), charger("b")], {"a": 0, "b": 0}, {"a": "limited_by_phase_L1", "b": "limited_by_phase_L1"}, id="none-fits-even-alone"),
    case(L(13), QUIET, [charger("a"), charger("b", phases=1)], {"a": 6.5, "b": 6.5}, {"a": "limited_by_phase_L1", "b": "limited_by_phase_L1"}, id="1-phase-fits-beside-3-phase"),
    # Equal share.
    case(L(32), grid(2, 2, 2), [charger("a"), charger("b"), charger("c")], {"a": 10, "b": 10, "c": 10}, {"a": "limited_by_phase_L1", "b": "limited_by_phase_L1", "c": "limited_by_phase_L1"}, id="equal-share"),
    case(L(40), QUIET, [charger("a", max_current_a=8), charger("b"), charger("c", max_current_a=32)], {"a": 8, "b": 16, "c": 16}, {"a": "at_max", "b": "at_max", "c": "limited_by_phase_L1"}, id="equal-share-after-small-maxima"),
    case(L(20), QUIET, [charger("a"), charger("b"), charger("c")], {"a": 6.7, "b": 6.7, "c": 6.6}, {"a": "limited_by_phase_L1", "b": "limited_by_phase_L1", "c": "limited_by_phase_L1"}, id="remainder-step-by-step"),
    case(L(32), QUIET, [charger("a", min_current_a=10), charger("b")], {"a": 16, "b": 16}, {"a": "at_max", "b": "at_max"}, id="higher-minimum"),
    case(L(18), QUIET, [charger("a", min_current_a=10), charger("b")], {"a": 10, "b": 8}, {"a": "limited_by_phase_L1", "b": "limited_by_phase_L1"}, id="higher-minimum-rises-last"),
    # Breaker ratings per phase.
    case(L((32, 25, 20)), QUIET, [charger("a", max_current_a=32)], {"a": 20}, {"a": "limited_by_phase_L3"}, id="per-phase-ratings"),
    case(L((32, 25, 20)), QUIET, [charger("a", max_current_a=32, phases=1, phase_rotation="L3L1L2"), charger("b", max_current_a=32, phases=1)], {"a": 20, "b": 32}, {"a": "limited_by_phase_L3", "b": "at_max"}, id="per-phase-ratings-1-phase"),
    # Unbalanced-load limit on the chargers' own currents.
    case(L(63, max_unbalance_a=20), QUIET, [charger("a", max_current_a=32, phases=1)], {"a": 20}, {"a": "unbalance_limit"}, id="unbalance-caps-1-phase"),
    case(
        L(63, max_unbalance_a=20),
        QUIET,
        [charger("a", max_current_a=32, phases=1), charger("b", max_current_a=32, phases=1, phase_rotation="L2L3L1"), charger("c", max_current_a=32, phases=1, phase_rotation="L3L1L2")],
        {"a": 32, "b": 32, "c": 32},
        {"a": "at_max", "b": "at_max", "c": "at_max"},
        id="unbalance-balanced-1-phase-chargers",
    ),
    case(L(63, max_unbalance_a=20), QUIET, [charger("a", max_current_a=32)], {"a": 32}, {"a": "at_max"}, id="unbalance-ignores-3-phase"),
    case(L(63, max_unbalance_a=4), QUIET, [charger("a", phases=1)], {"a": 0}, {"a": "unbalance_limit"}, id="unbalance-below-minimum"),
    # Sub-circuits: their own per-phase limit on their chargers.
    case(
        L(63, sub_circuits=(SubCircuit("deck", 16),)),
        QUIET,
        [charger("a", sub_circuit="deck"), charger("b", sub_circuit="deck"), charger("c")],
        {"a": 8, "b": 8, "c": 16},
        {"a": "sub_circuit:deck", "b": "sub_circuit:deck", "c": "at_max"},
        id="sub-circuit-limit",
    ),
    case(L(63, sub_circuits=(SubCircuit("deck", (32, 32, 5)),)), QUIET, [charger("a", sub_circuit="deck")], {"a": 0}, {"a": "sub_circuit:deck"}, id="sub-circuit-below-minimum"),
    # Inactive chargers, the setpoint step and chargers that cannot be set at all.
    case(L(32), QUIET, [charger("a", active=False, current_a=(3, 3, 3)), charger("b")], {"a": 0, "b": 16}, {"a": "inactive", "b": "at_max"}, id="inactive-gets-zero"),
    case(L(10.05), QUIET, [charger("a")], {"a": 10}, {"a": "limited_by_phase_L1"}, id="step-rounds-down"),
    case(L(32, current_step_a=1), QUIET, [charger("a", min_current_a=6.3, max_current_a=6.8)], {"a": 0}, {"a": "no_valid_setpoint"}, id="no-step-between-min-and-max"),
    case(L(32), QUIET, [], {}, {}, id="no-chargers"),
]
# fmt: on


@pytest.mark.parametrize(("limits", "measurement", "chargers", "setpoints", "reasons"), CASES)
def test_allocation(limits, measurement, chargers, setpoints, reasons):
    result = allocate(limits, measurement, chargers)
    assert result.setpoints_a == pytest.approx(setpoints)
    assert result.reasons == reasons
    assert violations(limits, measurement, chargers, result) == []


HEADROOM = [
    # headroom = limit - house - allocated charger current, per grid phase
    pytest.param(L(32), grid(20, 0, 0), [charger("a", phases=1)], (0.0, 32.0, 32.0), id="consumed-on-L1"),
    pytest.param(L(32), grid(40, 5, 5), [charger("a")], (-8.0, 27.0, 27.0), id="negative-when-house-over"),
    pytest.param(L(20), grid(-10, 0, 0), [], (30.0, 20.0, 20.0), id="export"),
    pytest.param(L(32, fallback_power_w=4000), None, [charger("a")], None, id="unknown-in-fallback"),
]


@pytest.mark.parametrize(("limits", "measurement", "chargers", "headroom"), HEADROOM)
def test_headroom(limits, measurement, chargers, headroom):
    assert allocate(limits, measurement, chargers).headroom_a == headroom


TURN_ORDER = [
    # turn_order picks who charges when not everyone can
    pytest.param(["c", "a"], {"a": 7, "b": 0, "c": 7}, id="listed-first"),
    pytest.param(["b"], {"a": 7, "b": 7, "c": 0}, id="unlisted-follow-in-input-order"),
    pytest.param(["unknown", "c"], {"a": 7, "b": 0, "c": 7}, id="unknown-ids-ignored"),
]


@pytest.mark.parametrize(("turn_order", "setpoints"), TURN_ORDER)
def test_turn_order_decides_who_waits(turn_order, setpoints):
    result = allocate(L(14), QUIET, [charger("a"), charger("b"), charger("c")], turn_order=turn_order)
    assert result.setpoints_a == setpoints


def test_priority_beats_turn_order():
    result = allocate(L(14), QUIET, [charger("a"), charger("b", priority=1), charger("c")], turn_order=["a", "c"])
    assert result.setpoints_a == {"a": 0, "b": 14, "c": 0}


def test_thousand_chargers_are_shared_fairly():
    chargers = [charger(f"cp{i}", phases=1 if i % 2 else 3) for i in range(1000)]
    result = allocate(L(400), QUIET, chargers)
    running = {value for value in result.setpoints_a.values() if value}
    assert running and max(running) - min(running) <= 0.1 + 1e-9
    assert violations(L(400), QUIET, chargers, result) == []
