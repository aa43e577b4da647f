"""`KebaUdpDriver`: one KEBA KeContact P20/P30 station over the UDP protocol (port 7090).

Protocol facts and their source (KEBA, "KeContact P30 Charging Station UDP Programmers
Guide", V2.01) are in `keba_udp_protocol`; the shared socket is `KebaUdpTransport`.
What this module decides, and why:

- Reading = `report 2` (state, plug, enables, limits, failsafe) + `report 3` (I1..I3,
  energy). Status messages the station sends on its own are never used as a reading:
  they carry one field each and would be stale the moment they were cached.
- "TCH-OK" only confirms receipt, so every command that changes the station is checked
  in a fresh `report 2` ("Enable user", "Curr user", "Tmo FS", "Curr FS") and a
  difference raises `ChargerRejected`. The exception is `ena 0`: the guide asks for 2 s
  of silence after it (t_DIS_pause), so its effect is checked in the next `report 2`
  (the next `read()`), which raises `ChargerRejected` if the station is still enabled.
- Renewal: only `curr`, `currtime` and `ena` keep the failsafe watchdog from firing.
  The regulator decides when a setpoint goes out (on a change, a disagreeing reading,
  or renewal no more often than `min_resend_interval_s`, the guide's 5 s t_COM_pause
  for repeated commands); each `apply_setpoint` call sends. Enabling sends `curr`
  before `ena 1`, so the station starts at the new current, never at an old higher
  one. A pause that is already in force is renewed with `curr 6000`, not `ena 0`:
  `ena 0` stays in force until `ena 1` or `currtime` (guide 3.3.1) and repeating it
  would silence the station for 2 s each time; 6000 mA is the lowest legal value, so
  anything that re-enables the station starts at the minimum.
- During the 2 s pause after `ena 0` the station must not be spoken to. `read()` then
  answers without I/O: paused, no current, no setpoint. Reporting no current is the
  safe side: whatever the vehicle still draws while the contactor opens stays in the
  house load the loop computes. `apply_setpoint` with a current > 0 returns False
  during the pause (held back: the regulator asks again next cycle; the station stays
  off meanwhile, drawing less, not more).
- Clocks: `clock` (the regulator's) stamps readings. Pacing on the wire (the report
  cache, the silence after `ena 0`) runs on real monotonic time, like the shared
  transport that enforces it, because the station keeps real time.
- Reading cost: `report 3` (the currents) on every call; `report 2` only when the
  cached one is older than t_COM_pause (5 s) or the station has announced a change of
  State, Plug, Enable sys or Max curr since (it sends those on its own). One exchange
  per cycle leaves the station free for commands, so a decrease is not queued behind
  reads. Known deviation: `report 3` repeats faster than t_COM_pause (5 s) at poll
  intervals below 5 s; fresh currents are what the house-load calculation needs.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from gateways.chargers.base import (
    ChargerDriver,
    ChargingState,
    PlugState,
    ChargerProtocolError,
    ChargerReading,
    ChargerRejected,
    ChargerUnreachable,
    FailsafeSettings,
)
from gateways.chargers.keba_udp_protocol import (
    CURRENT_MIN_MA,
    REPEAT_PAUSE_S,
    Ack,
    Report,
    charging_state,
    curr_command,
    current_ma,
    ena_command,
    failsafe_command,
    failsafe_current_ma,
    failsafe_timeout,
    integer_field,
    plug_state,
    report_command,
)
from gateways.chargers.keba_udp_transport import KebaUdpTransport, ensure_answer

log = logging.getLogger(__name__)

T = TypeVar("T")

__all__ = ["KebaUdpDriver", "KebaUdpTransport", "Report2"]


@dataclass(frozen=True)
class Report2:
    """The `report 2` fields the driver uses, in the station's units (mA, s)."""

    state: int
    plug: int
    enable_sys: int
    enable_user: int
    max_curr_ma: int
    curr_user_ma: int
    curr_fs_ma: int
    tmo_fs_s: int
    received_s: float

    @classmethod
    def parse(cls, report: Report, received_s: float) -> Report2:
        """Take the fields from a `report 2` answer; a missing or odd field -> `ChargerProtocolError`."""
        fields = report.fields
        return cls(
            state=integer_field(fields, "State"),
            plug=integer_field(fields, "Plug"),
            enable_sys=integer_field(fields, "Enable sys"),
            enable_user=integer_field(fields, "Enable user"),
            max_curr_ma=integer_field(fields, "Max curr"),
            curr_user_ma=integer_field(fields, "Curr user"),
            curr_fs_ma=integer_field(fields, "Curr FS"),
            tmo_fs_s=integer_field(fields, "Tmo FS"),
            received_s=received_s,
        )


class KebaUdpDriver(ChargerDriver):
    """One KEBA station at `host`, reached through a gateway-wide `KebaUdpTransport`.

    Every method finishes within `timeout_s` (waiting for the station's turn on the
    transport included). `failsafe_persist` sends `save=1` with `failsafe`, so the
    watchdog survives a reboot of the station while the gateway is down.
    """

    key = "keba-udp"
    min_resend_interval_s = REPEAT_PAUSE_S

    def __init__(
        self,
        transport: KebaUdpTransport,
        host: str,
        *,
        timeout_s: float = 1.5,
        report2_max_age_s: float = REPEAT_PAUSE_S,
        failsafe_persist: bool = True,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if timeout_s <= 0:
            raise ValueError("timeout_s must be positive")
        if report2_max_age_s <= 0:
            raise ValueError("report2_max_age_s must be positive")
        self.transport = transport
        self.host = host
        self.timeout_s = timeout_s
        self.report2_max_age_s = report2_max_age_s
        self.failsafe_persist = failsafe_persist
        self.clock = clock
        self._last_report2: Report2 | None = None
        self._expect_disabled = False
        self._quiet_until_s = -math.inf
        self._last_plug: int | None = None
        self._reachable: bool | None = None

    # -- ChargerDriver ---------------------------------------------------------------

    async def start(self) -> None:
        """Bind the shared socket if nobody has yet and accept this station's datagrams."""
        await self.transport.start()
        self.transport.register(self.host)

    async def read(self) -> ChargerReading:
        """State and phase currents from a fresh `report 2` and `report 3` (none during the pause after `ena 0`)."""
        taken_s = self.clock()
        if self._quiet():
            return self._paused_reading(taken_s)
        return await self._bounded(lambda: self._read(taken_s))

    def _quiet(self) -> bool:
        return time.monotonic() < self._quiet_until_s

    def _paused_reading(self, taken_s: float) -> ChargerReading:
        plug = plug_state(self._last_plug) if self._last_plug is not None else PlugState.PLUGGED
        return ChargerReading(
            plug=plug, state=ChargingState.WAITING, enabled=False, current_a=(0.0, 0.0, 0.0), setpoint_a=0.0,
            monotonic_s=taken_s,
        )

    async def apply_setpoint(self, current_a: float, valid_for_s: float) -> bool:
        """0 -> `ena 0` (or `curr 6000` if already off); >0 -> `curr <mA>`, `ena 1` if off; checked in `report 2`.

        `valid_for_s` is not sent: the station's watchdog (`arm_failsafe`) is its only lifetime.
        """
        if math.isnan(current_a) or current_a < 0:
            raise ValueError(f"setpoint must be >= 0 A, got {current_a}")
        milliamps = 0 if current_a == 0 else current_ma(current_a)
        if self._quiet():
            return milliamps == 0  # 0: `ena 0` is in force; > 0: held back, see module docstring
        return await self._bounded(lambda: self._apply(milliamps))

    async def arm_failsafe(self, settings: FailsafeSettings) -> FailsafeSettings:
        """`failsafe <t> <mA> <save>`, then return what `report 2` shows; a difference -> `ChargerRejected`."""
        timeout_s = failsafe_timeout(settings.timeout_s)
        milliamps = failsafe_current_ma(settings.current_a)
        return await self._bounded(lambda: self._arm(timeout_s, milliamps))

    async def close(self) -> None:
        """Nothing of its own to release: the transport belongs to the gateway, which closes it."""

    # -- the work, inside the deadline --------------------------------------------------

    async def _read(self, taken_s: float) -> ChargerReading:
        cached = self._last_report2
        fresh_enough = (
            cached is not None
            and time.monotonic() - cached.received_s < self.report2_max_age_s
            and self.transport.status_at_s(self.host) < cached.received_s
            and not self._expect_disabled
        )
        report2 = cached if fresh_enough else await self._report2()
        report3 = (await self._report(3)).fields
        plug = plug_state(report2.plug)
        enabled = report2.enable_sys == 1 and report2.enable_user == 1
        currents_a = tuple(integer_field(report3, name) / 1000 for name in ("I1", "I2", "I3"))
        energy_wh = integer_field(report3, "E pres") / 10 if "E pres" in report3 else None
        return ChargerReading(
            plug=plug,
            state=charging_state(report2.state, plug),
            enabled=enabled,
            current_a=(currents_a[0], currents_a[1], currents_a[2]),
            setpoint_a=report2.max_curr_ma / 1000 if enabled else 0.0,
            energy_session_wh=energy_wh,
            monotonic_s=taken_s,
        )

    async def _apply(self, milliamps: int) -> bool:
        if milliamps == 0:
            report2 = self._fresh_report2() or await self._report2()
            if report2.enable_user != 0:
                await self._command(ena_command(False))
                self._expect_disabled = True  # checked in the next report 2, see module docstring
                self._quiet_until_s = time.monotonic() + self.transport.disable_pause_s
            else:
                await self._command(curr_command(CURRENT_MIN_MA))
                self._verify(await self._report2(), enable_user=0)
            return True
        # `curr` at once, without asking first: a decrease must not wait for a report (100 ms apart).
        await self._command(curr_command(milliamps))
        report2 = await self._report2()
        if report2.enable_user != 1:
            await self._command(ena_command(True))
            self._expect_disabled = False
            report2 = await self._report2()
        self._verify(report2, enable_user=1, curr_user_ma=milliamps)
        return True

    async def _arm(self, timeout_s: int, milliamps: int) -> FailsafeSettings:
        await self._command(failsafe_command(timeout_s, milliamps, self.failsafe_persist))
        report2 = await self._report2()
        self._verify(report2, tmo_fs_s=timeout_s, curr_fs_ma=milliamps)
        return FailsafeSettings(timeout_s=report2.tmo_fs_s, current_a=report2.curr_fs_ma / 1000)

    # -- helpers --------------------------------------------------------------------------

    def _verify(self, report2: Report2, **expected: int) -> None:
        """Compare `report 2` fields with what the last command should have set."""
        differences = {
            name: (value, getattr(report2, name))
            for name, value in expected.items()
            if getattr(report2, name) != value
        }
        if differences:
            shown = ", ".join(f"{name} {got} (wanted {want})" for name, (want, got) in differences.items())
            raise ChargerRejected(f"{self.host}: command not applied, report 2 shows {shown}")

    def _fresh_report2(self) -> Report2 | None:
        """The last `report 2` if it is recent enough to decide which commands to send."""
        report2 = self._last_report2
        if report2 is not None and time.monotonic() - report2.received_s < self.timeout_s:
            return report2
        return None

    async def _report(self, report_id: int) -> Report:
        command = report_command(report_id)
        message = ensure_answer(
            await self.transport.exchange(self.host, command, self.timeout_s), self.host, command
        )
        if not isinstance(message, Report):
            raise ChargerProtocolError(f"{self.host}: {command!r} answered {message!r}")
        return message

    async def _report2(self) -> Report2:
        report2 = Report2.parse(await self._report(2), time.monotonic())
        self._last_report2 = report2
        self._last_plug = report2.plug
        if self._expect_disabled:
            self._expect_disabled = False
            if report2.enable_user != 0:
                raise ChargerRejected(f"{self.host}: still enabled after 'ena 0' (Enable user {report2.enable_user})")
        return report2

    async def _command(self, command: str) -> None:
        """Send a changing command; the cached report is void from now on."""
        self._last_report2 = None
        message = ensure_answer(
            await self.transport.exchange(self.host, command, self.timeout_s), self.host, command
        )
        if not isinstance(message, Ack):
            raise ChargerProtocolError(f"{self.host}: {command!r} answered {message!r}")

    async def _bounded(self, work: Callable[[], Awaitable[T]]) -> T:
        """Run `work` within `timeout_s`; log reachability on its edges only."""
        try:
            async with asyncio.timeout(self.timeout_s):
                result = await work()
        except TimeoutError:
            self._mark_unreachable(f"no complete answer within {self.timeout_s:g} s")
            raise ChargerUnreachable(f"{self.host}: no complete answer within {self.timeout_s:g} s") from None
        except ChargerUnreachable as error:
            self._mark_unreachable(str(error))
            raise
        if self._reachable is False:
            log.info("KEBA station %s answers again", self.host)
        self._reachable = True
        return result

    def _mark_unreachable(self, why: str) -> None:
        if self._reachable is not False:
            log.warning("KEBA station %s unreachable: %s", self.host, why)
        self._reachable = False
