"""Pure allocation of charging current under the limits of a house connection.

Stdlib only: the gateway runs it every cycle and the fleet server uses it to
validate configurations, so it must not depend on either.

Public API (stable; the gateway and the server call these):

- ``NetworkLimits(max_current_per_phase_a, max_power_w=None, fallback_power_w=None,
  nominal_voltage_v=230, max_unbalance_a=None, sub_circuits=(), current_step_a=0.1,
  max_measurement_age_s=5, power_caps=())``: the limits of one network. The per-phase limit
  may be one number or three (one per grid phase); it is stored as a 3-tuple.
  ``power_caps_in_force(*, fallback) -> tuple[PowerCap, ...]``: the network's own
  ``max_power_w`` (source ``"network"``, reason ``network_power``), then ``power_caps``, then in
  fallback the fallback power (source ``"fallback"``, reason ``fallback``).
- ``PowerCap(power_w, source, reason, guaranteed_w=0)``: one more cap on the chargers' total
  power, in force in normal and fallback mode; it binds at ``limit_w``, ``power_w`` but never
  below ``guaranteed_w`` (what the source must leave, e.g. the section 14a minimum); ``source`` is free text naming who set it, ``reason`` one of
  ``balancing.reasons.POWER_CAP_REASONS`` (``network_power``, ``fallback``, ``grid_operator_cap``,
  ``operator_cap``, ``schedule_cap``). Each cap is one constraint row; the tightest binds and a
  charger it holds reports its reason (equal caps: the one listed first).
- ``Reservation(current_a=(0, 0, 0))``: current per grid phase kept free for load the engine
  cannot set (chargers the gateway cannot reach); ``power_w(nominal_voltage_v)`` is its power.
- ``SubCircuit(id, max_current_per_phase_a)``: a sub-distribution feeding some chargers.
- ``GridMeasurement(current_a, age_s=0)``: grid currents L1..L3, chargers included.
- ``ChargerState(id, max_current_a, min_current_a=6, phase_rotation="L1L2L3", phases=3,
  priority=0, active=True, current_a=(0, 0, 0), sub_circuit=None, setpoint_a=None)``.
- ``allocate(limits, grid, chargers, *, turn_order=(), reserved=None) -> Allocation``: pure;
  ``grid`` None (or older than ``max_measurement_age_s``) means fallback. ``reserved`` (a
  ``Reservation``) comes off each grid phase's room and, as power, off every power cap, in
  normal and fallback mode.
- ``Allocation(mode, setpoints_a, reasons, headroom_a, house_current_a)`` with ``to_json()``.
- ``Controller(settings=ControllerSettings()).step(limits, grid, chargers, now_s, *, reserved=None)
  -> Allocation``: pacing, hysteresis and turn-taking over ``allocate``, never above it;
  ``now_s`` is monotonic seconds; ``reserved`` goes to ``allocate`` and into the headroom.
  ``ControllerSettings(increase_interval_s=10, increase_step_a=2, min_pause_s=60,
  resume_delay_s=10, turn_period_s=900)``. ``Controller.last_safe`` is the pure allocation of the
  last step, ``Controller.turn_order`` the queue.
- ``balancing.dimming.guaranteed_minimum_w(devices)`` and ``simultaneity_factor(devices)``: the
  power a grid operator dimming under EnWG section 14a must leave (BK6-22-300, Anlage 1, 4.5.2).
- ``balancing.phases.grid_phase(rotation, charger_phase)`` and ``drawn_grid_phases(charger)``:
  the phase mapping, for the gateway's simulators and meter handling.
- ``describe(code) -> str`` and the codes in ``balancing.reasons``.
- ``ScenarioError(ValueError)``: invalid input; the message starts with the field's path.
- ``parse_scenario(data) -> Scenario``: the CLI's JSON shape into the dataclasses above
  (``limits.power_caps``: a list of ``{"power_w", "source", "reason"}`` and optional ``"guaranteed_w"``; top-level ``reserved``:
  ``{"current_a": [L1, L2, L3]}`` or null). ``Scenario(limits, grid, chargers, turn_order=(),
  reserved=None)``.
"""

PHASE_ROTATIONS: tuple[str, ...] = ("L1L2L3", "L2L3L1", "L3L1L2")
"""How a charger's (or meter's) phases 1..3 map to grid phases; L2L3L1 means its phase 1 is grid L2."""

DEFAULT_MIN_CURRENT_A = 6
"""Smallest current a charger may be set to while charging (IEC 61851-1)."""

# The names above are defined before these imports: the submodules import them.
from .controller import Controller, ControllerSettings  # noqa: E402
from .engine import allocate  # noqa: E402
from .errors import ScenarioError  # noqa: E402
from .model import (  # noqa: E402
    MODE_FALLBACK,
    MODE_NORMAL,
    Allocation,
    ChargerState,
    GridMeasurement,
    NetworkLimits,
    PowerCap,
    Reservation,
    SubCircuit,
)
from .reasons import POWER_CAP_REASONS, REASON_CODES, describe, is_reason_code  # noqa: E402
from .scenario import Scenario, parse_scenario  # noqa: E402

__all__ = [
    "DEFAULT_MIN_CURRENT_A",
    "MODE_FALLBACK",
    "MODE_NORMAL",
    "PHASE_ROTATIONS",
    "POWER_CAP_REASONS",
    "REASON_CODES",
    "Allocation",
    "ChargerState",
    "Controller",
    "ControllerSettings",
    "GridMeasurement",
    "NetworkLimits",
    "PowerCap",
    "Reservation",
    "Scenario",
    "ScenarioError",
    "SubCircuit",
    "allocate",
    "describe",
    "is_reason_code",
    "parse_scenario",
]
