"""Short builders for plans: a site's load, chargers and sessions in a few words."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from balancing import ControllerSettings
from planning import HouseLoad, Plan, PlanLimits, PlannedCharger, Session

CET = timezone(timedelta(hours=1))
START = datetime(2026, 11, 2, 0, 0, tzinfo=CET)
"""Every built series starts at midnight, so "18:00" means hour 18 of the series."""


def at(clock: str, day: int = 0) -> datetime:
    """The moment ``clock`` ("HH:MM") on day ``day`` of the series."""
    hours, minutes = (int(part) for part in clock.split(":"))
    return START + timedelta(days=day, hours=hours, minutes=minutes)


def flat_load(l1: float, l2: float | None = None, l3: float | None = None, *, hours: float = 24, resolution_s: float = 60) -> HouseLoad:
    """A constant house load per phase for ``hours``."""
    sample = (l1, l1 if l2 is None else l2, l1 if l3 is None else l3)
    return HouseLoad(START, resolution_s, (sample,) * round(hours * 3600 / resolution_s))


def charger(charger_id: str, max_current_a: float = 16, **fields) -> PlannedCharger:
    """A 3-phase 6-16 A charger unless told otherwise."""
    return PlannedCharger(id=charger_id, max_current_a=max_current_a, **fields)


def session(charger_id: str, arrival: str, departure: str, energy_kwh: float, *, next_day: bool = False, **fields) -> Session:
    """A session from ``arrival`` to ``departure`` (both "HH:MM" on day 0, or departure on day 1)."""
    return Session(charger_id, at(arrival), at(departure, 1 if next_day else 0), energy_kwh * 1000, **fields)


def plan(load: HouseLoad, chargers, sessions=(), *, fuse_a=40, max_power_w=None, controller=None, profile=None) -> Plan:
    """A plan with a fuse of ``fuse_a`` per phase (and a power cap if given)."""
    return Plan(
        PlanLimits(fuse_a, max_power_w=max_power_w),
        tuple(chargers),
        load,
        tuple(sessions),
        profile,
        controller or ControllerSettings(),
    )


def phase_currents(step, plan_: Plan) -> list[float]:
    """Grid current per phase in one observed step: house load plus every vehicle's draw on its phases."""
    current = list(step.house_a)
    for _, draw_a, grid_phases in step.drawing:
        for p in grid_phases:
            current[p] += draw_a
    return current
