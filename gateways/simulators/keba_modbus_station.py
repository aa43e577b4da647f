"""`KebaModbusStation`: a simulated KEBA P30 x-series / P40 on Modbus TCP, built on pymodbus' server.

It follows the registers in `gateways.chargers.keba_modbus_registers` (sources there):
unit 255; FC 3 reads of exactly one 32-bit value (2 registers, high word first) at the
readable addresses; FC 6 writes of one 16-bit value at 5004, 5014, 5016, 5018. Any
other address, count or function code is answered with a Modbus exception. How a real
station answers a malformed request is not documented; the simulator's choices are:
unknown or write-only address -> 2 (illegal data address), wrong count or a value out
of range -> 3 (illegal data value), function 16 -> 1 (illegal function).

The failsafe follows [KEBA-P40-1.02] 4.7 (see the registers module): 5016 takes 0 or
6000..32000 mA and shows in 1600, 5018 takes 0 or 5..600 s and shows in 1602; when the
timer runs out the station applies the failsafe current until the next command. The
guide restarts the timer on every Modbus TCP command; this simulator restarts it on
writes only, the stricter reading, so tests show that the agent's setpoints (not its
reads) keep the failsafe quiet. The watchdog runs on the model's clock, which tests
inject.

pymodbus 3.16's `SimDevice` with an `action` callback does the work: the datastore holds
the register image, the callback refreshes it from the model before each read and
applies each write to the model. For tests: `exception_code` makes every request fail
with that Modbus exception, `hang_up` closes the connection when the next request arrives,
`ignore_writes` acknowledges writes to those addresses without applying them (a firmware
without the register, as far as the read-back can tell).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from pymodbus.constants import ExcCodes
from pymodbus.server import ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice

from gateways.chargers import keba_modbus_registers as regs
from gateways.chargers.keba_udp_protocol import CURRENT_MAX_MA, CURRENT_MIN_MA
from gateways.simulators.keba_station import KebaStationModel

log = logging.getLogger(__name__)

SERIAL_ADDRESS = 1014
PRODUCT_ADDRESS = 1016
POWER_ADDRESS = 1020
MAX_SUPPORTED_CURRENT_ADDRESS = 1110
SESSION_ENERGY_ADDRESS = 1502
TICK_S = 0.05

READABLE = (
    regs.CHARGING_STATE.address, regs.CABLE_STATE.address, 1006,
    regs.CURRENT_L1.address, regs.CURRENT_L2.address, regs.CURRENT_L3.address,
    SERIAL_ADDRESS, PRODUCT_ADDRESS, POWER_ADDRESS, regs.MAX_CHARGING_CURRENT.address,
    MAX_SUPPORTED_CURRENT_ADDRESS, SESSION_ENERGY_ADDRESS,
    regs.FAILSAFE_CURRENT.address, regs.FAILSAFE_TIMEOUT.address,
)
WRITABLE = (
    regs.SET_CHARGING_CURRENT.address, regs.SET_ENABLE.address,
    regs.SET_FAILSAFE_CURRENT.address, regs.SET_FAILSAFE_TIMEOUT.address,
)


class KebaModbusStation:
    """A simulated station on host:port (port 0: any free port, see `.port` after `start`)."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 502,
        *,
        model: KebaStationModel | None = None,
        serial: int = 17000002,
        product: int = 3041111,
    ) -> None:
        self.host = host
        self.port = port
        self.model = model or KebaStationModel()
        self.serial = serial
        self.product = product
        self.exception_code: int | None = None
        self.hang_up = False
        self.ignore_writes: set[int] = set()
        self.requests: list[tuple[int, int, int]] = []  # (function code, address, count)
        self._server: ModbusTcpServer | None = None
        self._ticker: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Listen and start the clock that drives the watchdog and energy."""
        simdata = [SimData(address, values=0, datatype=DataType.UINT32) for address in READABLE]
        simdata += [SimData(address, values=0, datatype=DataType.REGISTERS) for address in WRITABLE]
        device = SimDevice(id=regs.UNIT_ID, simdata=simdata, action=self._action)
        self._server = ModbusTcpServer(device, address=(self.host, self.port))
        await self._server.serve_forever(background=True)
        sockets = getattr(self._server.transport, "sockets", None)
        if sockets:
            self.port = sockets[0].getsockname()[1]
        self._ticker = asyncio.create_task(self._tick_forever(), name=f"keba-modbus-station-{self.port}")

    async def close(self) -> None:
        """Stop the clock and the server."""
        if self._ticker is not None:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ticker
            self._ticker = None
        if self._server is not None:
            await self._server.shutdown()
            self._server = None

    async def _tick_forever(self) -> None:
        while True:
            await asyncio.sleep(TICK_S)
            self.model.tick()

    def _values(self) -> dict[int, int]:
        model = self.model
        i1, i2, i3 = model.phase_currents_ma
        return {
            regs.CHARGING_STATE.address: model.state, regs.CABLE_STATE.address: model.plug, 1006: 0,
            regs.CURRENT_L1.address: i1, regs.CURRENT_L2.address: i2, regs.CURRENT_L3.address: i3,
            SERIAL_ADDRESS: self.serial, PRODUCT_ADDRESS: self.product, POWER_ADDRESS: model.power_mw,
            regs.MAX_CHARGING_CURRENT.address: model.max_curr_ma,
            MAX_SUPPORTED_CURRENT_ADDRESS: model.hardware_max_ma,
            SESSION_ENERGY_ADDRESS: int(model.session_energy_01wh / 10),
            regs.FAILSAFE_CURRENT.address: model.curr_fs_ma, regs.FAILSAFE_TIMEOUT.address: model.tmo_fs_s,
        }

    async def _action(
        self,
        function_code: int,
        start_address: int,
        address: int,
        count: int,
        registers: list[int],
        set_values: list[int] | list[bool] | None,
    ) -> ExcCodes | None:
        """pymodbus calls this before it serves a request: refresh the image, apply writes, or refuse."""
        if not (function_code == 6 and set_values is None):  # pymodbus' echo of a write is not a request
            self.requests.append((function_code, address, count))
        if self.hang_up:
            self._close_connections()
            return ExcCodes.DEVICE_FAILURE  # never reaches the client: the connection is gone
        if self.exception_code is not None:
            return ExcCodes(self.exception_code)
        self.model.tick()
        if function_code == 3:
            if address not in READABLE:
                return ExcCodes.ILLEGAL_ADDRESS
            if count != 2:
                return ExcCodes.ILLEGAL_VALUE
            value = self._values()[address]
            offset = address - start_address
            registers[offset] = (value >> 16) & 0xFFFF
            registers[offset + 1] = value & 0xFFFF
            return None
        if function_code == 6:
            if address not in WRITABLE:
                return ExcCodes.ILLEGAL_ADDRESS
            if set_values is None or address in self.ignore_writes:
                return None  # pymodbus reads the register back to echo the write; or a test's deaf register
            return self._write(address, int(set_values[0]))
        return ExcCodes.ILLEGAL_FUNCTION

    def _write(self, address: int, value: int) -> ExcCodes | None:
        model = self.model
        if address == regs.SET_CHARGING_CURRENT.address:
            if not CURRENT_MIN_MA <= value <= CURRENT_MAX_MA:
                return ExcCodes.ILLEGAL_VALUE
            model.set_current(value)
        elif address == regs.SET_ENABLE.address:
            if value not in (0, 1):
                return ExcCodes.ILLEGAL_VALUE
            model.set_enabled(value == 1)
        elif address == regs.SET_FAILSAFE_CURRENT.address:
            if value != 0 and not regs.FAILSAFE_CURRENT_MIN_MA <= value <= regs.FAILSAFE_CURRENT_MAX_MA:
                return ExcCodes.ILLEGAL_VALUE
            model.set_failsafe(model.tmo_fs_s, value)
        elif address == regs.SET_FAILSAFE_TIMEOUT.address:
            if value != 0 and not regs.FAILSAFE_TIMEOUT_MIN_S <= value <= regs.FAILSAFE_TIMEOUT_MAX_S:
                return ExcCodes.ILLEGAL_VALUE
            model.set_failsafe(value, model.curr_fs_ma)
        return None

    def _close_connections(self) -> None:
        server = self._server
        if server is None:
            return
        for connection in list(server.active_connections.values()):
            transport = getattr(connection, "transport", None)
            if transport is not None:
                transport.abort()
