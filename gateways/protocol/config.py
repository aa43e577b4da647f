"""The site config: one gateway, its charging networks, their meter, chargers and limits.

Field names are those of the agent's TOML file and of the server's JSON; the
dataclasses here parse and validate both (`parse_site_config`) and turn back
into plain data (`SiteConfig.to_dict`).
"""

from __future__ import annotations

import zoneinfo
from dataclasses import asdict, dataclass, field

from balancing import DEFAULT_MIN_CURRENT_A, PHASE_ROTATIONS
from gateways.protocol.fields import Fields, SchemaError, check_number

CHARGER_DRIVERS: tuple[str, ...] = ("keba-udp", "keba-modbus", "simulated")
"""Keys of the charger drivers the agent ships; the agent's driver registry maps each to its class."""

DRIVERS_WITHOUT_HOST: tuple[str, ...] = ("simulated",)
MAX_CHARGER_CURRENT_A = 80
KEBA_FAILSAFE_TIMEOUT_RANGE_S = (10, 600)


class ConfigError(SchemaError):
    """The site config is invalid; the message names the key and the problem."""


@dataclass(frozen=True)
class GatewayConfig:
    """Settings of the agent itself."""

    id: str
    poll_interval_s: float = 1.0
    state_dir: str = "/var/lib/fuseguard"
    keba_udp_bind: str = "0.0.0.0"
    keba_udp_port: int = 7090
    failsafe_timeout_s: int = 60
    """After this long without the agent, each charger falls back by itself to its failsafe current."""
    stale_after_polls: int = 3
    """A meter with no new reading for this many poll intervals counts as lost."""
    time_zone: str = "UTC"
    """IANA name of the site's time zone (``Europe/Berlin``): the clock scheduled caps are read by."""


@dataclass(frozen=True)
class MeterConfig:
    """The grid meter of a network: a catalog model (or a custom map file) at a Modbus TCP address."""

    model: str
    host: str
    port: int | None = None
    unit_id: int | None = None
    phase_rotation: str = "L1L2L3"
    timeout_s: float | None = None
    map: str | None = None
    """Path of a custom register map (TOML) for meters outside the catalog; `model` then names it."""


@dataclass(frozen=True)
class ChargerConfig:
    """One charging station of a network."""

    id: str
    driver: str
    name: str | None = None
    host: str | None = None
    port: int | None = None
    unit_id: int | None = None
    phase_rotation: str = "L1L2L3"
    phases: int = 3
    min_current_a: float = DEFAULT_MIN_CURRENT_A
    max_current_a: float = 16
    priority: int = 0


@dataclass(frozen=True)
class NetworkConfig:
    """Chargers regulated together against one meter's limits."""

    id: str
    max_current_per_phase_a: tuple[float, float, float]
    meter: MeterConfig
    name: str | None = None
    chargers: tuple[ChargerConfig, ...] = ()
    max_power_w: float | None = None
    fallback_power_w: float | None = None
    nominal_voltage_v: float = 230
    max_unbalance_a: float | None = None


@dataclass(frozen=True)
class SiteConfig:
    """Everything one gateway needs to regulate its site."""

    gateway: GatewayConfig
    networks: tuple[NetworkConfig, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict:
        """Plain data with the TOML/JSON field names (tuples as lists, None kept as null)."""
        return _plain(asdict(self))


def _plain(value):
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return value


def parse_site_config(data) -> SiteConfig:
    """Validate a site config (parsed TOML or JSON) into dataclasses; raises `ConfigError`."""
    root = Fields(data, "", ConfigError)
    gateway = _parse_gateway(root.table("gateway"))
    networks = tuple(_parse_network(item, gateway) for item in root.tables("networks", []))
    root.reject_unknown()
    _check_unique((n.id for n in networks), "networks", "id")
    _check_stations_driven_once(networks)
    return SiteConfig(gateway=gateway, networks=networks)


def _parse_gateway(f: Fields) -> GatewayConfig:
    low, high = KEBA_FAILSAFE_TIMEOUT_RANGE_S
    config = GatewayConfig(
        id=f.string("id"),
        poll_interval_s=f.number("poll_interval_s", 1.0, minimum=0.1, maximum=60),
        state_dir=f.string("state_dir", "/var/lib/fuseguard"),
        keba_udp_bind=f.string("keba_udp_bind", "0.0.0.0"),
        keba_udp_port=f.integer("keba_udp_port", 7090, minimum=1, maximum=65535),
        failsafe_timeout_s=f.integer("failsafe_timeout_s", 60, minimum=low, maximum=high),
        stale_after_polls=f.integer("stale_after_polls", 3, minimum=1, maximum=100),
        time_zone=_parse_time_zone(f),
    )
    f.reject_unknown()
    return config


def _parse_time_zone(f: Fields) -> str:
    """An IANA time zone name this machine's zone database knows (a standalone file may leave it out: UTC)."""
    name = f.string("time_zone", "UTC")
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f.at("time_zone"), f"{name!r} is not an IANA time zone name such as Europe/Berlin") from None
    return name


def _parse_per_phase_limit(f: Fields) -> tuple[float, float, float]:
    value = f.raw("max_current_per_phase_a")
    path = f.at("max_current_per_phase_a")
    if isinstance(value, list):
        if len(value) != 3:
            raise ConfigError(path, f"must be one number or a list of three (L1, L2, L3), got {len(value)} values")
        return tuple(check_number(ConfigError, f"{path}[{i}]", v, minimum=1, maximum=4000) for i, v in enumerate(value))
    single = check_number(ConfigError, path, value, minimum=1, maximum=4000)
    return (single, single, single)


def _parse_network(f: Fields, gateway: GatewayConfig) -> NetworkConfig:
    network_id = f.string("id")
    limits = _parse_per_phase_limit(f)
    max_power_w = f.number("max_power_w", None, minimum=1, nullable=True)
    fallback_power_w = f.number("fallback_power_w", None, minimum=0, nullable=True)
    if fallback_power_w and max_power_w is not None and fallback_power_w > max_power_w:
        raise ConfigError(
            f.at("fallback_power_w"), f"({fallback_power_w} W) must not exceed max_power_w ({max_power_w} W)"
        )
    meter = _parse_meter(f.table("meter"), gateway)
    chargers = tuple(_parse_charger(item) for item in f.tables("chargers", []))
    _check_unique((c.id for c in chargers), f.at("chargers"), "id")
    network = NetworkConfig(
        id=network_id,
        name=f.string("name", None),
        max_current_per_phase_a=limits,
        meter=meter,
        chargers=chargers,
        max_power_w=max_power_w,
        fallback_power_w=fallback_power_w,
        nominal_voltage_v=f.number("nominal_voltage_v", 230, minimum=100, maximum=260),
        max_unbalance_a=f.number("max_unbalance_a", None, minimum=0, nullable=True),
    )
    f.reject_unknown()
    return network


def _parse_meter(f: Fields, gateway: GatewayConfig) -> MeterConfig:
    custom_map = f.string("map", None)
    model = f.string("model")
    if custom_map is None:
        from meters.catalog import model_keys

        if model not in model_keys():
            raise ConfigError(f.at("model"), f"{model!r} is not in the meter catalog (`python -m meters list`); "
                              "for other meters give a custom register map with `map = \"FILE.toml\"`")
    timeout_s = f.number("timeout_s", None, minimum=0.05, nullable=True)
    if timeout_s is not None and timeout_s >= gateway.poll_interval_s:
        raise ConfigError(f.at("timeout_s"), f"({timeout_s} s) must be shorter than gateway.poll_interval_s "
                          f"({gateway.poll_interval_s} s), or one dead meter stalls the loop")
    meter = MeterConfig(
        model=model,
        host=f.string("host"),
        port=f.integer("port", None, minimum=1, maximum=65535, nullable=True),
        unit_id=f.integer("unit_id", None, minimum=0, maximum=255, nullable=True),
        phase_rotation=f.string("phase_rotation", "L1L2L3", choices=PHASE_ROTATIONS),
        timeout_s=timeout_s,
        map=custom_map,
    )
    f.reject_unknown()
    return meter


def _parse_charger(f: Fields) -> ChargerConfig:
    driver = f.string("driver", choices=CHARGER_DRIVERS)
    host = f.string("host", None)
    if host is None and driver not in DRIVERS_WITHOUT_HOST:
        raise ConfigError(f.at("host"), f"is required for the {driver} driver")
    min_current_a = f.number("min_current_a", DEFAULT_MIN_CURRENT_A, minimum=DEFAULT_MIN_CURRENT_A, maximum=MAX_CHARGER_CURRENT_A)
    max_current_a = f.number("max_current_a", 16, minimum=DEFAULT_MIN_CURRENT_A, maximum=MAX_CHARGER_CURRENT_A)
    if max_current_a < min_current_a:
        raise ConfigError(f.at("max_current_a"), f"({max_current_a} A) must be at least min_current_a ({min_current_a} A)")
    phases = f.integer("phases", 3)
    if phases not in (1, 3):
        raise ConfigError(f.at("phases"), f"must be 1 or 3, got {phases}")
    charger = ChargerConfig(
        id=f.string("id"),
        driver=driver,
        name=f.string("name", None),
        host=host,
        port=f.integer("port", None, minimum=1, maximum=65535, nullable=True),
        unit_id=f.integer("unit_id", None, minimum=0, maximum=255, nullable=True),
        phase_rotation=f.string("phase_rotation", "L1L2L3", choices=PHASE_ROTATIONS),
        phases=phases,
        min_current_a=min_current_a,
        max_current_a=max_current_a,
        priority=f.integer("priority", 0, minimum=-1000, maximum=1000),
    )
    f.reject_unknown()
    return charger


def _check_unique(ids, path: str, key: str) -> None:
    seen: set[str] = set()
    for index, value in enumerate(ids):
        if value in seen:
            raise ConfigError(f"{path}[{index}].{key}", f"{value!r} is used twice")
        seen.add(value)


def _check_stations_driven_once(networks: tuple[NetworkConfig, ...]) -> None:
    """One station must never be commanded by two chargers (e.g. over UDP and Modbus at once).

    KEBA's UDP port is fixed, so a host driven over UDP is taken whole; Modbus
    stations are told apart by host and port (simulators share one address).
    """
    taken: list[tuple[ChargerConfig, str]] = []
    for n_index, network in enumerate(networks):
        for c_index, charger in enumerate(network.chargers):
            if charger.host is None:
                continue
            for other, name in taken:
                same_station = other.host == charger.host and (
                    "keba-udp" in (other.driver, charger.driver) or other.port == charger.port
                )
                if same_station:
                    raise ConfigError(
                        f"networks[{n_index}].chargers[{c_index}].host",
                        f"{charger.host} is already driven as {name} ({other.driver}); one station, one driver",
                    )
            taken.append((charger, f"{network.id}/{charger.id}"))
