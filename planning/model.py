"""The planner's input: a site's recorded house load, its limits, chargers (real and hypothetical) and sessions.

Frozen dataclasses that validate themselves, like ``balancing``'s, with
``to_dict``/``from_dict`` in the JSON shape the CLI reads and the fleet stores.
Times are aware datetimes (ISO 8601 with an offset in JSON); the replay works
in seconds since the start of the load series.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from balancing import DEFAULT_MIN_CURRENT_A, PHASE_ROTATIONS, ControllerSettings, NetworkLimits, ScenarioError

from . import fields as f
from .profile import SessionProfile, Session, generate_sessions

Phases3 = tuple[float, float, float]

_LIMIT_KEYS = {"max_current_per_phase_a", "max_power_w", "fallback_power_w", "nominal_voltage_v"}
_CHARGER_KEYS = {"id", "phases", "phase_rotation", "min_current_a", "max_current_a", "priority", "hypothetical"}
_LOAD_KEYS = {"start", "resolution_s", "house_current_a"}
_CONTROLLER_KEYS = {"increase_interval_s", "increase_step_a", "min_pause_s", "resume_delay_s", "turn_period_s"}
_PLAN_KEYS = {"limits", "chargers", "load", "sessions", "profile", "controller"}


def _phases3(name: str, value: object, *, minimum: float | None = None, allow_scalar: bool = False) -> Phases3:
    if allow_scalar and not isinstance(value, (list, tuple)):
        one = f.number(name, value, minimum=minimum)
        return (one, one, one)
    if not isinstance(value, (list, tuple)) or len(value) != 3:
        raise ScenarioError(name, "must be a list of three numbers" if not allow_scalar else "must be a number or three")
    a, b, c = (f.number(f"{name}[{i}]", v, minimum=minimum) for i, v in enumerate(value))
    return (a, b, c)


@dataclass(frozen=True)
class PlanLimits:
    """The house connection's limits as the planner varies them: fuse per phase, power cap, fallback, voltage.

    Only the arguments every version of ``balancing.NetworkLimits`` accepts,
    so the planner keeps working while that class grows.
    """

    max_current_per_phase_a: Phases3
    max_power_w: float | None = None
    fallback_power_w: float | None = None
    nominal_voltage_v: float = 230.0

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "max_current_per_phase_a", _phases3("max_current_per_phase_a", self.max_current_per_phase_a, minimum=0, allow_scalar=True)
        )
        object.__setattr__(self, "max_power_w", f.optional_number("max_power_w", self.max_power_w, minimum=0))
        object.__setattr__(self, "fallback_power_w", f.optional_number("fallback_power_w", self.fallback_power_w, minimum=0))
        object.__setattr__(self, "nominal_voltage_v", f.number("nominal_voltage_v", self.nominal_voltage_v, positive=True))

    def network_limits(self) -> NetworkLimits:
        """The engine's limits for these values."""
        return NetworkLimits(
            max_current_per_phase_a=self.max_current_per_phase_a,
            max_power_w=self.max_power_w,
            fallback_power_w=self.fallback_power_w,
            nominal_voltage_v=self.nominal_voltage_v,
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON shape."""
        return {
            "max_current_per_phase_a": list(self.max_current_per_phase_a),
            "max_power_w": self.max_power_w,
            "fallback_power_w": self.fallback_power_w,
            "nominal_voltage_v": self.nominal_voltage_v,
        }

    @classmethod
    def from_dict(cls, data: object) -> PlanLimits:
        """Parse the JSON shape; unknown keys are errors."""
        return cls(**f.strict("", data, _LIMIT_KEYS, {"max_current_per_phase_a"}))


@dataclass(frozen=True)
class PlannedCharger:
    """A charger of the plan, installed or hypothetical (``hypothetical`` only labels it in results)."""

    id: str
    max_current_a: float
    min_current_a: float = DEFAULT_MIN_CURRENT_A
    phases: int = 3
    phase_rotation: str = "L1L2L3"
    priority: int = 0
    hypothetical: bool = False

    def __post_init__(self) -> None:
        f.text("id", self.id)
        f.integer("phases", self.phases, choices=(1, 2, 3))
        if self.phase_rotation not in PHASE_ROTATIONS:
            raise ScenarioError("phase_rotation", f"must be one of {', '.join(PHASE_ROTATIONS)}")
        object.__setattr__(self, "min_current_a", f.number("min_current_a", self.min_current_a, positive=True))
        object.__setattr__(self, "max_current_a", f.number("max_current_a", self.max_current_a, positive=True))
        if self.max_current_a < self.min_current_a:
            raise ScenarioError("max_current_a", f"must be at least min_current_a ({self.min_current_a:g})")
        f.integer("priority", self.priority)
        if not isinstance(self.hypothetical, bool):
            raise ScenarioError("hypothetical", "must be true or false")

    def to_dict(self) -> dict[str, Any]:
        """JSON shape."""
        return {
            "id": self.id,
            "max_current_a": self.max_current_a,
            "min_current_a": self.min_current_a,
            "phases": self.phases,
            "phase_rotation": self.phase_rotation,
            "priority": self.priority,
            "hypothetical": self.hypothetical,
        }

    @classmethod
    def from_dict(cls, data: object) -> PlannedCharger:
        """Parse the JSON shape; unknown keys are errors."""
        return cls(**f.strict("", data, _CHARGER_KEYS, {"id", "max_current_a"}))


@dataclass(frozen=True)
class HouseLoad:
    """The recorded house load: current per grid phase L1..L3 without the chargers, one sample per ``resolution_s``.

    Sample ``k`` holds for ``[start + k * resolution_s, start + (k + 1) * resolution_s)``;
    with 5-minute rollups use the maximum of each phase over the interval, not
    the mean, or short peaks that trip fuses disappear from the replay.
    """

    start: datetime
    resolution_s: float
    house_current_a: tuple[Phases3, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "start", f.moment("start", self.start))
        object.__setattr__(self, "resolution_s", f.number("resolution_s", self.resolution_s, positive=True))
        samples = f.listed("house_current_a", self.house_current_a)
        if not samples:
            raise ScenarioError("house_current_a", "must hold at least one sample")
        object.__setattr__(
            self, "house_current_a", tuple(_phases3(f"house_current_a[{k}]", sample) for k, sample in enumerate(samples))
        )

    @property
    def duration_s(self) -> float:
        """Length of the series."""
        return len(self.house_current_a) * self.resolution_s

    @property
    def end(self) -> datetime:
        """The instant the last sample's interval ends."""
        return self.start + timedelta(seconds=self.duration_s)

    def to_dict(self) -> dict[str, Any]:
        """JSON shape."""
        return {
            "start": self.start.isoformat(),
            "resolution_s": self.resolution_s,
            "house_current_a": [list(sample) for sample in self.house_current_a],
        }

    @classmethod
    def from_dict(cls, data: object) -> HouseLoad:
        """Parse the JSON shape; unknown keys are errors."""
        return cls(**f.strict("", data, _LOAD_KEYS, _LOAD_KEYS))


def settings_to_dict(settings: ControllerSettings) -> dict[str, Any]:
    """A ControllerSettings in JSON shape."""
    return {key: getattr(settings, key) for key in sorted(_CONTROLLER_KEYS)}


@dataclass(frozen=True)
class Plan:
    """One question for the planner: this load, these limits, these chargers, these sessions.

    ``sessions`` are given ones; ``profile`` adds generated ones (seeded).
    ``controller`` is the site's real controller settings; the replay adapts
    them to the series' resolution (see ``planning.timing``).
    """

    limits: PlanLimits
    chargers: tuple[PlannedCharger, ...]
    load: HouseLoad
    sessions: tuple[Session, ...] = ()
    profile: SessionProfile | None = None
    controller: ControllerSettings = field(default_factory=ControllerSettings)

    def __post_init__(self) -> None:
        for name, kind in (("limits", PlanLimits), ("load", HouseLoad), ("controller", ControllerSettings)):
            if not isinstance(getattr(self, name), kind):
                raise ScenarioError(name, f"must be a {kind.__name__}")
        chargers = tuple(f.listed("chargers", self.chargers))
        seen: set[str] = set()
        for index, charger in enumerate(chargers):
            if not isinstance(charger, PlannedCharger):
                raise ScenarioError(f"chargers[{index}]", "must be a PlannedCharger")
            if charger.id in seen:
                raise ScenarioError(f"chargers[{index}].id", f"duplicate id {charger.id!r}")
            seen.add(charger.id)
        object.__setattr__(self, "chargers", chargers)
        sessions = tuple(f.listed("sessions", self.sessions))
        _check_sessions("sessions", sessions, seen, self.load)
        object.__setattr__(self, "sessions", sessions)
        if self.profile is not None:
            if not isinstance(self.profile, SessionProfile):
                raise ScenarioError("profile", "must be a SessionProfile")
            unknown = [charger_id for charger_id in self.profile.chargers if charger_id not in seen]
            if unknown:
                raise ScenarioError("profile.chargers", f"unknown charger {unknown[0]!r}")

    def all_sessions(self) -> tuple[Session, ...]:
        """The given sessions plus the profile's, in arrival order; profile sessions never overlap given ones."""
        sessions = list(self.sessions)
        if self.profile is not None:
            busy: dict[str, list[Session]] = {}
            for session in sessions:
                busy.setdefault(session.charger, []).append(session)
            ids = self.profile.chargers or tuple(charger.id for charger in self.chargers)
            for session in generate_sessions(self.profile, ids, self.load.start, self.load.end):
                if not any(_overlap(session, other) for other in busy.get(session.charger, ())):
                    sessions.append(session)
        return tuple(sorted(sessions, key=lambda s: (s.arrival, s.charger)))

    def to_dict(self) -> dict[str, Any]:
        """JSON shape (what ``from_dict`` reads)."""
        return {
            "limits": self.limits.to_dict(),
            "chargers": [charger.to_dict() for charger in self.chargers],
            "load": self.load.to_dict(),
            "sessions": [session.to_dict() for session in self.sessions],
            "profile": None if self.profile is None else self.profile.to_dict(),
            "controller": settings_to_dict(self.controller),
        }

    @classmethod
    def from_dict(cls, data: object) -> Plan:
        """Parse and validate the JSON shape; raises ``ScenarioError`` naming the first bad field."""
        top = f.strict("", data, _PLAN_KEYS, {"limits", "chargers", "load"})
        limits = f.within("limits", PlanLimits.from_dict, top["limits"])
        chargers = tuple(
            f.within(f"chargers[{i}]", PlannedCharger.from_dict, item) for i, item in enumerate(f.listed("chargers", top["chargers"]))
        )
        load = f.within("load", HouseLoad.from_dict, top["load"])
        sessions = tuple(
            f.within(f"sessions[{i}]", Session.from_dict, item)
            for i, item in enumerate(f.listed("sessions", top.get("sessions") or []))
        )
        profile_data = top.get("profile")
        profile = None if profile_data is None else f.within("profile", SessionProfile.from_dict, profile_data)
        controller_data = top.get("controller") or {}
        controller = f.within(
            "controller", lambda data: ControllerSettings(**f.strict("", data, _CONTROLLER_KEYS)), controller_data
        )
        return cls(limits, chargers, load, sessions, profile, controller)


def _overlap(a: Session, b: Session) -> bool:
    return a.arrival < b.departure and b.arrival < a.departure


def _check_sessions(path: str, sessions: tuple[Session, ...], charger_ids: set[str], load: HouseLoad) -> None:
    """Sessions name known chargers, lie inside the series and do not overlap on one charger."""
    by_charger: dict[str, list[tuple[int, Session]]] = {}
    for index, session in enumerate(sessions):
        where = f"{path}[{index}]"
        if not isinstance(session, Session):
            raise ScenarioError(where, "must be a Session")
        if session.charger not in charger_ids:
            raise ScenarioError(f"{where}.charger", f"unknown charger {session.charger!r}")
        if session.arrival < load.start:
            raise ScenarioError(f"{where}.arrival", f"is before the load series starts ({load.start.isoformat()})")
        if session.departure > load.end:
            raise ScenarioError(f"{where}.departure", f"is after the load series ends ({load.end.isoformat()})")
        for other_index, other in by_charger.get(session.charger, ()):
            if _overlap(session, other):
                raise ScenarioError(where, f"overlaps {path}[{other_index}] on charger {session.charger!r}")
        by_charger.setdefault(session.charger, []).append((index, session))

