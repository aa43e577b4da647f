"""Simulated vehicles: what each session can draw, on which grid phases, and the energy it takes.

Also the unmanaged comparison: the same sessions with every vehicle at full
current from arrival, as if the site had no load management.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from balancing.phases import grid_phase

from .model import Plan
from .profile import Session

EPSILON = 1e-9
SETPOINT_STEP_A = 0.1
"""balancing's setpoint resolution (``NetworkLimits.current_step_a``'s default, which the planner keeps)."""


@dataclass
class SimVehicle:
    """One session while it is replayed: fixed facts first, then what it has got so far."""

    session: Session
    slot: int
    start_step: int
    end_step: int
    departure_s: float
    phases: int
    max_current_a: float
    demand_a: float
    grid_phases: tuple[int, ...]
    remaining_wh: float
    delivered_wh: float = 0.0
    completed_s: float | None = None

    def charge(self, draw_a: float, t0_s: float, t1_s: float, voltage_v: float) -> bool:
        """Deliver energy for ``[t0_s, t1_s)`` at ``draw_a`` per phase; True when the session has all it wanted."""
        power_w = draw_a * self.phases * voltage_v
        energy_wh = power_w * (t1_s - t0_s) / 3600.0
        if energy_wh < self.remaining_wh:
            self.delivered_wh += energy_wh
            self.remaining_wh -= energy_wh
            return False
        self.completed_s = t0_s + self.remaining_wh * 3600.0 / power_w
        self.delivered_wh += self.remaining_wh
        self.remaining_wh = 0.0
        return True


def simulated_vehicles(plan: Plan, sessions: tuple[Session, ...]) -> list[SimVehicle]:
    """Each session with its steps of arrival and departure, its grid phases and what it can draw.

    A vehicle appears at the first step at or after its arrival and is gone
    at the first step at or after its departure.
    """
    slot_of = {charger.id: slot for slot, charger in enumerate(plan.chargers)}
    dt = plan.load.resolution_s
    vehicles = []
    for session in sessions:
        slot = slot_of[session.charger]
        charger = plan.chargers[slot]
        phases = min(session.vehicle_phases, charger.phases)
        max_a = charger.max_current_a if session.vehicle_max_current_a is None else session.vehicle_max_current_a
        arrival_s = (session.arrival - plan.load.start).total_seconds()
        departure_s = (session.departure - plan.load.start).total_seconds()
        # What the vehicle would take if nothing held it back, on the engine's setpoint grid.
        demand_a = math.floor(min(max_a, charger.max_current_a) / SETPOINT_STEP_A + EPSILON) * SETPOINT_STEP_A
        vehicles.append(
            SimVehicle(
                session=session,
                slot=slot,
                start_step=math.ceil(arrival_s / dt - EPSILON),
                end_step=math.ceil(departure_s / dt - EPSILON),
                departure_s=departure_s,
                phases=phases,
                max_current_a=max_a,
                demand_a=round(demand_a, 6),
                grid_phases=tuple(grid_phase(charger.phase_rotation, p) for p in range(phases)),
                remaining_wh=session.energy_wh,
            )
        )
    return vehicles


def unmanaged(plan: Plan, sessions: tuple[Session, ...]) -> tuple[float, tuple[float, float, float]]:
    """Minutes over the fuse and peak phase currents with every vehicle at full current, no load management."""
    dt = plan.load.resolution_s
    samples = plan.load.house_current_a
    steps = len(samples)
    fuse_a = plan.limits.max_current_per_phase_a
    voltage_v = plan.limits.nominal_voltage_v
    load = [[0.0] * steps for _ in range(3)]
    for vehicle in simulated_vehicles(plan, sessions):
        draw_a = vehicle.demand_a
        for k in range(vehicle.start_step, min(vehicle.end_step, steps)):
            if vehicle.remaining_wh <= 0:
                break
            for p in vehicle.grid_phases:
                load[p][k] += draw_a
            t_s = k * dt
            vehicle.charge(draw_a, t_s, min(t_s + dt, vehicle.departure_s), voltage_v)
    over_steps = 0
    peak = [-math.inf] * 3
    for k, house_a in enumerate(samples):
        over = False
        for p in range(3):
            current = house_a[p] + load[p][k]
            if current > peak[p]:
                peak[p] = current
            if current > fuse_a[p] + 1e-6:
                over = True
        over_steps += over
    return over_steps * dt / 60.0, (peak[0], peak[1], peak[2])
