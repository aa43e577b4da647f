"""Charging sessions: given one by one, or drawn from a profile of arrival and departure windows (seeded).

A profile answers "what if each new charger sees a typical evening-to-morning
session most days" without session history; the seed makes one run
reproducible, and the same seed with one more charger draws the same sessions
for the chargers that were there before (every charger and day uses its own
stream of random numbers).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from balancing import ScenarioError

from . import fields as f

_SESSION_KEYS = {"charger", "arrival", "departure", "energy_wh", "vehicle_phases", "vehicle_max_current_a"}
_PROFILE_KEYS = {"seed", "chargers", "arrival_window", "departure_window", "energy_wh", "probability", "vehicles"}
_VEHICLE_KEYS = {"phases", "max_current_a"}


@dataclass(frozen=True)
class Session:
    """One vehicle on one charger: when it is plugged in, how much energy it wants, how it draws.

    The vehicle draws on its first ``vehicle_phases`` charger phases, at most
    ``vehicle_max_current_a`` per phase (None: whatever the charger offers).
    """

    charger: str
    arrival: datetime
    departure: datetime
    energy_wh: float
    vehicle_phases: int = 3
    vehicle_max_current_a: float | None = None

    def __post_init__(self) -> None:
        f.text("charger", self.charger)
        object.__setattr__(self, "arrival", f.moment("arrival", self.arrival))
        object.__setattr__(self, "departure", f.moment("departure", self.departure))
        if self.departure <= self.arrival:
            raise ScenarioError("departure", "must be after arrival")
        object.__setattr__(self, "energy_wh", f.number("energy_wh", self.energy_wh, minimum=0))
        f.integer("vehicle_phases", self.vehicle_phases, choices=(1, 2, 3))
        if self.vehicle_max_current_a is not None:
            object.__setattr__(
                self, "vehicle_max_current_a", f.number("vehicle_max_current_a", self.vehicle_max_current_a, positive=True)
            )

    def to_dict(self) -> dict[str, Any]:
        """JSON shape."""
        return {
            "charger": self.charger,
            "arrival": self.arrival.isoformat(),
            "departure": self.departure.isoformat(),
            "energy_wh": self.energy_wh,
            "vehicle_phases": self.vehicle_phases,
            "vehicle_max_current_a": self.vehicle_max_current_a,
        }

    @classmethod
    def from_dict(cls, data: object) -> Session:
        """Parse the JSON shape; unknown keys are errors."""
        return cls(**f.strict("", data, _SESSION_KEYS, {"charger", "arrival", "departure", "energy_wh"}))


@dataclass(frozen=True)
class Vehicle:
    """How a kind of vehicle draws: on how many phases, at most how much current per phase."""

    phases: int = 3
    max_current_a: float = 16.0

    def __post_init__(self) -> None:
        f.integer("phases", self.phases, choices=(1, 2, 3))
        object.__setattr__(self, "max_current_a", f.number("max_current_a", self.max_current_a, positive=True))


@dataclass(frozen=True)
class SessionProfile:
    """Sessions to generate: on each day, each charger gets one with ``probability``.

    Arrival and departure are uniform in their windows (local times of the
    series' start offset; a window may span midnight; the departure is the
    first moment in its window after arrival). Energy is uniform in
    ``energy_wh`` (low, high); the vehicle is picked uniformly from ``vehicles``.
    ``chargers`` empty means every charger of the plan.
    """

    seed: int = 0
    chargers: tuple[str, ...] = ()
    arrival_window: tuple[time, time] = (time(17, 0), time(20, 0))
    departure_window: tuple[time, time] = (time(6, 30), time(8, 0))
    energy_wh: tuple[float, float] = (5000.0, 25000.0)
    probability: float = 1.0
    vehicles: tuple[Vehicle, ...] = (Vehicle(),)

    def __post_init__(self) -> None:
        f.integer("seed", self.seed)
        chargers = tuple(f.text(f"chargers[{i}]", c) for i, c in enumerate(f.listed("chargers", self.chargers)))
        object.__setattr__(self, "chargers", chargers)
        for name in ("arrival_window", "departure_window"):
            window = f.listed(name, getattr(self, name))
            if len(window) != 2:
                raise ScenarioError(name, "must be [from, to] as HH:MM")
            object.__setattr__(self, name, (f.clock(f"{name}[0]", window[0]), f.clock(f"{name}[1]", window[1])))
        energy = f.listed("energy_wh", self.energy_wh)
        if len(energy) != 2:
            raise ScenarioError("energy_wh", "must be [low, high]")
        low, high = (f.number(f"energy_wh[{i}]", v, minimum=0) for i, v in enumerate(energy))
        if high < low:
            raise ScenarioError("energy_wh", "high must not be below low")
        object.__setattr__(self, "energy_wh", (low, high))
        probability = f.number("probability", self.probability, minimum=0)
        if probability > 1:
            raise ScenarioError("probability", f"must be at most 1, not {probability:g}")
        object.__setattr__(self, "probability", probability)
        vehicles = f.listed("vehicles", self.vehicles)
        if not vehicles or not all(isinstance(v, Vehicle) for v in vehicles):
            raise ScenarioError("vehicles", "must be a non-empty list of vehicles")
        object.__setattr__(self, "vehicles", tuple(vehicles))

    def to_dict(self) -> dict[str, Any]:
        """JSON shape."""
        return {
            "seed": self.seed,
            "chargers": list(self.chargers),
            "arrival_window": [t.strftime("%H:%M") for t in self.arrival_window],
            "departure_window": [t.strftime("%H:%M") for t in self.departure_window],
            "energy_wh": list(self.energy_wh),
            "probability": self.probability,
            "vehicles": [{"phases": v.phases, "max_current_a": v.max_current_a} for v in self.vehicles],
        }

    @classmethod
    def from_dict(cls, data: object) -> SessionProfile:
        """Parse the JSON shape; unknown keys are errors."""
        fields = dict(f.strict("", data, _PROFILE_KEYS))
        if "vehicles" in fields:
            fields["vehicles"] = tuple(
                f.within(f"vehicles[{i}]", lambda d: Vehicle(**f.strict("", d, _VEHICLE_KEYS)), item)
                for i, item in enumerate(f.listed("vehicles", fields["vehicles"]))
            )
        return cls(**fields)


def _seconds(moment: time) -> int:
    return moment.hour * 3600 + moment.minute * 60 + moment.second


def _window_length_s(window: tuple[time, time]) -> int:
    """Length of a daily window; one that ends before it starts spans midnight."""
    return (_seconds(window[1]) - _seconds(window[0])) % 86400


def generate_sessions(profile: SessionProfile, charger_ids: tuple[str, ...], start: datetime, end: datetime) -> list[Session]:
    """The profile's sessions that lie entirely within ``[start, end]``, in arrival order."""
    zone = start.tzinfo
    first_day = start.astimezone(zone).date() - timedelta(days=1)
    last_day = end.astimezone(zone).date()
    arrival_length_s = _window_length_s(profile.arrival_window)
    departure_length_s = _window_length_s(profile.departure_window)
    sessions: list[Session] = []
    for charger_id in charger_ids:
        last_departure = start
        for offset in range((last_day - first_day).days + 1):
            day = first_day + timedelta(days=offset)
            # One stream per (seed, charger, day): adding a charger or a day leaves the others' draws alone.
            rng = random.Random(f"{profile.seed}/{charger_id}/{day.isoformat()}")
            present, u_arrival, u_departure, u_energy = rng.random(), rng.random(), rng.random(), rng.random()
            vehicle = profile.vehicles[rng.randrange(len(profile.vehicles))]
            if present >= profile.probability:
                continue
            arrival = datetime.combine(day, profile.arrival_window[0], zone) + timedelta(
                seconds=round(u_arrival * arrival_length_s)
            )
            departure = datetime.combine(arrival.date(), profile.departure_window[0], zone) + timedelta(
                seconds=round(u_departure * departure_length_s)
            )
            while departure <= arrival:
                departure += timedelta(days=1)
            if arrival < max(start, last_departure) or departure > end:
                continue
            low, high = profile.energy_wh
            sessions.append(
                Session(
                    charger=charger_id,
                    arrival=arrival,
                    departure=departure,
                    energy_wh=round(low + u_energy * (high - low)),
                    vehicle_phases=vehicle.phases,
                    vehicle_max_current_a=vehicle.max_current_a,
                )
            )
            last_departure = departure
    return sorted(sessions, key=lambda s: (s.arrival, s.charger))
