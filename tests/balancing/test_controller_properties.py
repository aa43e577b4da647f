"""The Controller never answers above the safe allocation, over random sequences of cycles."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from balancing import Controller, ControllerSettings, GridMeasurement

from .builders import TOLERANCE_A, violations
from .strategies import charger_states, network_limits

PROPERTIES = settings(deadline=None)

controller_settings = st.builds(
    ControllerSettings,
    increase_interval_s=st.sampled_from([0, 5, 10]),
    increase_step_a=st.sampled_from([None, 1, 2, 6]),
    min_pause_s=st.sampled_from([0, 30, 60]),
    resume_delay_s=st.sampled_from([0, 5, 10]),
    turn_period_s=st.sampled_from([1, 60, 900]),
)


@st.composite
def cycles(draw):
    """Limits, settings and 1-12 cycles of (elapsed_s, grid, chargers) for up to 12 chargers.

    The chargers are drawn once; each cycle changes what varies in the field:
    which vehicles are connected, what they draw, and the grid reading.
    """
    limits = draw(network_limits())
    circuits = tuple(circuit.id for circuit in limits.sub_circuits)
    chargers = [draw(charger_states(f"cp{i}", circuits)) for i in range(draw(st.integers(0, 12)))]
    grid_current = st.floats(-30, 90).map(lambda x: round(x, 1))
    drawn_a = st.sampled_from([0.0, 0.0, 6.0, 10.0, 16.0, 24.5])
    steps = []
    for _ in range(draw(st.integers(1, 12))):
        changes = draw(
            st.lists(st.tuples(st.booleans(), drawn_a, drawn_a, drawn_a), min_size=len(chargers), max_size=len(chargers))
        )
        chargers = [
            replace(state, active=active, current_a=(l1, l2, l3))
            for state, (active, l1, l2, l3) in zip(chargers, changes, strict=True)
        ]
        measurement = draw(st.one_of(st.none(), st.builds(GridMeasurement, st.tuples(grid_current, grid_current, grid_current))))
        steps.append((draw(st.sampled_from([0, 1, 5, 10, 61, 900])), measurement, chargers))
    return limits, draw(controller_settings), steps


@PROPERTIES
@given(cycles())
def test_controller_stays_within_the_safe_allocation_and_every_limit(scenario):
    limits, controller_settings_, steps = scenario
    controller = Controller(controller_settings_)
    now_s = 0.0
    for elapsed_s, measurement, chargers in steps:
        now_s += elapsed_s
        result = controller.step(limits, measurement, chargers, now_s)
        safe = controller.last_safe
        for state in chargers:
            assert result.setpoints_a[state.id] <= safe.setpoints_a[state.id] + TOLERANCE_A, (state.id, result, safe)
        assert violations(limits, measurement, chargers, result) == []
        assert set(controller.turn_order) == {state.id for state in chargers if state.active}
