"""The grid operator's control box (EnWG section 14a) read as one Modbus TCP coil or discrete input.

Control boxes (and the I/O modules an installer wires a relay contact to)
offer the "dim" signal as a bit: function code 1 (read coils) or 2 (read
discrete inputs), at the 0-based protocol address. ``active`` says which bit
value means dimmed, so a normally closed contact (0 = dimmed) works too.

One connection object per endpoint with a lock and a deadline around every
read (``meters.modbus_link.ModbusLink``), like the meter. Whoever reads decides
what a failure means; for dimming it means dimmed (``gateways.external_caps``).
"""

from __future__ import annotations

import asyncio

from gateways.protocol.power_caps import DimmingInputConfig
from meters.modbus_link import ModbusLink

BACKOFF_S = 1.0
BACKOFF_MAX_S = 10.0


class DimmingInputError(Exception):
    """The input could not be read (transport failure, no answer, Modbus exception)."""


class DimmingInputRefused(DimmingInputError):
    """The device answered with a Modbus exception (wrong address or unit): the connection itself is fine."""


class DimmingInput:
    """Reads whether the control box signals "dimmed" now."""

    def __init__(self, config: DimmingInputConfig, timeout_s: float):
        self.config = config
        self.timeout_s = config.timeout_s if config.timeout_s is not None else timeout_s
        self._lock = asyncio.Lock()
        self._link = ModbusLink(
            config.host, config.port, self.timeout_s, label=self.endpoint, peer="control box",
            transport_error=DimmingInputError, backoff_s=BACKOFF_S, backoff_max_s=BACKOFF_MAX_S,
            first_retry_immediate=True, detect_garbage=True,
        )

    @property
    def endpoint(self) -> str:
        """Where the signal is read, for messages: host:port unit n, the kind and address."""
        config = self.config
        return f"{config.host}:{config.port} unit {config.unit_id} {config.kind.replace('_', ' ')} {config.address}"

    async def read(self) -> bool:
        """True when the bit shows the "dimmed" value; raises `DimmingInputError` when it cannot be read."""
        async with self._lock:
            return await self._link.bounded(self._read_locked, keep_open=(DimmingInputRefused,))

    async def _read_locked(self) -> bool:
        config = self.config
        await self._link.client()

        def call(modbus):
            read = modbus.read_coils if config.kind == "coil" else modbus.read_discrete_inputs
            return read(config.address, count=1, device_id=config.unit_id)

        response = await self._link.request(f"reading the {config.kind.replace('_', ' ')}", call)
        if response.isError():
            code = getattr(response, "exception_code", "?")
            raise DimmingInputRefused(f"{self.endpoint}: Modbus exception {code}")
        self._link.succeeded()
        return int(bool(response.bits[0])) == config.active

    async def close(self) -> None:
        """Close the connection."""
        self._link.drop(count_failure=False)
