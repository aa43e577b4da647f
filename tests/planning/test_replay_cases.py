"""What the replay answers for small sites whose outcome can be worked out by hand.

Numbers: 3 phases x 16 A x 230 V = 11 040 W. At 1-minute samples a vehicle's
first minute runs at its 6 A minimum (the controller resumes at the minimum),
from the second minute on it draws what it is allowed.
"""

from __future__ import annotations

import pytest

from balancing import ControllerSettings
from planning import replay

from .builders import at, charger, flat_load, phase_currents, plan, session

W_16A_3PH = 3 * 16 * 230
W_6A_3PH = 3 * 6 * 230

CASES = [
    # --- A vehicle alone -------------------------------------------------
    pytest.param(
        plan(flat_load(5, hours=6), [charger("cp1")], [session("cp1", "01:00", "05:00", 10)]),
        {"cp1": 10_000},
        {"complete": [True], "limited_minutes": 0, "bound_minutes": {"paced_increase": 1}},
        id="alone-with-room-gets-everything",
    ),
    pytest.param(
        plan(flat_load(5, hours=3), [charger("cp1")], [session("cp1", "01:00", "02:00", 50)]),
        {"cp1": W_6A_3PH / 60 + W_16A_3PH * 59 / 60},
        {"complete": [False], "limited_minutes": 0},
        id="leaves-early-gets-what-fits-in-its-stay",
    ),
    pytest.param(
        plan(
            flat_load(5, hours=3),
            [charger("cp1", 32)],
            [session("cp1", "01:00", "02:00", 50, vehicle_phases=1, vehicle_max_current_a=32)],
        ),
        # Paced at 2 A per 10 s: 6, 18, 30 A in the first three minutes, then 32 A.
        {"cp1": (6 + 18 + 30) * 230 / 60 + 32 * 230 * 57 / 60},
        {"complete": [False], "limited_minutes": 0, "bound_minutes": {"paced_increase": 3}},
        id="one-phase-vehicle-draws-on-one-phase",
    ),
    pytest.param(
        plan(flat_load(5, hours=3), [charger("cp1", 32)], [session("cp1", "01:00", "02:00", 50, vehicle_max_current_a=10)]),
        {"cp1": W_6A_3PH / 60 + 3 * 10 * 230 * 59 / 60},
        {"limited_minutes": 0, "bound_minutes": {"paced_increase": 1}},
        id="vehicle-maximum-below-charger-maximum-is-not-a-limit",
    ),
    # --- The installation's limits bind ------------------------------------
    pytest.param(
        plan(flat_load(30, hours=3), [charger("cp1")], [session("cp1", "01:00", "02:00", 50)]),
        {"cp1": W_6A_3PH / 60 + 3 * 10 * 230 * 59 / 60},
        {"limited_minutes": 60, "bound_minutes": {"limited_by_phase_L1": 60}, "peak_phase_current_a": (40, 40, 40)},
        id="fuse-leaves-10A-of-16",
    ),
    pytest.param(
        plan(flat_load(5, 45, 5, hours=3), [charger("cp1")], [session("cp1", "01:00", "02:00", 50)]),
        {"cp1": 0},
        {"bound_minutes": {"house_over_limit_L2": 60}, "house_over_limit_minutes": 180, "over_limit_minutes": 0},
        id="house-alone-over-the-fuse-pauses-a-three-phase-vehicle",
    ),
    pytest.param(
        plan(flat_load(5, 45, 5, hours=3), [charger("cp1", phases=1)], [session("cp1", "01:00", "02:00", 50)]),
        {"cp1": 6 * 230 / 60 + 16 * 230 * 59 / 60},
        {"bound_minutes": {"paced_increase": 1}, "over_limit_minutes": 0},
        id="one-phase-charger-on-l1-charges-while-l2-is-over",
    ),
    pytest.param(
        plan(flat_load(5, hours=3), [charger("cp1")], [session("cp1", "01:00", "02:00", 50)], fuse_a=63, max_power_w=7360),
        {"cp1": W_6A_3PH / 60 + 3 * 10.6 * 230 * 59 / 60},
        {"limited_minutes": 60, "bound_minutes": {"network_power": 60}},
        id="power-cap-leaves-10.6A-per-phase",
    ),
    # --- Several vehicles share ------------------------------------------
    pytest.param(
        plan(
            flat_load(30, hours=3),
            [charger("cp1", priority=1), charger("cp2")],
            [session("cp1", "01:00", "02:00", 50), session("cp2", "01:00", "02:00", 50)],
        ),
        {"cp1": W_6A_3PH / 60 + 3 * 10 * 230 * 59 / 60, "cp2": 0},
        {"bound_minutes": {"limited_by_phase_L1": 60, "priority": 60}},
        id="room-for-one-higher-priority-charges",
    ),
    pytest.param(
        plan(
            flat_load(10, hours=3),
            [charger("cp1"), charger("cp2", phase_rotation="L2L3L1")],
            [session("cp1", "01:00", "02:00", 50), session("cp2", "01:00", "02:00", 50)],
        ),
        {"cp1": W_6A_3PH / 60 + 3 * 15 * 230 * 59 / 60, "cp2": W_6A_3PH / 60 + 3 * 15 * 230 * 59 / 60},
        {"unmanaged_over_fuse_minutes": 60, "unmanaged_peak_phase_current_a": (42, 42, 42), "over_limit_minutes": 0},
        id="two-at-full-current-would-overload-the-fuse-managed-they-share",
    ),
]


@pytest.mark.parametrize(("the_plan", "delivered_wh", "expected"), CASES)
def test_replay(the_plan, delivered_wh, expected):
    result = replay(the_plan)
    got = {}
    for s in result.sessions:
        got[s.charger] = got.get(s.charger, 0) + s.energy_delivered_wh
    assert got == pytest.approx(delivered_wh, abs=0.5)
    network = result.network.to_dict()
    for key, value in expected.items():
        if key == "complete":
            assert [s.complete for s in result.sessions] == value
        elif key == "bound_minutes":
            assert network[key] == pytest.approx(value)
        else:
            assert network[key] == pytest.approx(list(value) if isinstance(value, tuple) else value), key


def test_vehicles_of_one_priority_take_turns_when_only_one_fits():
    the_plan = plan(
        flat_load(30, hours=4),
        [charger("cp1"), charger("cp2")],
        [session("cp1", "01:00", "03:00", 50), session("cp2", "01:00", "03:00", 50)],
        controller=ControllerSettings(turn_period_s=900),
    )
    first, second = replay(the_plan).sessions
    assert first.energy_delivered_wh > 0 and second.energy_delivered_wh > 0
    # Two hours of 10 A shared in 15-minute turns: each gets about half.
    assert first.energy_delivered_wh == pytest.approx(second.energy_delivered_wh, rel=0.2)
    assert first.energy_delivered_wh + second.energy_delivered_wh <= 3 * 10 * 230 * 2


def test_a_complete_session_records_when_it_finished():
    the_plan = plan(flat_load(5, hours=6), [charger("cp1")], [session("cp1", "01:00", "05:00", 11.04)])
    (result,) = replay(the_plan).sessions
    assert result.complete
    # One minute at 6 A, then 16 A: 11.04 kWh takes 1 h plus the 40 s the first minute lacked.
    assert (result.completed_at - at("01:00")).total_seconds() == pytest.approx(3600 + 37.5, abs=1)


def test_a_vehicle_arriving_between_samples_starts_at_the_next_one():
    the_plan = plan(flat_load(5, hours=2, resolution_s=300), [charger("cp1")], [session("cp1", "00:12", "01:00", 50)])
    seen = []
    replay(the_plan, observe=lambda step: seen.append((step.t_s, step.drawing)))
    drawing_from_s = min(t_s for t_s, drawing in seen if drawing)
    assert drawing_from_s == 15 * 60


def test_the_house_load_is_replayed_per_sample_with_the_vehicles_on_top():
    load = flat_load(20, hours=1)
    the_plan = plan(load, [charger("cp1", phases=1, phase_rotation="L3L1L2")], [session("cp1", "00:00", "01:00", 50)])
    steps = []
    replay(the_plan, observe=steps.append)
    # A one-phase charger rotated L3L1L2 loads grid L3 only.
    currents = [phase_currents(step, the_plan) for step in steps[5:]]
    assert {tuple(c) for c in currents} == {(20, 20, 36)}
