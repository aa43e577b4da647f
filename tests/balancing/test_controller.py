"""How the Controller shapes safe allocations in time: pacing, hysteresis, turn-taking."""

from __future__ import annotations

import pytest

from balancing import Controller, ControllerSettings, NetworkLimits, ScenarioError

from .builders import charger, grid, violations

QUIET = grid(0, 0, 0)
IMMEDIATE = ControllerSettings(increase_interval_s=0, increase_step_a=None, min_pause_s=0, resume_delay_s=0)


def run(controller, limits, steps):
    """Feed (now_s, grid, chargers) steps; return the setpoints (and reasons) after each."""
    answers = []
    for now_s, measurement, chargers in steps:
        result = controller.step(limits, measurement, chargers, now_s)
        assert violations(limits, measurement, chargers, result) == []
        answers.append(result)
    return answers


def test_decreases_apply_in_the_same_cycle():
    controller = Controller(ControllerSettings())
    drawing = [charger("a", current_a=(16, 16, 16))]
    first, second = run(controller, NetworkLimits(32), [(0, grid(20, 20, 20), drawing), (1, grid(36, 36, 36), drawing)])
    assert first.setpoints_a == {"a": 16}
    assert second.setpoints_a == {"a": 12}


PACING = [
    # (now_s, expected setpoint) with a 2 A step at most every 10 s towards the safe 16 A
    pytest.param([(0, 8), (5, 8), (9.9, 8), (10, 10), (20, 12), (30, 14), (40, 16), (50, 16)], id="one-step-per-interval"),
    pytest.param([(0, 8), (100, 10), (100.5, 10), (110.5, 12)], id="a-long-gap-allows-one-step-only"),
]


@pytest.mark.parametrize("timeline", PACING)
def test_increases_are_paced(timeline):
    controller = Controller(ControllerSettings(increase_interval_s=10, increase_step_a=2))
    chargers = [charger("a", current_a=(6, 6, 6))]
    for now_s, expected in timeline:
        result = controller.step(NetworkLimits(32), QUIET, chargers, now_s)
        assert result.setpoints_a["a"] == pytest.approx(expected), now_s
        assert result.reasons["a"] == ("at_max" if expected == 16 else "paced_increase")


def test_pacing_without_a_step_size_jumps_once_per_interval():
    controller = Controller(ControllerSettings(increase_interval_s=10, increase_step_a=None))
    chargers = [charger("a", max_current_a=32, current_a=(6, 6, 6))]
    timeline = [(0, grid(26, 26, 26)), (1, grid(6, 6, 6)), (9.9, grid(6, 6, 6)), (10, grid(6, 6, 6))]
    answers = run(controller, NetworkLimits(32), [(t, g, chargers) for t, g in timeline])
    assert [answer.setpoints_a["a"] for answer in answers] == [12, 12, 12, 32]


def test_a_new_vehicle_waits_the_resume_delay():
    controller = Controller(ControllerSettings(resume_delay_s=10, min_pause_s=60, increase_step_a=None, increase_interval_s=0))
    chargers = [charger("a")]
    answers = run(controller, NetworkLimits(32), [(t, QUIET, chargers) for t in (0, 5, 10, 11)])
    assert [answer.setpoints_a["a"] for answer in answers] == [0, 0, 16, 16]
    assert answers[0].reasons["a"] == "resume_pending"


def test_a_paused_charger_stays_paused_for_the_minimum_pause():
    controller = Controller(ControllerSettings(resume_delay_s=5, min_pause_s=60))
    chargers = [charger("a", current_a=(10, 10, 10))]
    timeline = [
        (0, grid(20, 20, 20)),
        (1, grid(45, 45, 45)),
        (2, grid(10, 10, 10)),
        (30, grid(10, 10, 10)),
        (61, grid(10, 10, 10)),
    ]
    answers = run(controller, NetworkLimits(32), [(t, g, chargers) for t, g in timeline])
    assert [answer.setpoints_a["a"] for answer in answers] == [12, 0, 0, 0, 6]
    assert [answer.reasons["a"] for answer in answers[1:4]] == ["house_over_limit_L1", "resume_pending", "resume_pending"]


def test_a_flickering_offer_restarts_the_resume_delay():
    controller = Controller(ControllerSettings(resume_delay_s=10, min_pause_s=0, increase_step_a=None, increase_interval_s=0))
    chargers = [charger("a")]
    timeline = [(0, QUIET), (8, grid(30, 30, 30)), (9, QUIET), (18, QUIET), (19, QUIET)]
    answers = run(controller, NetworkLimits(32), [(t, g, chargers) for t, g in timeline])
    assert [answer.setpoints_a["a"] for answer in answers] == [0, 0, 0, 0, 16]


def test_chargers_of_one_priority_take_turns():
    controller = Controller(
        ControllerSettings(turn_period_s=900, min_pause_s=0, resume_delay_s=0, increase_step_a=None, increase_interval_s=0)
    )
    chargers = [charger("a"), charger("b"), charger("c")]
    limits = NetworkLimits(14)
    charging = []
    for now_s in (0, 899, 900, 1799, 1800, 2700):
        result = controller.step(limits, QUIET, chargers, now_s)
        charging.append("".join(sorted(cid for cid, value in result.setpoints_a.items() if value)))
        assert violations(limits, QUIET, chargers, result) == []
    assert charging == ["ab", "ab", "ac", "ac", "bc", "ab"]


def test_waiting_reason_and_no_rotation_without_contention():
    controller = Controller(
        ControllerSettings(turn_period_s=10, min_pause_s=0, resume_delay_s=0, increase_step_a=None, increase_interval_s=0)
    )
    chargers = [charger("a"), charger("b")]
    for now_s in (0, 20, 40):
        assert controller.step(NetworkLimits(32), QUIET, chargers, now_s).setpoints_a == {"a": 16, "b": 16}
    assert controller.turn_order == ("a", "b")


def test_a_charger_that_leaves_rejoins_at_the_back_of_the_queue():
    controller = Controller(IMMEDIATE)
    limits = NetworkLimits(14)
    controller.step(limits, QUIET, [charger("a"), charger("b"), charger("c")], 0)
    controller.step(limits, QUIET, [charger("a", active=False), charger("b"), charger("c")], 1)
    result = controller.step(limits, QUIET, [charger("a"), charger("b"), charger("c")], 2)
    assert controller.turn_order == ("b", "c", "a")
    assert result.setpoints_a == {"a": 0, "b": 7, "c": 7}


def test_holding_one_charger_back_never_breaks_the_unbalance_limit():
    controller = Controller(ControllerSettings(resume_delay_s=30, min_pause_s=0))
    limits = NetworkLimits(32, max_unbalance_a=10)
    chargers = [
        charger("a", phases=1, max_current_a=32, current_a=(32, 0, 0)),
        charger("b", phases=1, max_current_a=32, phase_rotation="L2L3L1"),
        charger("c", phases=1, max_current_a=32, phase_rotation="L3L1L2"),
    ]
    result = controller.step(limits, grid(32, 0, 0), chargers, 0)
    assert controller.last_safe.setpoints_a == {"a": 32, "b": 32, "c": 32}
    assert result.setpoints_a == {"a": 10, "b": 0, "c": 0}
    assert result.reasons == {"a": "unbalance_limit", "b": "resume_pending", "c": "resume_pending"}


def test_fallback_passes_through_with_its_mode():
    controller = Controller(IMMEDIATE)
    result = controller.step(NetworkLimits(32, fallback_power_w=0), None, [charger("a", current_a=(10, 10, 10))], 0)
    assert (result.mode, result.setpoints_a, result.reasons, result.headroom_a) == (
        "fallback",
        {"a": 0},
        {"a": "fallback_zero"},
        None,
    )


def test_headroom_reflects_what_the_controller_set():
    controller = Controller(ControllerSettings(increase_interval_s=10, increase_step_a=2))
    result = controller.step(NetworkLimits(32), QUIET, [charger("a", current_a=(6, 6, 6))], 0)
    assert result.setpoints_a == {"a": 8}
    assert result.headroom_a == (24, 24, 24)


def test_the_controller_counts_a_charger_only_up_to_what_it_allowed():
    controller = Controller(IMMEDIATE)
    limits = NetworkLimits(32)
    controller.step(limits, grid(36, 36, 36), [charger("a", current_a=(16, 16, 16))], 0)
    # Told 12 A, the charger still reads 16 A: the extra 4 A count as house load.
    result = controller.step(limits, grid(36, 36, 36), [charger("a", current_a=(16, 16, 16))], 1)
    assert result.house_current_a == (24, 24, 24)
    assert result.setpoints_a == {"a": 8}


@pytest.mark.parametrize("now_s", [float("nan"), float("inf"), "1", True])
def test_time_must_be_a_finite_number(now_s):
    with pytest.raises(ScenarioError, match="now_s"):
        Controller().step(NetworkLimits(32), QUIET, [], now_s)


def test_time_must_not_go_backwards():
    controller = Controller()
    controller.step(NetworkLimits(32), QUIET, [], 10)
    with pytest.raises(ScenarioError, match="now_s: went backwards"):
        controller.step(NetworkLimits(32), QUIET, [], 9)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"increase_interval_s": -1}, "increase_interval_s"),
        ({"increase_step_a": 0}, "increase_step_a"),
        ({"min_pause_s": float("nan")}, "min_pause_s"),
        ({"turn_period_s": 0}, "turn_period_s"),
    ],
)
def test_settings_are_validated(fields, field):
    with pytest.raises(ScenarioError, match=f"^{field}:"):
        ControllerSettings(**fields)


def test_capacity_flickering_around_the_minimum_does_not_chatter():
    controller = Controller(ControllerSettings(min_pause_s=60, resume_delay_s=5, increase_step_a=None, increase_interval_s=0))
    limits = NetworkLimits(32)
    switches, previous = 0, None
    for second in range(600):
        # House load alternates every 10 s between leaving 5 A and 7 A for the charger.
        house_a = 27 if (second // 10) % 2 else 25
        value = controller.step(limits, grid(house_a, house_a, house_a), [charger("a")], second).setpoints_a["a"]
        if previous is not None and (value > 0) != (previous > 0):
            switches += 1
        previous = value
    assert 2 <= switches <= 2 * (600 // 60)
