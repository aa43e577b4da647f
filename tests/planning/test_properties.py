"""Promises of the replay over random sites: safe, monotone in capacity and load, reproducible."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planning import PlanLimits, SessionProfile, replay

from .builders import phase_currents
from .strategies import chargers, plans, sessions_for

# Each example replays a few hundred controller steps; the suite runs on 2 shared cores.
PROPERTIES = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
TOLERANCE_A = 1e-6


@PROPERTIES
@given(plans())
def test_the_replay_never_exceeds_a_limit(plan):
    fuse_a = plan.limits.max_current_per_phase_a
    voltage_v = plan.limits.nominal_voltage_v
    broken = []

    def check(step):
        current = phase_currents(step, plan)
        for p in range(3):
            chargers_a = current[p] - step.house_a[p]
            if step.house_a[p] > fuse_a[p]:
                if chargers_a > TOLERANCE_A:
                    broken.append((step.t_s, f"chargers add {chargers_a} A on L{p + 1}, whose house load is over the fuse"))
            elif current[p] > fuse_a[p] + TOLERANCE_A:
                broken.append((step.t_s, f"L{p + 1} at {current[p]} A over the {fuse_a[p]} A fuse"))
        power_w = sum(draw * len(phases) * voltage_v for _, draw, phases in step.drawing)
        if plan.limits.max_power_w is not None and power_w > plan.limits.max_power_w + 1e-6:
            broken.append((step.t_s, f"{power_w} W over the {plan.limits.max_power_w} W cap"))

    result = replay(plan, observe=check)
    assert broken == []
    assert result.network.over_limit_minutes == 0
    for session in result.sessions:
        assert 0 <= session.energy_delivered_wh <= session.energy_wanted_wh + 0.01


@PROPERTIES
@given(plans(max_chargers=3), st.data())
def test_adding_a_charger_never_makes_a_limit_bind_less(plan, data):
    (extra,) = data.draw(chargers(1, prefix="new"))
    extra = replace(extra, hypothetical=True)
    extra_sessions = data.draw(sessions_for(extra.id, plan.load))
    bigger = replace(plan, chargers=(*plan.chargers, extra), sessions=(*plan.sessions, *extra_sessions))
    before, after = replay(plan).network, replay(bigger).network
    assert after.limited_minutes >= before.limited_minutes
    assert after.unmanaged_over_fuse_minutes >= before.unmanaged_over_fuse_minutes


@PROPERTIES
@given(plans(), st.sampled_from([5, 10, 25]))
def test_a_larger_fuse_never_lowers_the_energy_delivered(plan, more_a):
    fuse_a = plan.limits.max_current_per_phase_a
    larger = replace(plan, limits=replace(plan.limits, max_current_per_phase_a=tuple(a + more_a for a in fuse_a)))
    assert replay(larger).network.energy_delivered_wh >= replay(plan).network.energy_delivered_wh - 0.01


@PROPERTIES
@given(plans(), st.integers(0, 1000))
def test_a_replay_is_deterministic_for_a_seed(plan, seed):
    profiled = replace(plan, sessions=(), profile=SessionProfile(seed=seed, arrival_window=("00:30", "01:00"), departure_window=("02:00", "02:30")))
    assert replay(profiled).to_dict() == replay(profiled).to_dict()
    assert replay(plan).to_dict() == replay(plan).to_dict()


@PROPERTIES
@given(plans())
def test_skipping_steps_whose_answer_is_known_changes_nothing(plan):
    assert replay(plan).to_dict() == replay(plan, shortcuts=False).to_dict()


def test_limits_keep_their_own_type():
    # PlanLimits normalises like NetworkLimits: one number stands for three phases.
    assert PlanLimits(35).max_current_per_phase_a == (35.0, 35.0, 35.0)
