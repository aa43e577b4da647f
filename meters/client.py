"""`MeterClient`: one async Modbus TCP connection per meter endpoint, read into `MeterReading`s.

One connection per endpoint with a lock (a meter answers one request at a time and
many cap their TCP sessions), a deadline on every read, reconnection with back-off,
and three distinct failure types so the gateway can report *why* a meter was lost.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from datetime import datetime, timezone

from pymodbus.client import AsyncModbusTcpClient
from pymodbus.exceptions import ModbusException
from pymodbus.pdu import ExceptionResponse

from meters import catalog, sunspec
from meters.decode import decode_reading
from meters.errors import MeterDataError, MeterMapError, MeterModbusException, MeterTransportError
from meters.plan import Block, plan_blocks
from meters.reading import MeterReading
from meters.registers import MeterModel, Protocol, Register, RegisterKind, UNVERIFIED_NO_MAP

log = logging.getLogger(__name__)

EXCEPTION_NAMES = {
    1: "illegal function",
    2: "illegal data address",
    3: "illegal data value",
    4: "server device failure",
    5: "acknowledge",
    6: "server device busy",
    8: "memory parity error",
    10: "gateway path unavailable",
    11: "gateway target device failed to respond",
}


def describe_exception(code: int) -> str:
    """'exception 2 (illegal data address)' for a Modbus exception code."""
    return f"exception {code} ({EXCEPTION_NAMES.get(code, 'unknown code')})"


class MeterClient:
    """Reads one meter: `await client.read()` -> `MeterReading`; `await client.close()` at the end.

    `model` is a catalog key or a `MeterModel` (a custom map). `port` and `unit_id`
    default to the model's. Each `read()` finishes (or fails) within `timeout_s`.
    After a transport failure the next connection attempt waits `backoff_s`, doubling
    per consecutive failure up to `backoff_max_s`; reads during the wait fail at once.
    """

    def __init__(
        self,
        model: MeterModel | str,
        host: str,
        port: int | None = None,
        unit_id: int | None = None,
        timeout_s: float = 1.0,
        *,
        backoff_s: float = 0.5,
        backoff_max_s: float = 10.0,
    ) -> None:
        self.model = catalog.get_model(model) if isinstance(model, str) else model
        if not self.model.readable:
            raise MeterMapError(
                f"{self.model.key}: {self.model.verification or UNVERIFIED_NO_MAP}; "
                f"read it with a custom map (--map FILE)"
            )
        if timeout_s <= 0:
            raise ValueError("timeout_s must be positive")
        self.host = host
        self.port = self.model.default_port if port is None else port
        self.unit_id = self.model.default_unit_id if unit_id is None else unit_id
        self.timeout_s = timeout_s
        self._backoff_initial_s = backoff_s
        self._backoff_max_s = backoff_max_s
        self._lock = asyncio.Lock()
        self._modbus: AsyncModbusTcpClient | None = None
        self._lost = asyncio.Event()
        self._garbage = False
        self._failures = 0
        self._next_attempt_s = 0.0
        self._registers: tuple[Register, ...] | None = None
        self._blocks: tuple[Block, ...] = ()
        if self.model.protocol is Protocol.MODBUS_TCP:
            self._use_registers(self.model.registers, self.model.max_gap_registers)

    @property
    def endpoint(self) -> str:
        """host:port/unit, for messages."""
        return f"{self.host}:{self.port} unit {self.unit_id}"

    def _use_registers(self, registers: tuple[Register, ...], max_gap: int) -> None:
        self._registers = registers
        self._blocks = plan_blocks(
            registers, max_registers=self.model.max_registers_per_request, max_gap=max_gap
        )

    @property
    def blocks(self) -> tuple[Block, ...]:
        """The read requests one `read()` makes (after SunSpec discovery, for SunSpec meters)."""
        return self._blocks

    async def read(self) -> MeterReading:
        """One reading; raises `MeterTransportError`, `MeterModbusException` or `MeterDataError`."""
        async with self._lock:
            self._raise_if_backing_off()
            try:
                async with asyncio.timeout(self.timeout_s):
                    return await self._read_locked()
            except TimeoutError:
                self._drop_connection()
                raise MeterTransportError(
                    f"{self.endpoint}: no answer within {self.timeout_s:g} s"
                ) from None
            except MeterTransportError:
                self._drop_connection()
                raise
            except MeterDataError:
                # A SunSpec device whose chain changed (firmware update) decodes as
                # garbage: find the meter model again on the next read.
                if self.model.protocol is Protocol.SUNSPEC:
                    self._registers = None
                raise

    async def _read_locked(self) -> MeterReading:
        modbus = await self._connected()
        if self._registers is None:
            layout = await sunspec.discover(self._read_holding, self.model.sunspec_base_addresses)
            log.debug(
                "%s: SunSpec model %d at %d (base %d)",
                self.endpoint, layout.model_id, layout.model_address, layout.base_address,
            )
            self._use_registers(layout.registers, max_gap=sunspec.MODEL_LENGTH[layout.model_id])
        image: dict[tuple[RegisterKind, int], int] = {}
        for block in self._blocks:
            words = await self._request(modbus, block.kind, block.address, block.count)
            for offset, word in enumerate(words):
                image[(block.kind, block.address + offset)] = word
        read_at = datetime.now(timezone.utc)
        monotonic_s = time.monotonic()
        assert self._registers is not None
        return decode_reading(
            self.model, image, self._registers, read_at=read_at, monotonic_s=monotonic_s
        )

    async def _read_holding(self, address: int, count: int) -> Sequence[int]:
        assert self._modbus is not None
        return await self._request(self._modbus, RegisterKind.HOLDING, address, count)

    def _raise_if_backing_off(self) -> None:
        if self._modbus is not None and self._modbus.connected:
            return
        wait_s = self._next_attempt_s - time.monotonic()
        if wait_s > 0:
            raise MeterTransportError(
                f"{self.endpoint}: not connected; next attempt in {wait_s:.1f} s (back-off)"
            )

    async def _connected(self) -> AsyncModbusTcpClient:
        if self._modbus is not None and self._modbus.connected:
            return self._modbus
        self._drop_connection(count_failure=False)
        # reconnect_delay=0: pymodbus must not reconnect behind our back; the
        # back-off here is the only one. retries=0: the deadline is ours too.
        lost = asyncio.Event()
        self._lost = lost
        self._garbage = False

        def inspect(sending: bool, data: bytes) -> bytes:
            # A Modbus TCP answer starts with an MBAP header whose protocol id is 0.
            # pymodbus silently drops anything else and waits for the timeout; seeing
            # it here turns "garbage on the wire" into an immediate, named failure.
            # pymodbus hands over its unconsumed receive buffer, which starts at a frame
            # boundary, so a frame split across TCP segments is not mistaken for garbage.
            if not sending and len(data) >= 4 and data[2:4] != b"\x00\x00":
                self._garbage = True
                lost.set()
            return data

        modbus = AsyncModbusTcpClient(
            self.host,
            port=self.port,
            timeout=self.timeout_s,
            retries=0,
            reconnect_delay=0,
            # pymodbus leaves a pending request waiting for its timeout when the peer
            # hangs up; this lets a read fail at once with the real reason instead.
            trace_connect=lambda connected: None if connected else lost.set(),
            trace_packet=inspect,
        )
        try:
            connected = await modbus.connect()
        except (OSError, ModbusException) as error:
            modbus.close()
            raise MeterTransportError(f"{self.endpoint}: cannot connect: {error}") from error
        if not connected:
            modbus.close()
            raise MeterTransportError(f"{self.endpoint}: connection refused or unreachable")
        self._modbus = modbus
        if self.model.protocol is Protocol.SUNSPEC:
            self._registers = None
        return modbus

    async def _request(
        self, modbus: AsyncModbusTcpClient, kind: RegisterKind, address: int, count: int
    ) -> list[int]:
        call = modbus.read_holding_registers if kind is RegisterKind.HOLDING else modbus.read_input_registers
        request = asyncio.ensure_future(call(address, count=count, device_id=self.unit_id))
        lost = asyncio.ensure_future(self._lost.wait())
        try:
            await asyncio.wait({request, lost}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            lost.cancel()
            if not request.done():
                request.cancel()
        if not request.done() or request.cancelled():
            if self._garbage:
                raise MeterTransportError(f"{self.endpoint}: answer is not a Modbus TCP frame")
            raise MeterTransportError(f"{self.endpoint}: connection closed by the meter during a read")
        try:
            response = request.result()
        except ModbusException as error:
            raise MeterTransportError(f"{self.endpoint}: {error}") from error
        except OSError as error:
            raise MeterTransportError(f"{self.endpoint}: {error}") from error
        if isinstance(response, ExceptionResponse) or response.isError():
            code = int(getattr(response, "exception_code", 0))
            raise MeterModbusException(
                code,
                f"{self.endpoint}: {describe_exception(code)} reading {count} registers "
                f"at {address:#06x} (function {int(kind)})",
            )
        words = list(response.registers)
        if len(words) != count:
            raise MeterTransportError(
                f"{self.endpoint}: asked for {count} registers at {address:#06x}, got {len(words)}"
            )
        self._failures = 0
        self._next_attempt_s = 0.0
        return words

    def _drop_connection(self, *, count_failure: bool = True) -> None:
        if self._modbus is not None:
            self._modbus.close()
            self._modbus = None
            if self.model.protocol is Protocol.SUNSPEC:
                self._registers = None
        if count_failure:
            # The first retry is immediate (a single lost frame should cost one poll,
            # not a back-off); consecutive failures wait longer and longer.
            delay_s = 0.0 if self._failures == 0 else min(
                self._backoff_max_s, self._backoff_initial_s * 2 ** (self._failures - 1)
            )
            self._failures += 1
            self._next_attempt_s = time.monotonic() + delay_s

    async def close(self) -> None:
        """Close the connection; the client may be read again afterwards (it reconnects)."""
        async with self._lock:
            self._drop_connection(count_failure=False)

    async def __aenter__(self) -> MeterClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()
