"""The replay: the real ``balancing.Controller`` stepped through recorded house load with simulated vehicles.

Each step ``k`` at ``t = k * resolution_s`` does what one gateway cycle does:
the grid meter reads house load plus what the vehicles drew under the last
setpoints; the controller answers; each vehicle then draws ``min(setpoint,
its maximum)`` on its own phases until the next step, its departure, or the
moment its energy is delivered. The phase currents of a step are the house
load plus those draws, held for the whole step (the safe side when a vehicle
leaves or finishes inside it). Chargers are passed to the controller with
the setpoint in force, as a gateway that reads it back would.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from balancing import ChargerState, Controller, GridMeasurement

from .counters import NetworkCounters
from .model import Plan, settings_to_dict
from .result import NetworkResult, PlanResult, SessionResult
from .timing import settings_for_resolution
from .vehicles import EPSILON, SETPOINT_STEP_A, SimVehicle, simulated_vehicles, unmanaged

# Energy within 0.01 Wh of the target counts as delivered (float sums of many steps).
ENERGY_TOLERANCE_WH = 0.01
# The shortcut's float check keeps this far from the fuse, on the safe side of the engine's whole steps.
_FIT_MARGIN_A = 0.05


@dataclass(frozen=True)
class StepView:
    """One step as an observer sees it: time, house load, and who drew what on which grid phases."""

    t_s: float
    house_a: tuple[float, float, float]
    drawing: tuple[tuple[str, float, tuple[int, ...]], ...]


def replay(plan: Plan, *, shortcuts: bool = True, observe: Callable[[StepView], None] | None = None) -> PlanResult:
    """Run ``plan`` managed (through the real controller) and unmanaged (full current); summarise both.

    ``shortcuts`` skips the controller in steps whose answer is known without
    asking (nothing connected; every vehicle at its maximum with room to
    spare); False asks it every step, which tests use to show both agree.
    ``observe`` is called with every step (tests check the limits with it).
    """
    sessions = plan.all_sessions()
    managed = _Managed(plan, shortcuts, observe)
    managed.run(simulated_vehicles(plan, sessions))
    unmanaged_minutes, unmanaged_peak_a = unmanaged(plan, sessions)
    start = plan.load.start
    results = tuple(
        SessionResult(
            charger=v.session.charger,
            hypothetical=plan.chargers[v.slot].hypothetical,
            arrival=v.session.arrival,
            departure=v.session.departure,
            energy_wanted_wh=v.session.energy_wh,
            energy_delivered_wh=round(v.delivered_wh, 3),
            complete=v.remaining_wh <= ENERGY_TOLERANCE_WH,
            completed_at=None if v.completed_s is None else start + timedelta(seconds=round(v.completed_s)),
        )
        for v in managed.vehicles
    )
    counts = managed.counters
    minutes = plan.load.resolution_s / 60.0
    network = NetworkResult(
        duration_minutes=round(counts.steps * minutes, 6),
        resolution_s=plan.load.resolution_s,
        limited_minutes=round(counts.limited_steps * minutes, 6),
        bound_minutes={code: round(n * minutes, 6) for code, n in sorted(counts.bound_steps.items())},
        peak_phase_current_a=_rounded(counts.peak_a),
        peak_charger_power_w=round(counts.peak_power_w, 3),
        mean_headroom_a=_rounded([total / counts.steps for total in counts.headroom_sum_a]),
        min_headroom_a=_rounded(counts.min_headroom_a),
        over_limit_minutes=round(counts.over_limit_steps * minutes, 6),
        house_over_limit_minutes=round(counts.house_over_steps * minutes, 6),
        unmanaged_over_fuse_minutes=round(unmanaged_minutes, 6),
        unmanaged_peak_phase_current_a=_rounded(unmanaged_peak_a),
        energy_wanted_wh=round(sum(s.energy_wanted_wh for s in results), 3),
        energy_delivered_wh=round(sum(s.energy_delivered_wh for s in results), 3),
        sessions=len(results),
        sessions_complete=sum(s.complete for s in results),
    )
    return PlanResult(network, results, plan.limits.to_dict(), settings_to_dict(managed.settings))


def _rounded(values) -> tuple[float, float, float]:
    # + 0.0 turns -0.0 into 0.0 for display.
    a, b, c = (round(v, 3) + 0.0 for v in values)
    return (a, b, c)


class _Managed:
    """The managed replay: its state between steps and its counters."""

    def __init__(self, plan: Plan, shortcuts: bool, observe: Callable[[StepView], None] | None) -> None:
        self.plan = plan
        self.shortcuts = shortcuts
        self.observe = observe
        self.settings = settings_for_resolution(plan.controller, plan.load.resolution_s)
        self.counters = NetworkCounters(plan.limits.max_current_per_phase_a, plan.limits.max_power_w)
        self.vehicles: list[SimVehicle] = []
        count = len(plan.chargers)
        self.present: list[SimVehicle | None] = [None] * count
        self.draw_a = [0.0] * count
        self.setpoint_a = [0.0] * count
        self.paused_s: list[float | None] = [None] * count
        self._states: dict[tuple, ChargerState] = {}

    def run(self, vehicles: list[SimVehicle]) -> None:
        """Step through every sample, asking the controller whenever its answer could differ from the last."""
        self.vehicles = vehicles
        plan, counters, present = self.plan, self.counters, self.present
        arrivals: dict[int, list[SimVehicle]] = {}
        departures: dict[int, list[SimVehicle]] = {}
        for vehicle in vehicles:
            if vehicle.end_step > vehicle.start_step:
                arrivals.setdefault(vehicle.start_step, []).append(vehicle)
                departures.setdefault(vehicle.end_step, []).append(vehicle)
        limits = plan.limits.network_limits()
        fuse_a = plan.limits.max_current_per_phase_a
        voltage_v = plan.limits.nominal_voltage_v
        dt = plan.load.resolution_s
        controller = Controller(self.settings)
        top_a = [round(int(c.max_current_a / SETPOINT_STEP_A + EPSILON) * SETPOINT_STEP_A, 6) for c in plan.chargers]
        changed = True  # the connected set differs from the controller's last step
        idle = at_max = False
        drawing: list[tuple[SimVehicle, float]] = []
        load_a, power_w, fit_a = [0.0, 0.0, 0.0], 0.0, [0.0, 0.0, 0.0]
        no_codes: frozenset[str] = frozenset()
        for k, house_a in enumerate(plan.load.house_current_a):
            t = k * dt
            for vehicle in departures.get(k, ()):
                if present[vehicle.slot] is vehicle:
                    present[vehicle.slot] = None
                    self.draw_a[vehicle.slot] = 0.0
                    changed = True
            for vehicle in arrivals.get(k, ()):
                present[vehicle.slot] = vehicle
                changed = True
            if self.shortcuts and not changed:
                if idle:
                    # Nothing connected now nor at the controller's last step: its
                    # answer is all zeros and its state would not change.
                    self._add(house_a, (), (0.0, 0.0, 0.0), 0.0, no_codes, t)
                    continue
                if at_max and all(0 <= house_a[p] <= fuse_a[p] - _FIT_MARGIN_A - fit_a[p] for p in range(3)):
                    # Every vehicle was at its charger's maximum, the same ones are
                    # connected and the house leaves room for that: the safe
                    # allocation is the same, so are the controller's answer and state.
                    for vehicle, draw in drawing:
                        if vehicle.remaining_wh > 0 and vehicle.charge(draw, t, min(t + dt, vehicle.departure_s), voltage_v):
                            changed = True
                    self._add(house_a, drawing, load_a, power_w, no_codes, t)
                    continue
            answer = controller.step(limits, self._grid(house_a), self._states_now(t), t)
            safe = controller.last_safe
            assert safe is not None
            changed = False
            bound: set[str] = set()
            drawing = []
            load_a, power_w, fit_a = [0.0, 0.0, 0.0], 0.0, [0.0, 0.0, 0.0]
            idle = at_max = True
            for slot, charger in enumerate(plan.chargers):
                setpoint = answer.setpoints_a.get(charger.id, 0.0)
                if setpoint <= 0 < self.setpoint_a[slot]:
                    self.paused_s[slot] = t
                self.setpoint_a[slot] = setpoint
                vehicle = present[slot]
                if vehicle is None or vehicle.remaining_wh <= 0:
                    self.draw_a[slot] = 0.0
                    continue
                idle = False
                at_max = at_max and setpoint >= top_a[slot] - EPSILON
                draw = setpoint if setpoint < vehicle.max_current_a else vehicle.max_current_a
                self.draw_a[slot] = draw
                if safe.setpoints_a[charger.id] < vehicle.demand_a - EPSILON:
                    bound.add(safe.reasons[charger.id])
                elif draw < vehicle.demand_a - EPSILON:
                    bound.add(answer.reasons[charger.id])
                for p in vehicle.grid_phases:
                    fit_a[p] += setpoint
                if draw > 0:
                    drawing.append((vehicle, draw))
                    for p in vehicle.grid_phases:
                        load_a[p] += draw
                    power_w += draw * vehicle.phases * voltage_v
                    if vehicle.charge(draw, t, min(t + dt, vehicle.departure_s), voltage_v):
                        changed = True
            self._add(house_a, drawing, load_a, power_w, bound, t)

    def _add(self, house_a, drawing, load_a, power_w: float, bound, t: float) -> None:
        """Count the step, and show it to the observer if there is one."""
        self.counters.add(house_a, load_a, power_w, bound)
        if self.observe is not None:
            chargers = self.plan.chargers
            self.observe(
                StepView(t, house_a, tuple((chargers[v.slot].id, draw, v.grid_phases) for v, draw in drawing))
            )

    def _grid(self, house_a) -> GridMeasurement:
        """What the grid meter reads: house load plus what the vehicles draw under the last setpoints."""
        grid = [house_a[0], house_a[1], house_a[2]]
        for slot, vehicle in enumerate(self.present):
            # A vehicle that finished during the last step draws nothing any more.
            if vehicle is not None and vehicle.remaining_wh > 0 and self.draw_a[slot] > 0:
                for p in vehicle.grid_phases:
                    grid[p] += self.draw_a[slot]
        return GridMeasurement((grid[0], grid[1], grid[2]))

    def _states_now(self, t: float) -> list[ChargerState]:
        """Every charger as the gateway would read it now (states repeat a lot, so they are built once each).

        With shortcuts, a charger that wants nothing, is set to 0 and has been
        paused for the minimum pause is left out: the controller would treat
        it exactly like a charger it has never seen, and leaving it out saves
        its share of every step (most chargers are idle most of the night).
        """
        states = []
        min_pause_s = self.settings.min_pause_s
        for slot, charger in enumerate(self.plan.chargers):
            vehicle = self.present[slot]
            active = vehicle is not None and vehicle.remaining_wh > 0
            if (
                self.shortcuts
                and not active
                and self.setpoint_a[slot] <= 0
                and (self.paused_s[slot] is None or t - self.paused_s[slot] >= min_pause_s)
            ):
                continue
            phases = vehicle.phases if vehicle is not None else 0
            draw = self.draw_a[slot] if active else 0.0
            key = (slot, active, draw, phases, self.setpoint_a[slot])
            state = self._states.get(key)
            if state is None:
                state = ChargerState(
                    id=charger.id,
                    max_current_a=charger.max_current_a,
                    min_current_a=charger.min_current_a,
                    phase_rotation=charger.phase_rotation,
                    phases=charger.phases,
                    priority=charger.priority,
                    active=active,
                    current_a=(draw if phases > 0 else 0.0, draw if phases > 1 else 0.0, draw if phases > 2 else 0.0),
                    # The setpoint in force is known exactly here: pass it, as a gateway that reads it back would.
                    setpoint_a=self.setpoint_a[slot],
                )
                self._states[key] = state
            states.append(state)
        return states
