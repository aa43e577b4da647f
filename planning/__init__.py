"""Capacity planning: replay a site's recorded house load against a changed installation.

Answers "can this connection take four more chargers?" by driving the real
``balancing.Controller`` through the recorded house load with simulated
vehicles. Pure and stdlib-only besides ``balancing``: the fleet server runs
it as a task and shows the result; the CLI runs it on a file.

Public API (the fleet calls these):

- ``Plan(limits, chargers, load, sessions=(), profile=None, controller=ControllerSettings())``
  with ``Plan.from_dict(data)`` / ``to_dict()``: the question. Parts:
  ``PlanLimits(max_current_per_phase_a, max_power_w=None, fallback_power_w=None, nominal_voltage_v=230)``,
  ``PlannedCharger(id, max_current_a, min_current_a=6, phases=3, phase_rotation="L1L2L3", priority=0,
  hypothetical=False)``, ``HouseLoad(start, resolution_s, house_current_a)``,
  ``Session(charger, arrival, departure, energy_wh, vehicle_phases=3, vehicle_max_current_a=None)``,
  ``SessionProfile(seed=0, chargers=(), arrival_window, departure_window, energy_wh, probability=1,
  vehicles=(Vehicle(phases=3, max_current_a=16),))``.
- ``replay(plan) -> PlanResult``: the answer, with ``to_dict()`` / ``PlanResult.from_dict(data)``:
  ``network`` (``NetworkResult``: limited and per-reason minutes, peaks, headroom, unmanaged
  comparison, energy totals) and ``sessions`` (``SessionResult`` each).
- ``settings_for_resolution(settings, resolution_s)``: how the controller's pacing is adapted to
  coarse samples (see ``planning.timing``).
- ``planning.house.house_current_a(grid_current_a, chargers)`` and ``rolled_up(samples, factor)``:
  house load from telemetry samples and per-interval maxima, for whoever builds a ``HouseLoad``.
- Invalid input raises ``balancing.ScenarioError`` whose message starts with the field's path.
"""

from .model import HouseLoad, Plan, PlanLimits, PlannedCharger
from .profile import Session, SessionProfile, Vehicle, generate_sessions
from .replay import replay
from .result import NetworkResult, PlanResult, SessionResult
from .timing import settings_for_resolution

__all__ = [
    "HouseLoad",
    "NetworkResult",
    "Plan",
    "PlanLimits",
    "PlanResult",
    "PlannedCharger",
    "Session",
    "SessionProfile",
    "SessionResult",
    "Vehicle",
    "generate_sessions",
    "replay",
    "settings_for_resolution",
]
