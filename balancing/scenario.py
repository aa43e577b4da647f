"""The JSON scenario shape of ``python -m balancing allocate`` turned into the engine's dataclasses.

Strict on purpose: an unknown key is an error, because a misspelled
``max_current_per_phase`` silently ignored would leave a fuse unprotected.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from .checks import strict_object
from .errors import ScenarioError
from .model import ChargerState, GridMeasurement, NetworkLimits, PowerCap, Reservation, SubCircuit

T = TypeVar("T")

_LIMIT_KEYS = {
    "max_current_per_phase_a",
    "max_power_w",
    "fallback_power_w",
    "nominal_voltage_v",
    "max_unbalance_a",
    "sub_circuits",
    "current_step_a",
    "max_measurement_age_s",
    "power_caps",
}
_CIRCUIT_KEYS = {"id", "max_current_per_phase_a"}
_CAP_KEYS = {"power_w", "source", "reason", "guaranteed_w"}
_CAP_REQUIRED = {"power_w", "source", "reason"}
_RESERVED_KEYS = {"current_a"}
_GRID_KEYS = {"current_a", "age_s"}
_CHARGER_KEYS = {
    "id",
    "phase_rotation",
    "phases",
    "min_current_a",
    "max_current_a",
    "priority",
    "active",
    "current_a",
    "sub_circuit",
    "setpoint_a",
}
_TOP_KEYS = {"limits", "grid", "chargers", "turn_order", "reserved"}


@dataclass(frozen=True)
class Scenario:
    """One allocation problem as the CLI reads it."""

    limits: NetworkLimits
    grid: GridMeasurement | None
    chargers: tuple[ChargerState, ...]
    turn_order: tuple[str, ...] = ()
    reserved: Reservation | None = None


def _build(path: str, factory: Callable[..., T], fields: Mapping[str, Any]) -> T:
    """Call a dataclass, re-raising its validation error under ``path``."""
    try:
        return factory(**fields)
    except ScenarioError as error:
        raise error.within(path) from None


def parse_scenario(data: object) -> Scenario:
    """Validate a decoded JSON scenario; raises ``ScenarioError`` naming the first bad field."""
    top = strict_object("", data, _TOP_KEYS, {"limits", "chargers"})
    limits_data = dict(strict_object("limits", top["limits"], _LIMIT_KEYS, {"max_current_per_phase_a"}))
    circuits_data = limits_data.pop("sub_circuits", [])
    if not isinstance(circuits_data, list):
        raise ScenarioError("limits.sub_circuits", "must be a list")
    circuits = tuple(
        _build(f"limits.sub_circuits[{i}]", SubCircuit, strict_object(f"limits.sub_circuits[{i}]", item, _CIRCUIT_KEYS, _CIRCUIT_KEYS))
        for i, item in enumerate(circuits_data)
    )
    caps_data = limits_data.pop("power_caps", [])
    if not isinstance(caps_data, list):
        raise ScenarioError("limits.power_caps", "must be a list")
    caps = tuple(
        _build(f"limits.power_caps[{i}]", PowerCap, strict_object(f"limits.power_caps[{i}]", item, _CAP_KEYS, _CAP_REQUIRED))
        for i, item in enumerate(caps_data)
    )
    limits_data = {
        key: value
        for key, value in limits_data.items()
        if value is not None or key in ("max_power_w", "fallback_power_w", "max_unbalance_a")
    }
    limits = _build("limits", NetworkLimits, {**limits_data, "sub_circuits": circuits, "power_caps": caps})

    grid_data = top.get("grid")
    grid = None if grid_data is None else _build("grid", GridMeasurement, strict_object("grid", grid_data, _GRID_KEYS, {"current_a"}))

    chargers_data = top["chargers"]
    if not isinstance(chargers_data, list):
        raise ScenarioError("chargers", "must be a list")
    chargers = tuple(
        _build(f"chargers[{i}]", ChargerState, strict_object(f"chargers[{i}]", item, _CHARGER_KEYS, {"id", "max_current_a"}))
        for i, item in enumerate(chargers_data)
    )
    turn_order = top.get("turn_order") or []
    if not isinstance(turn_order, list) or not all(isinstance(item, str) for item in turn_order):
        raise ScenarioError("turn_order", "must be a list of charger ids")
    reserved_data = top.get("reserved")
    reserved = (
        None
        if reserved_data is None
        else _build("reserved", Reservation, strict_object("reserved", reserved_data, _RESERVED_KEYS, _RESERVED_KEYS))
    )
    return Scenario(limits, grid, chargers, tuple(turn_order), reserved)
