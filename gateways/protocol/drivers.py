"""The one table of charger drivers the agent ships: address needs, defaults, and how their stations are told apart.

The config parser (a host required or not, one station one driver), the
agent's registry (defaults) and the fleet's validation all read it, so a new
driver is one row here plus its class in `gateways.chargers.registry`.
"""

from __future__ import annotations

from dataclasses import dataclass

STATION_BY_HOST = "host"
"""Uniqueness rule: the driver takes the whole host (KEBA UDP: the station's port 7090 is fixed)."""
STATION_BY_HOST_AND_PORT = "host+port"
"""Uniqueness rule: stations on one host are told apart by port (Modbus TCP servers, simulators)."""
STATION_BY_IDENTITY = "identity"
"""Uniqueness rule: the charger dials in (OCPP); its charge point identity is the station (see ocpp_keys)."""
STATION_IN_PROCESS = "in-process"
"""Uniqueness rule: no address at all (the simulated driver); the charger id is the station."""


@dataclass(frozen=True)
class ChargerDriverSpec:
    """What the config needs to know about one charger driver: its address and how its stations are told apart."""

    key: str
    needs_host: bool
    default_port: int | None
    default_unit_id: int | None
    station_rule: str

    def station_port(self, port: int | None) -> int | None:
        """The port a charger of this driver is reached on: its own, else the driver's default."""
        return port if port is not None else self.default_port


CHARGER_DRIVER_TABLE: dict[str, ChargerDriverSpec] = {
    spec.key: spec
    for spec in (
        # KEBA UDP Programmers Guide V2.01, 2.2: the station listens on UDP 7090, not configurable.
        ChargerDriverSpec("keba-udp", needs_host=True, default_port=7090, default_unit_id=None,
                          station_rule=STATION_BY_HOST),
        # KEBA P30/P40 Modbus TCP Programmers Guides: port 502, unit id 255 (see keba_modbus_registers).
        ChargerDriverSpec("keba-modbus", needs_host=True, default_port=502, default_unit_id=255,
                          station_rule=STATION_BY_HOST_AND_PORT),
        # OCPP-J 1.6, 3.1: the charge point dials in to the agent's `ocpp_listen`; its identity is the station.
        ChargerDriverSpec("ocpp16", needs_host=False, default_port=None, default_unit_id=None,
                          station_rule=STATION_BY_IDENTITY),
        ChargerDriverSpec("simulated", needs_host=False, default_port=None, default_unit_id=None,
                          station_rule=STATION_IN_PROCESS),
    )
}
"""The one table of charger drivers; the agent's registry maps each key to the class that speaks it."""

CHARGER_DRIVERS: tuple[str, ...] = tuple(CHARGER_DRIVER_TABLE)
"""Keys of the charger drivers the agent ships."""

DRIVERS_WITHOUT_HOST: tuple[str, ...] = tuple(key for key, spec in CHARGER_DRIVER_TABLE.items() if not spec.needs_host)
"""Driver keys whose chargers need no network address."""
