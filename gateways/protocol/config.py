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
from gateways.protocol.ocpp_keys import check_ocpp_identities_once, parse_ocpp_keys, split_listen
from gateways.protocol.power_caps import (
    DimmingInputConfig,
    PowerCapConfig,
    RecurringCapConfig,
    parse_dimming_input,
    parse_power_caps,
    parse_recurring_caps,
)
from gateways.protocol.limits import (
    CHARGER_CURRENT_RANGE_A,
    DEFAULT_OCPP_PORT,
    DEFAULT_FAILSAFE_TIMEOUT_S,
    DEFAULT_FROZEN_AFTER_S,
    DEFAULT_POLL_INTERVAL_S,
    FAILSAFE_TIMEOUT_RANGE_S,
    FROZEN_AFTER_RANGE_S,
    METER_TIMEOUT_RANGE_S,
    NOMINAL_VOLTAGE_RANGE_V,
    PER_PHASE_LIMIT_RANGE_A,
    POLL_INTERVAL_RANGE_S,
    PORT_RANGE,
    PRIORITY_RANGE,
    UNIT_ID_RANGE,
    meter_timeout_error,
)

from gateways.protocol.drivers import CHARGER_DRIVER_TABLE, CHARGER_DRIVERS, STATION_BY_HOST, STATION_IN_PROCESS

MAX_CHARGER_CURRENT_A = CHARGER_CURRENT_RANGE_A[1]
KEBA_FAILSAFE_TIMEOUT_RANGE_S = FAILSAFE_TIMEOUT_RANGE_S


class ConfigError(SchemaError):
    """The site config is invalid; the message names the key and the problem."""


@dataclass(frozen=True)
class GatewayConfig:
    """Settings of the agent itself."""

    id: str
    """A stable key: the server sends the gateway's primary key, which survives renames."""
    poll_interval_s: float = DEFAULT_POLL_INTERVAL_S
    state_dir: str = "/var/lib/fuseguard"
    keba_udp_bind: str = "0.0.0.0"
    keba_udp_port: int = 7090
    failsafe_timeout_s: int = DEFAULT_FAILSAFE_TIMEOUT_S
    """After this long without the agent, each charger falls back by itself to its failsafe current."""
    frozen_after_s: float = DEFAULT_FROZEN_AFTER_S
    """A meter whose every value stays exactly the same this long counts as frozen, hence lost."""
    name: str | None = None
    """The gateway's name, for people; it may change while `id` stays."""
    time_zone: str = "UTC"
    """IANA name of the site's time zone (``Europe/Berlin``): the clock scheduled caps are read by."""
    ocpp_listen: str = f"0.0.0.0:{DEFAULT_OCPP_PORT}"
    """host:port of the OCPP 1.6J central system, opened only when a network has an OCPP charger."""
    ocpp_tls_cert: str | None = None
    """PEM certificate (chain) for wss:// (OCPP security profile 2); with `ocpp_tls_key`."""
    ocpp_tls_key: str | None = None


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
    charge_point_id: str | None = None
    """OCPP: the identity the charge point puts in its websocket URL (default: the charger's `id`)."""
    connector_id: int | None = None
    """OCPP: the connector regulated (default 1)."""
    password: str | None = None
    """OCPP: HTTP Basic password the charge point must present (security profile 1/2); None accepts any."""


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
    dimming: DimmingInputConfig | None = None
    """The grid operator's control box input (EnWG section 14a), if one is wired."""
    power_caps: tuple[PowerCapConfig, ...] = ()
    """Caps set from the fleet (or the file), each in force from its start to its end by the gateway's clock."""
    recurring_caps: tuple[RecurringCapConfig, ...] = ()
    """Caps that come back on given weekdays between two local times (tariff windows), by the gateway's clock."""


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
    check_ocpp_identities_once(networks, ConfigError)
    return SiteConfig(gateway=gateway, networks=networks)


def _parse_gateway(f: Fields) -> GatewayConfig:
    if "stale_after_polls" in f.data:
        raise ConfigError(
            f.at("stale_after_polls"),
            "was replaced by frozen_after_s: the seconds every meter value may stay unchanged before the meter "
            f"counts as frozen (default {DEFAULT_FROZEN_AFTER_S}, {FROZEN_AFTER_RANGE_S[0]}-{FROZEN_AFTER_RANGE_S[1]})",
        )
    poll_low, poll_high = POLL_INTERVAL_RANGE_S
    config = GatewayConfig(
        id=f.string("id"),
        name=f.string("name", None),
        poll_interval_s=f.number("poll_interval_s", DEFAULT_POLL_INTERVAL_S, minimum=poll_low, maximum=poll_high),
        state_dir=f.string("state_dir", "/var/lib/fuseguard"),
        keba_udp_bind=f.string("keba_udp_bind", "0.0.0.0"),
        keba_udp_port=f.integer("keba_udp_port", 7090, minimum=PORT_RANGE[0], maximum=PORT_RANGE[1]),
        failsafe_timeout_s=f.integer("failsafe_timeout_s", DEFAULT_FAILSAFE_TIMEOUT_S, minimum=FAILSAFE_TIMEOUT_RANGE_S[0],
                                     maximum=FAILSAFE_TIMEOUT_RANGE_S[1]),
        frozen_after_s=f.number("frozen_after_s", DEFAULT_FROZEN_AFTER_S, minimum=FROZEN_AFTER_RANGE_S[0],
                                maximum=FROZEN_AFTER_RANGE_S[1]),
        time_zone=_parse_time_zone(f),
        ocpp_listen=f.string("ocpp_listen", f"0.0.0.0:{DEFAULT_OCPP_PORT}"),
        ocpp_tls_cert=f.string("ocpp_tls_cert", None),
        ocpp_tls_key=f.string("ocpp_tls_key", None),
    )
    try:
        split_listen(config.ocpp_listen)
    except ValueError as error:
        raise ConfigError(f.at("ocpp_listen"), str(error)) from None
    if (config.ocpp_tls_cert is None) != (config.ocpp_tls_key is None):
        missing = "ocpp_tls_key" if config.ocpp_tls_key is None else "ocpp_tls_cert"
        raise ConfigError(f.at(missing), "is required too: TLS needs both the certificate and its key")
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
    low, high = PER_PHASE_LIMIT_RANGE_A
    if isinstance(value, list):
        if len(value) != 3:
            raise ConfigError(path, f"must be one number or a list of three (L1, L2, L3), got {len(value)} values")
        return tuple(check_number(ConfigError, f"{path}[{i}]", v, minimum=low, maximum=high) for i, v in enumerate(value))
    single = check_number(ConfigError, path, value, minimum=low, maximum=high)
    return (single, single, single)


def _parse_network_limits(f: Fields) -> dict:
    """A network's own settings (its limits and names), without its meter and chargers."""
    limits = _parse_per_phase_limit(f)
    max_power_w = f.number("max_power_w", None, minimum=1, nullable=True)
    fallback_power_w = f.number("fallback_power_w", None, minimum=0, nullable=True)
    if fallback_power_w and max_power_w is not None and fallback_power_w > max_power_w:
        raise ConfigError(
            f.at("fallback_power_w"), f"({fallback_power_w} W) must not exceed max_power_w ({max_power_w} W)"
        )
    return {
        "id": f.string("id"),
        "name": f.string("name", None),
        "max_current_per_phase_a": limits,
        "max_power_w": max_power_w,
        "fallback_power_w": fallback_power_w,
        "nominal_voltage_v": f.number("nominal_voltage_v", 230, minimum=NOMINAL_VOLTAGE_RANGE_V[0],
                                      maximum=NOMINAL_VOLTAGE_RANGE_V[1]),
        "max_unbalance_a": f.number("max_unbalance_a", None, minimum=0, nullable=True),
    }


def _parse_network(f: Fields, gateway: GatewayConfig) -> NetworkConfig:
    limits = _parse_network_limits(f)
    meter = _parse_meter(f.table("meter"), gateway.poll_interval_s)
    chargers = tuple(_parse_charger(item) for item in f.tables("chargers", []))
    _check_unique((c.id for c in chargers), f.at("chargers"), "id")
    # null (as `SiteConfig.to_dict` writes it) means no control box, like an absent table.
    dimming = parse_dimming_input(f.table("dimming"), gateway.poll_interval_s) if f.raw("dimming", None) is not None else None
    power_caps = parse_power_caps(f, gateway.time_zone)
    recurring_caps = parse_recurring_caps(f, gateway.time_zone)
    network = NetworkConfig(meter=meter, chargers=chargers, dimming=dimming, power_caps=power_caps,
                            recurring_caps=recurring_caps, **limits)
    f.reject_unknown()
    return network


def _parse_meter(f: Fields, poll_interval_s: float) -> MeterConfig:
    custom_map = f.string("map", None)
    model = f.string("model")
    if custom_map is None:
        from meters.catalog import model_keys

        if model not in model_keys():
            raise ConfigError(f.at("model"), f"{model!r} is not in the meter catalog (`python -m meters list`); "
                              "for other meters give a custom register map with `map = \"FILE.toml\"`")
    timeout_s = f.number("timeout_s", None, minimum=METER_TIMEOUT_RANGE_S[0], maximum=METER_TIMEOUT_RANGE_S[1],
                         nullable=True)
    problem = meter_timeout_error(timeout_s, poll_interval_s)
    if problem:
        raise ConfigError(f.at("timeout_s"), problem)
    meter = MeterConfig(
        model=model,
        host=f.host("host"),
        port=f.integer("port", None, minimum=PORT_RANGE[0], maximum=PORT_RANGE[1], nullable=True),
        unit_id=f.integer("unit_id", None, minimum=UNIT_ID_RANGE[0], maximum=UNIT_ID_RANGE[1], nullable=True),
        phase_rotation=f.string("phase_rotation", "L1L2L3", choices=PHASE_ROTATIONS),
        timeout_s=timeout_s,
        map=custom_map,
    )
    f.reject_unknown()
    return meter


def _parse_charger(f: Fields) -> ChargerConfig:
    driver = f.string("driver", choices=CHARGER_DRIVERS)
    host = f.host("host", None)
    if host is None and CHARGER_DRIVER_TABLE[driver].needs_host:
        raise ConfigError(f.at("host"), f"is required for the {driver} driver (the charger's IP address or host name)")
    low_a, high_a = CHARGER_CURRENT_RANGE_A
    min_current_a = f.number("min_current_a", DEFAULT_MIN_CURRENT_A, minimum=low_a, maximum=high_a)
    max_current_a = f.number("max_current_a", 16, minimum=low_a, maximum=high_a)
    if max_current_a < min_current_a:
        raise ConfigError(f.at("max_current_a"), f"({max_current_a} A) must be at least min_current_a ({min_current_a} A)")
    phases = f.integer("phases", 3)
    if phases not in (1, 3):
        raise ConfigError(f.at("phases"), f"must be 1 or 3, got {phases}")
    charger_id = f.string("id")
    charger = ChargerConfig(
        id=charger_id,
        driver=driver,
        name=f.string("name", None),
        host=host,
        port=f.integer("port", None, minimum=PORT_RANGE[0], maximum=PORT_RANGE[1], nullable=True),
        unit_id=f.integer("unit_id", None, minimum=UNIT_ID_RANGE[0], maximum=UNIT_ID_RANGE[1], nullable=True),
        phase_rotation=f.string("phase_rotation", "L1L2L3", choices=PHASE_ROTATIONS),
        phases=phases,
        min_current_a=min_current_a,
        max_current_a=max_current_a,
        priority=f.integer("priority", 0, minimum=PRIORITY_RANGE[0], maximum=PRIORITY_RANGE[1]),
        **parse_ocpp_keys(f, driver, charger_id, ConfigError),
    )
    f.reject_unknown()
    return charger


def _check_unique(ids, path: str, key: str) -> None:
    seen: set[str] = set()
    for index, value in enumerate(ids):
        if value in seen:
            raise ConfigError(f"{path}[{index}].{key}", f"{value!r} is used twice")
        seen.add(value)


def drives_same_station(charger: ChargerConfig, other: ChargerConfig) -> bool:
    """Whether two configured chargers would command one physical station (by the driver table's rules)."""
    if charger.host is None or other.host is None or charger.host != other.host:
        return False
    spec, other_spec = CHARGER_DRIVER_TABLE[charger.driver], CHARGER_DRIVER_TABLE[other.driver]
    if STATION_IN_PROCESS in (spec.station_rule, other_spec.station_rule):
        return False
    if STATION_BY_HOST in (spec.station_rule, other_spec.station_rule):
        return True
    return spec.station_port(charger.port) == other_spec.station_port(other.port)


def _check_stations_driven_once(networks: tuple[NetworkConfig, ...]) -> None:
    """One station must never be commanded by two chargers (e.g. over UDP and Modbus at once).

    Each driver's uniqueness rule is in `CHARGER_DRIVER_TABLE`: a driver that
    takes a whole host (KEBA UDP) clashes with any other charger on that host;
    host-and-port drivers clash on the same host and port (default filled in).
    """
    taken: list[tuple[ChargerConfig, str]] = []
    for n_index, network in enumerate(networks):
        for c_index, charger in enumerate(network.chargers):
            if charger.host is None:
                continue
            for other, name in taken:
                if drives_same_station(charger, other):
                    raise ConfigError(
                        f"networks[{n_index}].chargers[{c_index}].host",
                        f"{charger.host} is already driven as {name} ({other.driver}); one station, one driver",
                    )
            taken.append((charger, f"{network.id}/{charger.id}"))


# --- one object at a time: the fleet's model validation calls these ----------------------------
# Paths in their errors are the object's own keys (`priority`, `timeout_s`), which are also the
# names of the fleet's model fields.


def validate_gateway(data) -> GatewayConfig:
    """A gateway's own settings, validated alone."""
    return _parse_gateway(Fields(data, "", ConfigError))


def validate_network_limits(data) -> dict:
    """A network's own settings (limits, names), validated without its meter and chargers."""
    f = Fields(data, "", ConfigError)
    limits = _parse_network_limits(f)
    f.reject_unknown()
    return limits


def validate_meter(data, *, poll_interval_s: float) -> MeterConfig:
    """A meter's settings, validated alone, for a gateway that polls every `poll_interval_s`."""
    return _parse_meter(Fields(data, "", ConfigError), poll_interval_s)


def validate_charger(data) -> ChargerConfig:
    """A charger's settings, validated alone (the one-driver-per-station rule needs the whole site)."""
    return _parse_charger(Fields(data, "", ConfigError))
