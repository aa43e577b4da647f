"""The engine's inputs and output as frozen dataclasses that validate themselves.

Validation lives in ``__post_init__`` so that no invalid object exists: the
gateway builds these from meter and charger readings, and a NaN or a
misspelled rotation must stop at the door, not reach the arithmetic that
protects a fuse. Errors name the field relative to the object; callers that
know the object's place (``chargers[2]``) prefix it with ``ScenarioError.within``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from . import DEFAULT_MIN_CURRENT_A, PHASE_ROTATIONS
from . import reasons as why
from .checks import number, optional_number
from .errors import ScenarioError

DEFAULT_NOMINAL_VOLTAGE_V = 230.0
DEFAULT_CURRENT_STEP_A = 0.1
DEFAULT_MAX_MEASUREMENT_AGE_S = 5.0

MODE_NORMAL = "normal"
MODE_FALLBACK = "fallback"

Phases3 = tuple[float, float, float]


def _set(obj: object, name: str, value: Any) -> None:
    # Frozen dataclasses normalise their own fields once, here, and never again.
    object.__setattr__(obj, name, value)


def _three(name: str, value: object, *, minimum: float | None = None, allow_scalar: bool = False) -> Phases3:
    """Three finite numbers, one per phase; with ``allow_scalar`` one number stands for all three."""
    if allow_scalar and not isinstance(value, (list, tuple)):
        single = number(name, value, minimum=minimum)
        return (single, single, single)
    if not isinstance(value, (list, tuple)) or len(value) != 3:
        expected = "a number or a list of three numbers" if allow_scalar else "a list of three numbers"
        raise ScenarioError(name, f"must be {expected}")
    first, second, third = (number(f"{name}[{i}]", v, minimum=minimum) for i, v in enumerate(value))
    return (first, second, third)


@dataclass(frozen=True)
class SubCircuit:
    """A sub-distribution with its own per-phase limit, feeding some of the chargers.

    Only the chargers are known to draw from it (it has no meter), so its limit
    applies to the sum of its chargers' currents on each grid phase.
    """

    id: str
    max_current_per_phase_a: Phases3

    def __post_init__(self) -> None:
        if not isinstance(self.id, str) or not self.id:
            raise ScenarioError("id", "must be a non-empty string")
        _set(
            self,
            "max_current_per_phase_a",
            _three("max_current_per_phase_a", self.max_current_per_phase_a, minimum=0, allow_scalar=True),
        )


@dataclass(frozen=True)
class PowerCap:
    """One cap on the chargers' total power, from one source, with the reason code it gives when it binds.

    Every cap is one more constraint row, so a new kind of limit (grid
    operator dimming, an operator's limit, a schedule) is data, not a new
    branch in the engine. ``source`` says who set it, for people and logs
    (``"network"``, ``"fallback"``, ``"14a-control-box"``, ``"schedule:night"``);
    ``reason`` is one of ``reasons.POWER_CAP_REASONS`` and is what a charger
    held by this cap reports. ``guaranteed_w`` is what the source must leave
    whatever it asks for (a grid operator dimming under EnWG section 14a may
    not go below the minimum of ``balancing.dimming``): the cap binds at
    ``limit_w``, the larger of the two.
    """

    power_w: float
    source: str
    reason: str
    guaranteed_w: float = 0.0

    def __post_init__(self) -> None:
        _set(self, "power_w", number("power_w", self.power_w, minimum=0))
        _set(self, "guaranteed_w", number("guaranteed_w", self.guaranteed_w, minimum=0))
        if not isinstance(self.source, str) or not self.source:
            raise ScenarioError("source", "must be a non-empty string")
        if self.reason not in why.POWER_CAP_REASONS:
            raise ScenarioError("reason", f"must be one of {', '.join(why.POWER_CAP_REASONS)}, not {self.reason!r}")

    @property
    def limit_w(self) -> float:
        """The power this cap holds the chargers to: what was asked, never below what the source guarantees."""
        return max(self.power_w, self.guaranteed_w)


NETWORK_CAP_SOURCE = "network"
"""``PowerCap.source`` of the network's own ``max_power_w``."""
FALLBACK_CAP_SOURCE = "fallback"
"""``PowerCap.source`` of the fallback power, in force only while the grid reading is missing or stale."""


@dataclass(frozen=True)
class NetworkLimits:
    """The limits of one charging network behind one house connection.

    ``max_current_per_phase_a`` bounds house load plus chargers on each grid
    phase (one number for all three, or a breaker rating per phase).
    ``max_power_w`` caps the chargers' total power (None: only the phases cap
    it). ``fallback_power_w`` is the chargers' total power while the grid
    measurement is missing or stale (None or 0: pause everything).
    ``max_unbalance_a`` bounds the spread (largest minus smallest) of the
    chargers' combined current across the grid phases. ``current_step_a`` is
    the resolution of setpoints; every setpoint is a multiple of it.
    ``power_caps`` are further caps on the chargers' total power (grid
    operator, operator, schedule), in force in normal and fallback mode alike;
    ``power_caps_in_force`` lists them together with the network's own.
    """

    max_current_per_phase_a: Phases3
    max_power_w: float | None = None
    fallback_power_w: float | None = None
    nominal_voltage_v: float = DEFAULT_NOMINAL_VOLTAGE_V
    max_unbalance_a: float | None = None
    sub_circuits: tuple[SubCircuit, ...] = ()
    current_step_a: float = DEFAULT_CURRENT_STEP_A
    max_measurement_age_s: float = DEFAULT_MAX_MEASUREMENT_AGE_S
    power_caps: tuple[PowerCap, ...] = ()

    def __post_init__(self) -> None:
        _set(
            self,
            "max_current_per_phase_a",
            _three("max_current_per_phase_a", self.max_current_per_phase_a, minimum=0, allow_scalar=True),
        )
        _set(self, "max_power_w", optional_number("max_power_w", self.max_power_w, minimum=0))
        _set(self, "fallback_power_w", optional_number("fallback_power_w", self.fallback_power_w, minimum=0))
        _set(self, "nominal_voltage_v", number("nominal_voltage_v", self.nominal_voltage_v, positive=True))
        _set(self, "max_unbalance_a", optional_number("max_unbalance_a", self.max_unbalance_a, minimum=0))
        _set(self, "current_step_a", number("current_step_a", self.current_step_a, positive=True))
        _set(self, "max_measurement_age_s", number("max_measurement_age_s", self.max_measurement_age_s, minimum=0))
        if not isinstance(self.sub_circuits, (list, tuple)):
            raise ScenarioError("sub_circuits", "must be a list")
        circuits = tuple(self.sub_circuits)
        seen: set[str] = set()
        for index, circuit in enumerate(circuits):
            if not isinstance(circuit, SubCircuit):
                raise ScenarioError(f"sub_circuits[{index}]", "must be a SubCircuit")
            if circuit.id in seen:
                raise ScenarioError(f"sub_circuits[{index}].id", f"duplicate id {circuit.id!r}")
            seen.add(circuit.id)
        _set(self, "sub_circuits", circuits)
        if not isinstance(self.power_caps, (list, tuple)):
            raise ScenarioError("power_caps", "must be a list")
        caps = tuple(self.power_caps)
        for index, cap in enumerate(caps):
            if not isinstance(cap, PowerCap):
                raise ScenarioError(f"power_caps[{index}]", "must be a PowerCap")
        _set(self, "power_caps", caps)
        # Built once per limits object, not per cycle: a Controller or a
        # capacity plan asks for them every cycle with the same limits.
        _set(self, "_caps_in_force", (self._collect_caps(fallback=False), self._collect_caps(fallback=True)))

    def power_caps_in_force(self, *, fallback: bool) -> tuple[PowerCap, ...]:
        """Every cap on the chargers' total power this cycle.

        The network's own ``max_power_w`` (reason ``network_power``) first, then
        ``power_caps`` in their order, and in fallback the fallback power
        (reason ``fallback``; None counts as 0) last. Where two caps are equal,
        the one listed first names the limit.
        """
        return self._caps_in_force[1 if fallback else 0]  # type: ignore[attr-defined]

    def _collect_caps(self, *, fallback: bool) -> tuple[PowerCap, ...]:
        caps = list(self.power_caps)
        if self.max_power_w is not None:
            caps.insert(0, PowerCap(self.max_power_w, NETWORK_CAP_SOURCE, why.NETWORK_POWER))
        if fallback:
            caps.append(PowerCap(self.fallback_power_w or 0.0, FALLBACK_CAP_SOURCE, why.FALLBACK))
        return tuple(caps)


@dataclass(frozen=True)
class Reservation:
    """Current kept free on each grid phase for load the engine cannot set, such as a charger the gateway cannot reach.

    ``current_a`` is per grid phase L1..L3, in amperes. The engine keeps it
    free on each grid phase in normal mode (as if the meter already showed
    it, see ``phases.load_besides_chargers_a``) and in fallback mode (against
    the limit on the chargers' own current), and takes its power (the sum of
    the three times the nominal voltage, as it counts chargers) off every
    power cap. It is an input of its own rather than smaller limits and a
    larger grid reading, so the house load and the limits stay what they are.
    """

    current_a: Phases3 = (0.0, 0.0, 0.0)

    def __post_init__(self) -> None:
        _set(self, "current_a", _three("current_a", self.current_a, minimum=0))

    def power_w(self, nominal_voltage_v: float) -> float:
        """The reserved power, counted like a charger's: amperes per phase times the nominal voltage."""
        return (self.current_a[0] + self.current_a[1] + self.current_a[2]) * nominal_voltage_v


@dataclass(frozen=True)
class GridMeasurement:
    """Currents on grid phases L1..L3 at the house connection, chargers included.

    Negative current is export. ``age_s`` is how old the reading is; older than
    the network's ``max_measurement_age_s`` counts as missing.
    """

    current_a: Phases3
    age_s: float = 0.0

    def __post_init__(self) -> None:
        _set(self, "current_a", _three("current_a", self.current_a))
        _set(self, "age_s", number("age_s", self.age_s, minimum=0))


@dataclass(frozen=True)
class ChargerState:
    """One charger as the gateway sees it this cycle.

    ``phase_rotation`` maps the charger's phases 1..3 to grid phases;
    ``current_a`` is what it measures, in its own phase order. ``active`` means
    a vehicle is connected and wants charge. ``setpoint_a`` is the setpoint in
    force at the charger, if known: its measured current counts as its own
    only up to that (a charger drawing more than allowed must not make the
    house look smaller). ``priority``: higher numbers are served first.
    """

    id: str
    max_current_a: float
    min_current_a: float = DEFAULT_MIN_CURRENT_A
    phase_rotation: str = "L1L2L3"
    phases: int = 3
    priority: int = 0
    active: bool = True
    current_a: Phases3 = (0.0, 0.0, 0.0)
    sub_circuit: str | None = None
    setpoint_a: float | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.id, str) or not self.id:
            raise ScenarioError("id", "must be a non-empty string")
        if self.phase_rotation not in PHASE_ROTATIONS:
            raise ScenarioError("phase_rotation", f"must be one of {', '.join(PHASE_ROTATIONS)}")
        if isinstance(self.phases, bool) or self.phases not in (1, 2, 3):
            raise ScenarioError("phases", f"must be 1, 2 or 3, not {self.phases!r}")
        _set(self, "min_current_a", number("min_current_a", self.min_current_a, positive=True))
        _set(self, "max_current_a", number("max_current_a", self.max_current_a, positive=True))
        if self.max_current_a < self.min_current_a:
            raise ScenarioError(
                "max_current_a", f"must be at least min_current_a ({self.min_current_a:g}), not {self.max_current_a:g}"
            )
        if isinstance(self.priority, bool) or not isinstance(self.priority, int):
            raise ScenarioError("priority", "must be an integer")
        if not isinstance(self.active, bool):
            raise ScenarioError("active", "must be true or false")
        _set(self, "current_a", _three("current_a", self.current_a))
        if self.sub_circuit is not None and (not isinstance(self.sub_circuit, str) or not self.sub_circuit):
            raise ScenarioError("sub_circuit", "must be a non-empty string or null")
        _set(self, "setpoint_a", optional_number("setpoint_a", self.setpoint_a, minimum=0))


@dataclass(frozen=True)
class Allocation:
    """The engine's answer for one cycle.

    ``setpoints_a`` and ``reasons`` have one entry per charger (0 means paused).
    ``headroom_a`` is, per grid phase, the limit minus house load minus the
    reserved current minus the allocated charger current (None in fallback,
    when the house load is unknown); ``house_current_a`` is the house load the
    engine assumed (the reservation not included).
    """

    mode: str
    setpoints_a: dict[str, float]
    reasons: dict[str, str]
    headroom_a: Phases3 | None = None
    house_current_a: Phases3 | None = None

    def to_json(self) -> dict[str, Any]:
        """The CLI's and telemetry's JSON shape: reason codes plus their text."""
        from .reasons import describe

        return {
            "setpoints": dict(self.setpoints_a),
            "mode": self.mode,
            "reasons": dict(self.reasons),
            "reason_text": {charger_id: describe(code) for charger_id, code in self.reasons.items()},
            "headroom_a": None if self.headroom_a is None else list(self.headroom_a),
            "house_current_a": None if self.house_current_a is None else list(self.house_current_a),
        }


def check_chargers(chargers: Sequence[ChargerState], limits: NetworkLimits) -> None:
    """Reject non-ChargerState items, duplicate ids and unknown sub-circuits, naming the charger by index."""
    circuit_ids = {circuit.id for circuit in limits.sub_circuits}
    seen: set[str] = set()
    for index, charger in enumerate(chargers):
        if not isinstance(charger, ChargerState):
            raise ScenarioError(f"chargers[{index}]", "must be a ChargerState")
        if charger.id in seen:
            raise ScenarioError(f"chargers[{index}].id", f"duplicate id {charger.id!r}")
        seen.add(charger.id)
        if charger.sub_circuit is not None and charger.sub_circuit not in circuit_ids:
            raise ScenarioError(f"chargers[{index}].sub_circuit", f"unknown sub-circuit {charger.sub_circuit!r}")
