"""The planner's answer: per session what the vehicle got, per network how the limits held and bound.

Plain frozen dataclasses with ``to_dict``/``from_dict`` so the fleet can store
a result as JSON and show it later without re-running the replay.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any

from balancing import describe

from . import fields as f


@dataclass(frozen=True)
class SessionResult:
    """One session's outcome: energy wanted and delivered, complete by departure or not."""

    charger: str
    hypothetical: bool
    arrival: datetime
    departure: datetime
    energy_wanted_wh: float
    energy_delivered_wh: float
    complete: bool
    completed_at: datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON shape."""
        return {
            "charger": self.charger,
            "hypothetical": self.hypothetical,
            "arrival": self.arrival.isoformat(),
            "departure": self.departure.isoformat(),
            "energy_wanted_wh": self.energy_wanted_wh,
            "energy_delivered_wh": self.energy_delivered_wh,
            "complete": self.complete,
            "completed_at": None if self.completed_at is None else self.completed_at.isoformat(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SessionResult:
        """Read back what ``to_dict`` wrote."""
        values = dict(data)
        for key in ("arrival", "departure"):
            values[key] = f.moment(key, values[key])
        if values.get("completed_at") is not None:
            values["completed_at"] = f.moment("completed_at", values["completed_at"])
        return cls(**values)


@dataclass(frozen=True)
class NetworkResult:
    """How the network fared over the whole replay.

    ``bound_minutes`` maps a reason code to the minutes in which it held at
    least one vehicle below what it could draw: limit codes come from the safe
    allocation (``limited_by_phase_L2``, ``network_power``, ``waiting_turn``,
    ...), controller codes (``paced_increase``, ``resume_pending``) from the
    controller's answer where it stayed below the safe value.
    ``limited_minutes`` counts minutes in which any limit held a vehicle back.
    Headroom is the fuse minus house load minus chargers, per grid phase (the
    unused capacity). ``over_limit_minutes`` counts minutes in which chargers
    drew on a phase above its fuse or above the power cap (0 unless the
    controller broke its promise); ``house_over_limit_minutes`` those in
    which the house alone was above the fuse. ``unmanaged_*`` are the same
    chargers and sessions replayed at full current without load management.
    """

    duration_minutes: float
    resolution_s: float
    limited_minutes: float
    bound_minutes: dict[str, float]
    peak_phase_current_a: tuple[float, float, float]
    peak_charger_power_w: float
    mean_headroom_a: tuple[float, float, float]
    min_headroom_a: tuple[float, float, float]
    over_limit_minutes: float
    house_over_limit_minutes: float
    unmanaged_over_fuse_minutes: float
    unmanaged_peak_phase_current_a: tuple[float, float, float]
    energy_wanted_wh: float
    energy_delivered_wh: float
    sessions: int
    sessions_complete: int

    def to_dict(self) -> dict[str, Any]:
        """JSON shape, with the human text of each reason code beside its minutes."""
        data: dict[str, Any] = {}
        for item in fields(self):
            value = getattr(self, item.name)
            data[item.name] = list(value) if isinstance(value, tuple) else (dict(value) if isinstance(value, dict) else value)
        data["bound_text"] = {code: describe(code) for code in self.bound_minutes}
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> NetworkResult:
        """Read back what ``to_dict`` wrote (derived keys are ignored)."""
        names = {item.name for item in fields(cls)}
        values = {key: value for key, value in data.items() if key in names}
        for key in ("peak_phase_current_a", "mean_headroom_a", "min_headroom_a", "unmanaged_peak_phase_current_a"):
            values[key] = tuple(values[key])
        return cls(**values)


@dataclass(frozen=True)
class PlanResult:
    """The answer to one ``Plan``: the network summary, every session, and the settings the replay used."""

    network: NetworkResult
    sessions: tuple[SessionResult, ...]
    limits: dict[str, Any] = field(default_factory=dict)
    controller: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON shape (what the CLI writes with ``--out`` and the fleet stores)."""
        return {
            "network": self.network.to_dict(),
            "sessions": [session.to_dict() for session in self.sessions],
            "limits": dict(self.limits),
            "controller": dict(self.controller),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PlanResult:
        """Read back what ``to_dict`` wrote."""
        return cls(
            NetworkResult.from_dict(data["network"]),
            tuple(SessionResult.from_dict(item) for item in data["sessions"]),
            dict(data.get("limits") or {}),
            dict(data.get("controller") or {}),
        )
