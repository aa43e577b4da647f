"""Hypothesis strategies for plans: a few hours of noisy house load, a few chargers, sessions on them."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import timedelta

from hypothesis import strategies as st

from balancing import PHASE_ROTATIONS, ControllerSettings
from planning import HouseLoad, Plan, PlanLimits, PlannedCharger, Session

from .builders import START

controller_settings = st.sampled_from(
    [
        ControllerSettings(),
        ControllerSettings(increase_interval_s=0, increase_step_a=None, min_pause_s=0, resume_delay_s=0, turn_period_s=300),
        ControllerSettings(increase_interval_s=30, increase_step_a=1, min_pause_s=300, resume_delay_s=120, turn_period_s=600),
    ]
)


@st.composite
def house_loads(draw) -> HouseLoad:
    """Three (1-minute) or six (5-minute) hours, or 15 raw minutes (1 s), of house load: levels, noise, spikes."""
    resolution_s = draw(st.sampled_from([60, 300, 1]))
    steps = {60: 180, 300: 72, 1: 900}[resolution_s]
    levels = draw(st.tuples(*[st.floats(-5, 45).map(lambda x: round(x, 1))] * 3))
    rng = random.Random(draw(st.integers(0, 2**16)))
    samples = tuple(
        tuple(round(level + rng.uniform(-3, 3) + (rng.random() < 0.03) * rng.uniform(0, 20), 1) for level in levels)
        for _ in range(steps)
    )
    return HouseLoad(START, resolution_s, samples)


def chargers(count: int, prefix: str = "cp"):
    """``count`` chargers of mixed wiring, size and priority."""
    one = st.builds(
        lambda i, phases, rotation, max_a, priority: PlannedCharger(
            f"{prefix}{i}", max_a, phases=phases, phase_rotation=rotation, priority=priority
        ),
        st.just(0),
        st.sampled_from([1, 3, 3, 2]),
        st.sampled_from(PHASE_ROTATIONS),
        st.sampled_from([16, 16, 32, 10]),
        st.sampled_from([0, 0, 0, 1]),
    )
    return st.lists(one, min_size=count, max_size=count).map(
        lambda items: tuple(replace(c, id=f"{prefix}{i}") for i, c in enumerate(items))
    )


@st.composite
def sessions_for(draw, charger_id: str, load: HouseLoad) -> list[Session]:
    """Zero to two non-overlapping sessions on one charger, inside the series."""
    total_s = int(load.duration_s)
    sessions = []
    begin_s = 0
    for _ in range(draw(st.integers(0, 2))):
        if total_s - begin_s < 600:
            break
        arrival_s = draw(st.integers(begin_s, total_s - 600))
        departure_s = draw(st.integers(arrival_s + 300, total_s))
        sessions.append(
            Session(
                charger_id,
                START + timedelta(seconds=arrival_s),
                START + timedelta(seconds=departure_s),
                draw(st.sampled_from([0, 2000, 8000, 20000, 60000])),
                vehicle_phases=draw(st.sampled_from([3, 3, 1, 2])),
                vehicle_max_current_a=draw(st.sampled_from([None, 10, 16, 32])),
            )
        )
        begin_s = departure_s
    return sessions


@st.composite
def plans(draw, max_chargers: int = 4) -> Plan:
    """A whole plan: load, limits (a fuse, maybe a power cap), chargers with sessions, controller settings."""
    load = draw(house_loads())
    fleet = draw(chargers(draw(st.integers(1, max_chargers))))
    sessions = [s for c in fleet for s in draw(sessions_for(c.id, load))]
    limits = PlanLimits(draw(st.sampled_from([20, 25, 32, 40, 63])), max_power_w=draw(st.sampled_from([None, None, 7000, 15000])))
    return Plan(limits, fleet, load, tuple(sessions), None, draw(controller_settings))
