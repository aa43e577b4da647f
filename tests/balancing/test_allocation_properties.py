"""Safety and fairness invariants of ``allocate`` over random networks of up to 50 chargers."""

from __future__ import annotations

from hypothesis import given, settings

from balancing import allocate
from balancing.phases import drawn_grid_phases

from .builders import TOLERANCE_A, unused_capacity, violations
from .strategies import networks

# The suite-wide profile decides how many examples; per-example deadlines
# would only measure the CI machine's mood.
PROPERTIES = settings(deadline=None)


@PROPERTIES
@given(networks())
def test_every_limit_holds_and_every_setpoint_is_valid(network):
    limits, measurement, chargers = network
    result = allocate(limits, measurement, chargers)
    assert violations(limits, measurement, chargers, result) == []
    # Headroom needs the house load, which is unknown in fallback.
    assert (result.headroom_a is None) == (result.mode == "fallback")


@PROPERTIES
@given(networks())
def test_no_capacity_is_left_unused(network):
    limits, measurement, chargers = network
    result = allocate(limits, measurement, chargers)
    assert unused_capacity(limits, measurement, chargers, result) == []


@PROPERTIES
@given(networks(unbalance=False))
def test_equal_chargers_of_equal_priority_get_equal_current(network):
    limits, measurement, chargers = network
    result = allocate(limits, measurement, chargers)
    step = limits.current_step_a
    running = [c for c in chargers if result.setpoints_a[c.id] > 0]
    for mine in running:
        for other in running:
            alike = (mine.priority, mine.min_current_a, mine.sub_circuit, drawn_grid_phases(mine)) == (
                other.priority,
                other.min_current_a,
                other.sub_circuit,
                drawn_grid_phases(other),
            )
            if alike and result.setpoints_a[mine.id] < result.setpoints_a[other.id] - step - TOLERANCE_A:
                assert result.reasons[mine.id] == "at_max", (mine.id, other.id, result)


@PROPERTIES
@given(networks(max_chargers=12))
def test_the_same_input_gives_the_same_answer(network):
    limits, measurement, chargers = network
    assert allocate(limits, measurement, chargers) == allocate(limits, measurement, list(chargers))
