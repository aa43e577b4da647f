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
from pymodbus.pdu import ExceptionResponse

from meters import catalog, sunspec
from meters.decode import decode_reading
from meters.errors import MeterDataError, MeterMapError, MeterModbusException, MeterTransportError
from meters.modbus_link import ModbusLink
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
        self._lock = asyncio.Lock()
        self._link = ModbusLink(
            self.host, self.port, timeout_s, label=self.endpoint, peer="meter", transport_error=MeterTransportError,
            backoff_s=backoff_s, backoff_max_s=backoff_max_s, first_retry_immediate=True, detect_garbage=True,
            on_connect=self._forget_sunspec_layout,
        )
        self._link.on_drop = self._forget_sunspec_layout
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
            try:
                return await self._link.bounded(self._read_locked)
            except MeterDataError:
                # A SunSpec device whose chain changed (firmware update) decodes as
                # garbage: find the meter model again on the next read.
                if self.model.protocol is Protocol.SUNSPEC:
                    self._registers = None
                raise

    async def _read_locked(self) -> MeterReading:
        await self._link.client()
        if self._registers is None:
            layout = await sunspec.discover(self._read_holding, self.model.sunspec_base_addresses)
            log.debug(
                "%s: SunSpec model %d at %d (base %d)",
                self.endpoint, layout.model_id, layout.model_address, layout.base_address,
            )
            self._use_registers(layout.registers, max_gap=sunspec.MODEL_LENGTH[layout.model_id])
        image: dict[tuple[RegisterKind, int], int] = {}
        for block in self._blocks:
            words = await self._request(block.kind, block.address, block.count)
            for offset, word in enumerate(words):
                image[(block.kind, block.address + offset)] = word
        read_at = datetime.now(timezone.utc)
        monotonic_s = time.monotonic()
        assert self._registers is not None
        return decode_reading(
            self.model, image, self._registers, read_at=read_at, monotonic_s=monotonic_s
        )

    async def _read_holding(self, address: int, count: int) -> Sequence[int]:
        return await self._request(RegisterKind.HOLDING, address, count)

    def _forget_sunspec_layout(self) -> None:
        # A new connection may reach a device whose SunSpec chain changed (firmware update): discover again.
        if self.model.protocol is Protocol.SUNSPEC:
            self._registers = None

    async def _request(self, kind: RegisterKind, address: int, count: int) -> list[int]:
        def call(modbus: AsyncModbusTcpClient):
            read = modbus.read_holding_registers if kind is RegisterKind.HOLDING else modbus.read_input_registers
            return read(address, count=count, device_id=self.unit_id)

        response = await self._link.request("a read", call)
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
        self._link.succeeded()
        return words

    async def close(self) -> None:
        """Close the connection; the client may be read again afterwards (it reconnects)."""
        async with self._lock:
            self._link.drop(count_failure=False)

    async def __aenter__(self) -> MeterClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()
