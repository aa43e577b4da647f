"""A simulated site: house load, simulated chargers with vehicles, and a meter simulator that sees them all.

Chargers with the `simulated` driver are in-process stations; `ocpp16`
chargers are simulated OCPP 1.6J charge points that dial in to the agent's
central system at `ocpp_url`, over a real websocket, like real ones.

The meter simulator serves the configured meter model over real Modbus TCP,
so the agent reads it exactly as it reads a real meter; its values are the
house load plus what the simulated chargers draw, mapped through each
charger's and the meter's phase rotation. Voltages and frequency jitter like
a real grid's (a meter whose values never move is treated as frozen).
"""

from __future__ import annotations

import asyncio
import random
import time

from balancing.phases import grid_phase
from gateways.chargers.simulated import SimulatedStation, Vehicle
from gateways.protocol import ChargerConfig, NetworkConfig
from gateways.protocol.ocpp_keys import OCPP_DRIVER
from meters.sim import MeterSimulator


class SimulatedNetwork:
    """One network's physical world: the house, the stations, the meter at the connection."""

    def __init__(self, network: NetworkConfig, *, house_load_a=(4.0, 2.0, 3.0), seed: int | None = None,
                 clock=time.monotonic, meter_port: int | None = None, ocpp_url: str | None = None):
        self.network = network
        self.house_load_a = tuple(house_load_a)
        self.random = random.Random(seed)
        self.stations = {c.id: self._station(c, clock, ocpp_url) for c in network.chargers}
        meter = network.meter
        port = meter.port if meter_port is None else meter_port  # 0: any free port (tests)
        self.meter = MeterSimulator(meter.model, host=meter.host, port=port or 0, unit_id=meter.unit_id)

    def _station(self, charger: ChargerConfig, clock, ocpp_url: str | None):
        if charger.driver != OCPP_DRIVER:
            return SimulatedStation(charger.id, wired_phases=charger.phases,
                                    nominal_voltage_v=self.network.nominal_voltage_v, clock=clock)
        from gateways.simulators.ocpp_station import OcppStation

        return OcppStation(ocpp_url or "ws://127.0.0.1:8887", charger.charge_point_id, password=charger.password,
                           connector_id=charger.connector_id, wired_phases=charger.phases)

    def ocpp_stations(self) -> list:
        """The simulated OCPP charge points (they run on their own, over websockets)."""
        return [station for station in self.stations.values() if not isinstance(station, SimulatedStation)]

    async def start(self) -> None:
        """Start serving the meter; the OCPP charge points start dialing in."""
        self.update_meter()
        await self.meter.start()
        for station in self.ocpp_stations():
            await station.start()

    async def stop(self) -> None:
        """Stop serving the meter and hang up the OCPP charge points."""
        for station in self.ocpp_stations():
            await station.close()
        await self.meter.stop()

    def plug_in(self, charger_id: str, vehicle: Vehicle | None = None) -> None:
        """Put a vehicle at a station."""
        self.stations[charger_id].plug_in(vehicle or Vehicle())

    def grid_current_a(self) -> tuple[float, float, float]:
        """Current per grid phase at the house connection: house plus every station's draw."""
        grid = list(self.house_load_a)
        for config in self.network.chargers:
            drawn = self.stations[config.id].current_a()
            for charger_phase, current in enumerate(drawn):
                grid[grid_phase(config.phase_rotation, charger_phase)] += current
        return tuple(grid)

    def update_meter(self) -> None:
        """Give the meter simulator the present grid values, in the meter's own phase order."""
        grid = self.grid_current_a()
        rotation = self.network.meter.phase_rotation
        per_meter_phase = [grid[grid_phase(rotation, meter_phase)] for meter_phase in range(3)]
        voltage_v = [round(self.network.nominal_voltage_v + self.random.uniform(-2.0, 2.0), 1) for _ in range(3)]
        power_w = [round(i * v, 1) for i, v in zip(per_meter_phase, voltage_v)]
        self.meter.set_values(
            current_a=[round(abs(i), 3) for i in per_meter_phase],
            voltage_v=voltage_v,
            power_w=power_w,
            power_total_w=round(sum(power_w), 1),
            frequency_hz=round(50.0 + self.random.uniform(-0.05, 0.05), 2),
        )

    def advance(self, dt_s: float) -> None:
        """Let simulated time pass for every station, then refresh the meter."""
        for station in self.stations.values():
            station.advance(dt_s)
        self.update_meter()

    async def run(self, step_s: float = 0.1) -> None:
        """Advance in real time until cancelled."""
        loop = asyncio.get_running_loop()
        last = loop.time()
        while True:
            await asyncio.sleep(step_s)
            now = loop.time()
            self.advance(now - last)
            last = now
