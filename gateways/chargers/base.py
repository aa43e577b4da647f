"""What the regulation loop needs from a charger, whatever protocol it speaks.

A driver object stands for one charging station. The loop calls it from one
asyncio task per cycle; every method must finish within `timeout_s` given at
construction (the loop also wraps each call in `asyncio.timeout`) and report
failure by raising a `ChargerError`, never by hanging or by returning stale
data as if it were fresh.
"""

from __future__ import annotations

import abc
import enum
from dataclasses import dataclass


class ChargerError(Exception):
    """A charger could not be read or commanded; the loop marks it unavailable and plans without it safely."""


class ChargerUnreachable(ChargerError):
    """No answer within the timeout, or the connection failed."""


class ChargerProtocolError(ChargerError):
    """The charger answered, but with something malformed or contradictory."""


class ChargerRejected(ChargerError):
    """The charger answered but did not take a command (its read-back shows another value)."""


class PlugState(enum.Enum):
    """Whether a vehicle is there; a KEBA-style station tells these apart."""

    UNPLUGGED = "unplugged"
    PLUGGED = "plugged"


class ChargingState(enum.Enum):
    """What the station is doing, reduced to what the allocation needs."""

    IDLE = "idle"  # no vehicle, or not ready
    WAITING = "waiting"  # vehicle plugged, not drawing (paused by us, or full, or not yet started)
    CHARGING = "charging"
    ERROR = "error"  # the station reports an error state; it gets no current


@dataclass(frozen=True)
class ChargerReading:
    """One read of a station's state.

    `current_a` is in the charger's own phase order (its phases 1..3, before
    phase rotation); `setpoint_a` is the current limit the station says it is
    applying now (0 when disabled), or None if it cannot tell.
    """

    plug: PlugState
    state: ChargingState
    enabled: bool
    current_a: tuple[float, float, float]
    setpoint_a: float | None
    energy_session_wh: float | None = None


@dataclass(frozen=True)
class FailsafeSettings:
    """The station's own watchdog: after `timeout_s` without commands it limits itself to `current_a` (0 = stop)."""

    timeout_s: int
    current_a: float


class ChargerDriver(abc.ABC):
    """One charging station, reached over its wire protocol."""

    key: str = ""
    """The driver's key in `gateways.protocol.CHARGER_DRIVERS`."""

    @abc.abstractmethod
    async def start(self) -> None:
        """Open what the driver needs (sockets); must not fail if the station is off (reads will fail instead)."""

    @abc.abstractmethod
    async def read(self) -> ChargerReading:
        """Read the station's state and phase currents."""

    @abc.abstractmethod
    async def apply_setpoint(self, current_a: float) -> None:
        """Set the current limit; 0 pauses charging (disables the output), >0 enables it at that current.

        Called every cycle, also with an unchanged value: resending is the
        heartbeat that keeps the station's failsafe watchdog from firing.
        """

    @abc.abstractmethod
    async def arm_failsafe(self, settings: FailsafeSettings) -> FailsafeSettings:
        """Arm the station's own watchdog and return what the station reports back, to be compared by the caller."""

    @abc.abstractmethod
    async def close(self) -> None:
        """Release sockets; the station keeps its last command and its failsafe."""
