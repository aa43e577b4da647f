"""Charger driver registry: the one place that maps a driver key to the factory that builds its driver.

What each key needs (a host, its default port and unit id, how its stations are
told apart) is in the protocol's `CHARGER_DRIVER_TABLE`; the factories here take
their defaults from it, so a new driver is one table row plus one factory.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from gateways.chargers.base import ChargerDriver
from gateways.chargers.simulated import SimulatedChargerDriver, SimulatedStation
from gateways.protocol import CHARGER_DRIVER_TABLE, ChargerConfig, ChargerDriverSpec, GatewayConfig, SiteConfig


class DriverContext:
    """What the drivers of one agent share: the KEBA UDP socket on port 7090, the simulated stations, the clock.

    `clock` is the regulator's clock; drivers stamp their readings with it.
    """

    def __init__(self, gateway: GatewayConfig, simulated_stations: dict[str, SimulatedStation] | None = None,
                 *, clock: Callable[[], float] = time.monotonic):
        self.gateway = gateway
        self.simulated_stations = simulated_stations if simulated_stations is not None else {}
        self.clock = clock
        self._keba_udp_transport = None
        self.ocpp = None
        """The OCPP 1.6J central system, while the site has OCPP chargers; it outlives config changes."""

    async def prepare(self, site: SiteConfig) -> None:
        """Before the drivers are built: know every OCPP charge point of the site, so none is refused as unknown.

        The central system stays open across config changes (chargers keep their
        websockets); it is reopened only when its address or TLS files change.
        """
        from gateways.protocol.ocpp_keys import OCPP_DRIVER

        ocpp_chargers = [c for n in site.networks for c in n.chargers if c.driver == OCPP_DRIVER]
        if self.ocpp is not None and (not ocpp_chargers or self.ocpp.settings != _ocpp_settings(site.gateway)):
            await self.ocpp.close()
            self.ocpp = None
        if not ocpp_chargers:
            return
        if self.ocpp is None:
            from gateways.ocpp16.central_system import CentralSystem

            self.ocpp = CentralSystem(site.gateway, clock=self.clock)
        for charger in ocpp_chargers:
            self.ocpp.link(charger)
        await self.ocpp.forget_except({c.charge_point_id for c in ocpp_chargers})

    async def keba_udp_transport(self):
        """The agent's one KEBA UDP endpoint, opened on first use."""
        if self._keba_udp_transport is None:
            from gateways.chargers.keba_udp import KebaUdpTransport

            self._keba_udp_transport = await KebaUdpTransport.open(self.gateway.keba_udp_bind, self.gateway.keba_udp_port)
        return self._keba_udp_transport

    async def close(self, *, reconfiguring: bool = False) -> None:
        """Close shared sockets; when `reconfiguring`, the OCPP central system stays (see `prepare`)."""
        if self._keba_udp_transport is not None:
            self._keba_udp_transport.close()
            self._keba_udp_transport = None
        if self.ocpp is not None and not reconfiguring:
            await self.ocpp.close()
            self.ocpp = None


def _ocpp_settings(gateway: GatewayConfig) -> tuple:
    return (gateway.ocpp_listen, gateway.ocpp_tls_cert, gateway.ocpp_tls_key)


DriverFactory = Callable[[ChargerConfig, ChargerDriverSpec, DriverContext, float], Awaitable[ChargerDriver]]


async def _simulated(config: ChargerConfig, spec: ChargerDriverSpec, context: DriverContext, timeout_s: float) -> ChargerDriver:
    station = context.simulated_stations.get(config.id)
    if station is None:
        station = SimulatedStation(config.id, wired_phases=config.phases)
        context.simulated_stations[config.id] = station
    return SimulatedChargerDriver(station, clock=context.clock)


async def _keba_udp(config: ChargerConfig, spec: ChargerDriverSpec, context: DriverContext, timeout_s: float) -> ChargerDriver:
    from gateways.chargers.keba_udp import KebaUdpDriver

    # The port is the gateway's shared socket (`keba_udp_port`), not the charger's: 7090 on both ends.
    return KebaUdpDriver(await context.keba_udp_transport(), config.host, timeout_s=timeout_s, clock=context.clock)


async def _keba_modbus(config: ChargerConfig, spec: ChargerDriverSpec, context: DriverContext, timeout_s: float) -> ChargerDriver:
    from gateways.chargers.keba_modbus import KebaModbusDriver

    unit_id = spec.default_unit_id if config.unit_id is None else config.unit_id
    return KebaModbusDriver(config.host, port=spec.station_port(config.port), unit_id=unit_id, timeout_s=timeout_s,
                            clock=context.clock)


async def _ocpp16(config: ChargerConfig, spec: ChargerDriverSpec, context: DriverContext, timeout_s: float) -> ChargerDriver:
    from gateways.chargers.ocpp16 import Ocpp16Driver

    if context.ocpp is None:  # built without `prepare` (a single driver in a test): know just this one
        from gateways.ocpp16.central_system import CentralSystem

        context.ocpp = CentralSystem(context.gateway, clock=context.clock)
    return Ocpp16Driver(context.ocpp, context.ocpp.link(config), timeout_s=timeout_s, clock=context.clock)


FACTORIES: dict[str, DriverFactory] = {
    "simulated": _simulated,
    "keba-udp": _keba_udp,
    "keba-modbus": _keba_modbus,
    "ocpp16": _ocpp16,
}
"""Driver key -> factory; every key of `CHARGER_DRIVER_TABLE` has one (a test checks)."""


async def make_driver(config: ChargerConfig, context: DriverContext, timeout_s: float) -> ChargerDriver:
    """Build the driver for one configured charger."""
    factory = FACTORIES.get(config.driver)
    spec = CHARGER_DRIVER_TABLE.get(config.driver)
    if factory is None or spec is None:
        raise ValueError(f"no driver for {config.driver!r}; known: {', '.join(sorted(set(FACTORIES) & set(CHARGER_DRIVER_TABLE)))}")
    return await factory(config, spec, context, timeout_s)
