"""A simulated grid operator's control box: one coil and one discrete input over real Modbus TCP.

For tests and the demo: `set_dimmed(True)` is the grid operator's "dim"
signal. The bit follows the configured polarity (`active`), so an inverted
contact is simulated as it is wired. Faults come from `meters.sim`'s server
(`box.server.faults`), and `stop()` makes the input unreadable.
"""

from __future__ import annotations

from meters.sim import ModbusTcpServer


class ControlBoxSimulator:
    """Serves the signal at `address` as coil (function code 1) and discrete input (2) for `unit_id`."""

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0, unit_id: int = 1, address: int = 0, active: int = 1):
        self.address = address
        self.active = active
        self.dimmed = False
        self.server = ModbusTcpServer(lambda kind, start, count: None, host=host, port=port,
                                      unit_ids=frozenset({unit_id}), bits=self._bits)

    @property
    def port(self) -> int:
        """The bound port."""
        return self.server.port

    def set_dimmed(self, dimmed: bool) -> None:
        """The grid operator's signal: True dims the site."""
        self.dimmed = dimmed

    def _bits(self, function: int, start: int, count: int) -> list[bool] | None:
        if not start <= self.address < start + count:
            return None
        bit = self.active if self.dimmed else 1 - self.active
        return [bool(bit) if start + i == self.address else False for i in range(count)]

    async def start(self) -> None:
        """Start serving."""
        await self.server.start()

    async def stop(self) -> None:
        """Stop serving (the input becomes unreadable)."""
        await self.server.stop()
