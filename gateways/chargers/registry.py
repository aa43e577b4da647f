"""Charger driver registry: the one place that maps a driver key to the class that speaks it."""

from __future__ import annotations

from gateways.chargers.base import ChargerDriver
from gateways.chargers.simulated import SimulatedChargerDriver, SimulatedStation
from gateways.protocol import CHARGER_DRIVERS, ChargerConfig, GatewayConfig


class DriverContext:
    """What the drivers of one agent share: the KEBA UDP socket on port 7090 and the simulated stations."""

    def __init__(self, gateway: GatewayConfig, simulated_stations: dict[str, SimulatedStation] | None = None):
        self.gateway = gateway
        self.simulated_stations = simulated_stations if simulated_stations is not None else {}
        self._keba_udp_transport = None

    async def keba_udp_transport(self):
        """The agent's one KEBA UDP endpoint, opened on first use."""
        if self._keba_udp_transport is None:
            from gateways.chargers.keba_udp import KebaUdpTransport

            self._keba_udp_transport = await KebaUdpTransport.open(self.gateway.keba_udp_bind, self.gateway.keba_udp_port)
        return self._keba_udp_transport

    async def close(self) -> None:
        """Close shared sockets."""
        if self._keba_udp_transport is not None:
            self._keba_udp_transport.close()
            self._keba_udp_transport = None


async def make_driver(config: ChargerConfig, context: DriverContext, timeout_s: float) -> ChargerDriver:
    """Build the driver for one configured charger."""
    if config.driver == "simulated":
        station = context.simulated_stations.get(config.id)
        if station is None:
            station = SimulatedStation(config.id, wired_phases=config.phases)
            context.simulated_stations[config.id] = station
        return SimulatedChargerDriver(station)
    if config.driver == "keba-udp":
        from gateways.chargers.keba_udp import KebaUdpDriver

        return KebaUdpDriver(await context.keba_udp_transport(), config.host, timeout_s=timeout_s)
    if config.driver == "keba-modbus":
        from gateways.chargers.keba_modbus import KebaModbusDriver

        return KebaModbusDriver(config.host, port=config.port or 502, unit_id=255 if config.unit_id is None else config.unit_id,
                                timeout_s=timeout_s)
    raise ValueError(f"no driver for {config.driver!r}; known: {', '.join(CHARGER_DRIVERS)}")
