"""What the regulation loop needs from a charger, whatever protocol it speaks.

A driver object stands for one charging station. The loop calls it from one
asyncio task per cycle; every method must finish within `timeout_s` given at
construction (the loop also wraps each call in `asyncio.timeout`) and report
failure by raising a `ChargerError`, never by hanging.

The same interface fits polled protocols (KEBA UDP, KEBA Modbus: `read()` asks
the station) and pushed ones (OCPP 1.6J: `read()` hands back the latest
MeterValues/StatusNotification the charger sent). Two rules make that work:

- Readings carry their age. Every `ChargerReading` has `monotonic_s`, the time
  (on the driver's injected clock, the same clock the regulator runs on) the
  station's state was taken: when a polled driver asked, when a pushed message
  arrived. The regulator, not the driver, decides what is too old; a stale
  reading counts as an unreachable charger.
- The regulator owns renewal. It calls `apply_setpoint(current_a, valid_for_s)`
  when the setpoint changes, when a reading shows the station does not apply
  it, and when the last send is due for renewal; a driver sends on every call
  and never repeats on its own. `valid_for_s` is how long the setpoint may stand
  without a renewal: a profile-based driver (OCPP) gives it as `validTo`; the
  KEBA drivers have no per-setpoint lifetime (their station-wide watchdog is
  armed by `arm_failsafe`, and every send feeds it). `min_resend_interval_s` is
  the shortest spacing a station asks for between repeated commands; the
  regulator renews no more often than that, unless half the lifetime is
  shorter (the lifetime wins). A reading's `enabled`/`setpoint_a` is what the
  regulator compares with what it sent (`gateways.setpoint_renewal.holds`):
  report the limit actually in force, or None for `setpoint_a` if the
  protocol cannot tell.
"""

from __future__ import annotations

import abc
import enum
from dataclasses import KW_ONLY, dataclass


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
    applying now (0 when disabled), or None if it cannot tell. `monotonic_s` is
    when the state was taken, on the driver's clock (see the module docstring);
    it is keyword-only and has no default so no driver can forget it.
    """

    plug: PlugState
    state: ChargingState
    enabled: bool
    current_a: tuple[float, float, float]
    setpoint_a: float | None
    energy_session_wh: float | None = None
    _: KW_ONLY
    monotonic_s: float


@dataclass(frozen=True)
class FailsafeSettings:
    """The station's own watchdog: after `timeout_s` without commands it limits itself to `current_a` (0 = stop)."""

    timeout_s: int
    current_a: float


class ChargerDriver(abc.ABC):
    """One charging station, reached over its wire protocol."""

    key: str = ""
    """The driver's key in `gateways.protocol.CHARGER_DRIVER_TABLE`."""

    min_resend_interval_s: float = 0.0
    """Shortest spacing the station asks for between repeated commands; renewals are never more frequent."""

    @abc.abstractmethod
    async def start(self) -> None:
        """Open what the driver needs (sockets); must not fail if the station is off (reads will fail instead)."""

    @abc.abstractmethod
    async def read(self) -> ChargerReading:
        """The station's state and phase currents, stamped with when they were taken (`monotonic_s`)."""

    @abc.abstractmethod
    async def apply_setpoint(self, current_a: float, valid_for_s: float) -> bool:
        """Send the current limit, valid for `valid_for_s`; 0 pauses charging, >0 enables it at that current.

        Sends on every call (the regulator decides when: on a change, when a
        reading disagrees, when the last send is due for renewal); each send
        also feeds the station's failsafe watchdog. Returns True once the
        station has it (checked by read-back where the protocol allows), False
        when the driver must hold it back for now (KEBA UDP's silence after
        `ena 0`): the regulator then asks again next cycle. Failure raises.
        """

    @abc.abstractmethod
    async def arm_failsafe(self, settings: FailsafeSettings) -> FailsafeSettings:
        """Arm the station's own watchdog and return what the station reports back, to be compared by the caller."""

    @abc.abstractmethod
    async def close(self) -> None:
        """Release sockets; the station keeps its last command and its failsafe."""
