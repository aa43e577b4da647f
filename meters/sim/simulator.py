"""`MeterSimulator`: a meter model served over Modbus TCP, with values you can change live.

Usable in-process (tests, the demo) as an async context manager, and from the CLI
(`python -m meters simulate MODEL --port P [--unit U] [--values FILE.json]`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

from meters import catalog
from meters.registers import MeterModel, Quantity, RegisterKind
from meters.sim.layouts import DEFAULT_VALUES, Image, SunSpecShape, build_image, quantity_values
from meters.sim.server import Fault, ModbusTcpServer


class MeterSimulator:
    """Serves `model`'s register layout on `host:port` (port 0: pick a free one).

    `set_values(...)` changes what the meter measures; `freeze()` keeps serving the
    current registers whatever is set; `drop_out(True)` makes it stop answering
    ("silent") or hang up ("close") or stop listening ("refuse"); `fault(...)` injects
    one specific misbehaviour (exception code, garbage, half frame).
    """

    def __init__(
        self,
        model: MeterModel | str,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        unit_id: int | None = None,
        values: Mapping[str, object] | None = None,
        sunspec_shape: SunSpecShape | None = None,
    ) -> None:
        self.model = catalog.get_model(model) if isinstance(model, str) else model
        self.unit_id = self.model.default_unit_id if unit_id is None else unit_id
        self._shape = sunspec_shape
        self._values: dict[str, object] = dict(DEFAULT_VALUES)
        self._frozen = False
        self._image: Image = {}
        # A meter documented to ignore the unit id answers every id, as the device would.
        unit_ids = None if self.model.ignores_unit_id else frozenset({self.unit_id})
        self._server = ModbusTcpServer(self._lookup, host, port, unit_ids)
        self.set_values(values or {})

    @property
    def host(self) -> str:
        """The address the simulator listens on."""
        return self._server.host

    @property
    def port(self) -> int:
        """The bound TCP port."""
        return self._server.port

    @property
    def requests_served(self) -> int:
        """Correct answers sent so far (the benchmark and tests count requests with it)."""
        return self._server.requests_served

    @property
    def reads_by_function(self) -> dict[int, int]:
        """Reads answered with data so far, per Modbus function code (3 holding, 4 input)."""
        return dict(self._server.reads_by_function)

    @property
    def values(self) -> dict[str, object]:
        """The values currently simulated, reading-shaped."""
        return dict(self._values)

    def set_values(self, values: Mapping[str, object] | None = None, /, **changes: object) -> None:
        """Change measured values (reading field names: current_a=[..], power_total_w=..., ...).

        Fields not mentioned keep their value; None makes the meter lack that value.
        Raises ValueError (and changes nothing) if the layout cannot encode a value.
        """
        merged = {**self._values, **(values or {}), **changes}
        merged.pop("model", None)
        image = build_image(self.model, quantity_values(merged), self._shape)
        self._values = merged
        if not self._frozen:
            self._image = image

    def set_sunspec_shape(self, shape: SunSpecShape) -> None:
        """Serve another SunSpec layout from now on (a firmware update that moved the models)."""
        self._shape = shape
        self._image = build_image(self.model, quantity_values(self._values), shape)

    def load_json(self, path: str | Path) -> None:
        """Set values from a JSON object file (the shape `read --json` prints)."""
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        if not isinstance(data, dict):
            raise ValueError(f"{path}: expected a JSON object")
        self.set_values(data)

    def freeze(self, frozen: bool = True) -> None:
        """Keep serving the current registers (a meter whose values stopped updating)."""
        self._frozen = frozen
        if not frozen:
            self.set_values()

    def set_register(self, kind: RegisterKind, address: int, word: int) -> None:
        """Overwrite one raw register (for invalid markers, NaN, out-of-range values in tests)."""
        if (kind, address) not in self._image:
            raise KeyError(f"register {address:#06x} is not part of this layout")
        self._image = {**self._image, (kind, address): word & 0xFFFF}

    async def drop_out(self, dropped: bool = True, *, mode: str = "silent") -> None:
        """Stop answering (mode 'silent'), hang up on requests ('close') or stop listening ('refuse')."""
        if not dropped:
            self._server.faults.fault = Fault.NONE
            await self._server.start()
            return
        if mode == "refuse":
            await self._server.stop()
        elif mode in ("silent", "close"):
            self._server.faults.fault = Fault(mode)
        else:
            raise ValueError(f"unknown drop-out mode {mode!r}")

    def fault(self, fault: Fault | str, *, exception_code: int = 4) -> None:
        """Misbehave on every following request until `fault(Fault.NONE)`."""
        self._server.faults.fault = Fault(fault)
        self._server.faults.exception_code = exception_code

    def disconnect_clients(self) -> None:
        """Hang up on every connected client once (they must reconnect)."""
        self._server.disconnect_all()

    def _lookup(self, kind: RegisterKind, address: int, count: int) -> list[int] | None:
        image = self._image
        try:
            return [image[(kind, address + i)] for i in range(count)]
        except KeyError:
            return None

    async def start(self) -> MeterSimulator:
        """Start listening."""
        await self._server.start()
        return self

    async def stop(self) -> None:
        """Stop listening and hang up on clients."""
        await self._server.stop()

    async def __aenter__(self) -> MeterSimulator:
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()


__all__ = ["Fault", "MeterSimulator", "Quantity", "SunSpecShape"]
