"""`KebaModbusDriver`: one KEBA P30 x-series / P40 station over Modbus TCP.

Registers, function codes and their sources are in `keba_modbus_registers`. How this
driver uses them, and why:

- One connection per station, one request at a time under a lock, every call bounded
  by `timeout_s`; after a transport failure the next connection attempt waits
  `backoff_s`, doubling up to `backoff_max_s` (calls during the wait fail at once).
- Reads: FC 3, unit 255, exactly one 32-bit value (2 registers, high word first) per
  request; KEBA does not allow block reads. Writes: FC 6, one 16-bit register.
- Failures are distinct: `KebaModbusTransportError` (a `ChargerUnreachable`: refused,
  lost or silent connection) and `KebaModbusException` (a `ChargerProtocolError`: the
  station answered with a Modbus exception, `code` 1..11).
- Read-back: 5004 and 5014 are write-only, so a current setpoint is checked in 1100
  (max charging current) and the failsafe in 1600/1602. The enable (5014) has no
  read-back at all; `enabled` in a reading is what we last wrote, as evcc does.
- Failsafe: `arm_failsafe` writes the failsafe current (5016) and then the timeout
  (5018), and confirms both in 1600/1602 ([KEBA-P40-1.02] 4.7, 3.8). The station
  restarts its failsafe timer on every Modbus TCP command (4.7), so each setpoint the
  regulator sends also renews it. The regulator decides when to send (on a change, a
  disagreeing reading, or renewal no more often than `min_resend_interval_s`, 5 s:
  KEBA asks for 5 s between writes, as quoted by OpenEMS); every `apply_setpoint`
  writes. Enabling writes the current (5004) before the enable (5014), so the station
  starts at the new current, never at an old higher one.
- `clock` (the regulator's) stamps readings; request pacing runs on real time.
- KEBA asks for 0.5 s between reads (as quoted by OpenEMS). We read it as "per
  register": `read()` reads six registers once per call, so a 1 s poll interval
  complies. If it means "between any two requests", set `request_pause_s=0.5` (and a
  `timeout_s` above 3 s, since a read is six requests).
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from pymodbus.client import AsyncModbusTcpClient
from pymodbus.pdu import ExceptionResponse

from gateways.chargers import keba_modbus_registers as regs
from meters.modbus_link import ModbusLink
from gateways.chargers.base import (
    ChargerDriver,
    ChargerProtocolError,
    ChargerReading,
    ChargerRejected,
    ChargerUnreachable,
    FailsafeSettings,
)
from gateways.chargers.keba_udp_protocol import charging_state, current_ma, plug_state

log = logging.getLogger(__name__)

T = TypeVar("T")

MAX_SUPPORTED_CURRENT_ADDRESS = 1110  # [KEBA-1.02] "1110 - Max supported current"; only read to explain a mismatch


class KebaModbusTransportError(ChargerUnreachable):
    """No usable Modbus answer: refused, lost or silent connection, or a frame that is not Modbus."""


class KebaModbusException(ChargerProtocolError):
    """The station answered with a Modbus exception; `code` is the exception code."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


class KebaModbusDriver(ChargerDriver):
    """One KEBA station at host:port (unit 255). See the module docstring for the choices."""

    key = "keba-modbus"
    min_resend_interval_s = regs.WRITE_INTERVAL_S

    def __init__(
        self,
        host: str,
        port: int = 502,
        *,
        unit_id: int = regs.UNIT_ID,
        timeout_s: float = 1.5,
        backoff_s: float = 0.5,
        backoff_max_s: float = 10.0,
        request_pause_s: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if timeout_s <= 0:
            raise ValueError("timeout_s must be positive")
        if request_pause_s < 0:
            raise ValueError("request_pause_s must not be negative")
        self.host = host
        self.port = port
        self.unit_id = unit_id
        self.timeout_s = timeout_s
        self.request_pause_s = request_pause_s
        self.clock = clock
        self._last_request_s = -math.inf
        self._lock = asyncio.Lock()
        self._link = ModbusLink(
            host, port, timeout_s, label=self.endpoint, peer="station", transport_error=KebaModbusTransportError,
            backoff_s=backoff_s, backoff_max_s=backoff_max_s, first_retry_immediate=False, detect_garbage=False,
        )
        self._enabled_written: bool | None = None
        self._reachable: bool | None = None

    @property
    def endpoint(self) -> str:
        """host:port unit n, for messages."""
        return f"{self.host}:{self.port} unit {self.unit_id}"

    # -- ChargerDriver ---------------------------------------------------------------------

    async def start(self) -> None:
        """Nothing to open up front: the connection is made by the first request."""

    async def read(self) -> ChargerReading:
        """State, cable, phase currents and the current limit in force, one register per request."""
        taken_s = self.clock()
        return await self._bounded(lambda: self._read(taken_s))

    async def apply_setpoint(self, current_a: float, valid_for_s: float) -> bool:
        """0 -> write 5014 = 0; >0 -> 5004 = mA and 5014 = 1, checked in 1100.

        `valid_for_s` is not sent: the station's failsafe timer (`arm_failsafe`) is its only lifetime.
        """
        if math.isnan(current_a) or current_a < 0:
            raise ValueError(f"setpoint must be >= 0 A, got {current_a}")
        milliamps = 0 if current_a == 0 else current_ma(current_a)
        await self._bounded(lambda: self._apply(milliamps))
        return True

    async def arm_failsafe(self, settings: FailsafeSettings) -> FailsafeSettings:
        """Write the failsafe current (5016) and timeout (5018); return what 1600/1602 read back."""
        timeout_s = failsafe_timeout_s(settings.timeout_s)
        milliamps = failsafe_current_ma(settings.current_a)
        return await self._bounded(lambda: self._arm(timeout_s, milliamps))

    async def close(self) -> None:
        """Close the connection; the station keeps its last setpoint and failsafe."""
        async with self._lock:
            self._link.drop(count_failure=False)

    # -- the work ---------------------------------------------------------------------------

    async def _read(self, taken_s: float) -> ChargerReading:
        state_code = await self._read_u32(regs.CHARGING_STATE)
        plug = plug_state(await self._read_u32(regs.CABLE_STATE))
        currents_a = [await self._read_u32(register) / 1000 for register in regs.PHASE_CURRENTS]
        limit_ma = await self._read_u32(regs.MAX_CHARGING_CURRENT)
        # 5014 cannot be read back: what we wrote, else "not suspended" (state 5), as evcc does.
        enabled = self._enabled_written if self._enabled_written is not None else state_code != 5
        return ChargerReading(
            plug=plug,
            state=charging_state(state_code, plug),
            enabled=enabled,
            current_a=(currents_a[0], currents_a[1], currents_a[2]),
            setpoint_a=limit_ma / 1000 if enabled else 0.0,
            monotonic_s=taken_s,
        )

    async def _apply(self, milliamps: int) -> None:
        if milliamps == 0:
            await self._write_u16(regs.SET_ENABLE, 0)
            self._enabled_written = False
            return
        await self._write_u16(regs.SET_CHARGING_CURRENT, milliamps)
        await self._write_u16(regs.SET_ENABLE, 1)
        self._enabled_written = True
        await self._verify_limit(milliamps)

    async def _verify_limit(self, milliamps: int) -> None:
        limit_ma = await self._read_u32(regs.MAX_CHARGING_CURRENT)
        if limit_ma == milliamps:
            return
        if 0 < limit_ma < milliamps:
            # The station's hardware (DIP switches, cable) may cap the current below ours.
            supported = regs.Register("max supported current", MAX_SUPPORTED_CURRENT_ADDRESS, False, "mA", "KEBA-1.02")
            if limit_ma == await self._read_u32(supported):
                return
        raise ChargerRejected(f"{self.endpoint}: wrote {milliamps} mA to 5004, 1100 shows {limit_ma} mA")

    async def _arm(self, timeout_s: int, milliamps: int) -> FailsafeSettings:
        # The current first: once the timeout is written the timer runs, and it must never
        # run with a current other than the plan's.
        await self._write_u16(regs.SET_FAILSAFE_CURRENT, milliamps)
        await self._write_u16(regs.SET_FAILSAFE_TIMEOUT, timeout_s)
        station_ma = await self._read_u32(regs.FAILSAFE_CURRENT)
        station_s = await self._read_u32(regs.FAILSAFE_TIMEOUT)
        if station_s != timeout_s or station_ma != milliamps:
            raise ChargerRejected(
                f"{self.endpoint}: failsafe reads back {station_s} s / {station_ma} mA in 1602/1600, "
                f"wanted {timeout_s} s / {milliamps} mA"
            )
        return FailsafeSettings(timeout_s=station_s, current_a=station_ma / 1000)

    # -- connection and requests ------------------------------------------------------------

    async def _bounded(self, work: Callable[[], Awaitable[T]]) -> T:
        """One call: under the lock, within `timeout_s`; reachability logged on its edges only."""
        async with self._lock:
            result = await self._link.bounded(work, on_failure=self._mark_unreachable)
        if self._reachable is False:
            log.info("KEBA station %s answers again", self.endpoint)
        self._reachable = True
        self._link.succeeded()
        return result

    def _mark_unreachable(self, why: str) -> None:
        if self._reachable is not False:
            log.warning("KEBA station %s unreachable: %s", self.endpoint, why)
        self._reachable = False

    async def _call(self, what: str, request: Callable[[AsyncModbusTcpClient], Awaitable[object]]) -> object:
        """Run one request; a hang-up during it fails at once, an exception answer is `KebaModbusException`."""
        await self._link.client()
        wait_s = self._last_request_s + self.request_pause_s - time.monotonic()
        if wait_s > 0:
            await asyncio.sleep(wait_s)
        self._last_request_s = time.monotonic()
        response = await self._link.request(what, request)
        if isinstance(response, ExceptionResponse) or response.isError():  # type: ignore[attr-defined]
            code = int(getattr(response, "exception_code", 0))
            raise KebaModbusException(code, f"{self.endpoint}: Modbus exception {code} during {what}")
        return response

    async def _read_u32(self, register: regs.Register) -> int:
        """One 32-bit unsigned value from two holding registers, high word first."""
        what = f"read of {register.address} ({register.name})"
        response = await self._call(
            what, lambda modbus: modbus.read_holding_registers(register.address, count=2, device_id=self.unit_id)
        )
        words = list(response.registers)  # type: ignore[attr-defined]
        if len(words) != 2:
            raise ChargerProtocolError(f"{self.endpoint}: {what} returned {len(words)} registers, not 2")
        return (words[0] << 16) | words[1]

    async def _write_u16(self, register: regs.Register, value: int) -> None:
        """One 16-bit value with function code 6."""
        what = f"write of {value} to {register.address} ({register.name})"
        await self._call(what, lambda modbus: modbus.write_register(register.address, value, device_id=self.unit_id))


def failsafe_current_ma(current_a: float) -> int:
    """A failsafe current in A -> the mA register 5016 takes: 0 (suspend) or 6000..32000, else ValueError."""
    milliamps = round(current_a * 1000)
    if milliamps != 0 and not regs.FAILSAFE_CURRENT_MIN_MA <= milliamps <= regs.FAILSAFE_CURRENT_MAX_MA:
        raise ValueError(
            f"failsafe current {current_a:g} A is outside KEBA's 0 or "
            f"{regs.FAILSAFE_CURRENT_MIN_MA / 1000:g}..{regs.FAILSAFE_CURRENT_MAX_MA / 1000:g} A (5016)"
        )
    return milliamps


def failsafe_timeout_s(timeout_s: int) -> int:
    """A failsafe timeout for register 5018: 0 (off) or 5..600 s, else ValueError."""
    if timeout_s != 0 and not regs.FAILSAFE_TIMEOUT_MIN_S <= timeout_s <= regs.FAILSAFE_TIMEOUT_MAX_S:
        raise ValueError(
            f"failsafe timeout {timeout_s} s is outside KEBA's 0 or "
            f"{regs.FAILSAFE_TIMEOUT_MIN_S}..{regs.FAILSAFE_TIMEOUT_MAX_S} s (5018)"
        )
    return int(timeout_s)
