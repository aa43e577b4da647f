"""External caps on a network's charging power in the site config: the control box input and the scheduled caps.

``[networks.dimming]`` is the grid operator's control box (EnWG section 14a)
wired to a Modbus TCP coil or discrete input the agent polls with the meter.
``[[networks.power_caps]]`` are caps set from the fleet (or written into a
standalone file): who set it, the power, when it starts and, optionally,
ends. Times are ISO 8601; one without a UTC offset is read in the gateway's
``time_zone``, and every time is kept as UTC (``...Z``) so the JSON the
server sends, the TOML and the agent's clock agree.
"""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from datetime import UTC, datetime

from gateways.protocol.fields import Fields, SchemaError
from gateways.protocol.limits import (
    COIL_ADDRESS_RANGE,
    DEFAULT_DIMMING_PORT,
    DEFAULT_DIMMING_UNIT_ID,
    DIMMING_INPUT_KINDS,
    MAX_POWER_CAP_REASON_CHARS,
    MAX_POWER_CAPS_PER_NETWORK,
    METER_TIMEOUT_RANGE_S,
    PORT_RANGE,
    POWER_CAP_RANGE_W,
    POWER_CAP_SOURCES,
    UNIT_ID_RANGE,
    meter_timeout_error,
)


@dataclass(frozen=True)
class DimmingInputConfig:
    """The grid operator's control box as the agent reads it: one bit at a Modbus TCP address."""

    host: str
    kind: str
    address: int
    port: int = DEFAULT_DIMMING_PORT
    unit_id: int = DEFAULT_DIMMING_UNIT_ID
    active: int = 1
    """The bit value that means "dimmed": 1, or 0 for an inverted (normally closed) contact."""
    power_w: float | None = None
    """The cap while dimmed; None: the guaranteed minimum for the network's chargers (never less in any case)."""
    timeout_s: float | None = None


@dataclass(frozen=True)
class PowerCapConfig:
    """One cap on a network's charging power from ``start`` until ``end`` (None: until removed)."""

    source: str
    power_w: float
    start: str
    end: str | None = None
    reason: str | None = None
    id: str | None = None
    """The server's key of the cap, so that events and the record name the same cap."""

    def starts_at(self) -> datetime:
        """The start as an aware UTC time."""
        return datetime.fromisoformat(self.start)

    def ends_at(self) -> datetime | None:
        """The end as an aware UTC time, or None."""
        return None if self.end is None else datetime.fromisoformat(self.end)

    def in_force(self, now: datetime) -> bool:
        """Whether the cap holds at ``now`` (start included, end excluded)."""
        end = self.ends_at()
        return self.starts_at() <= now and (end is None or now < end)


def utc_text(moment: datetime) -> str:
    """The wire form of a time: UTC, seconds, ``Z``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _moment(f: Fields, key: str, time_zone: str, *, required: bool = True) -> str | None:
    value = f.raw(key) if required else f.raw(key, None)
    if value is None and not required:
        return None
    if isinstance(value, datetime):  # TOML gives datetimes as such
        moment = value
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise f.error(f.at(key), f"must be an ISO 8601 time such as 2026-12-01T17:00:00+01:00, got {value!r}") from None
    else:
        raise f.error(f.at(key), f"must be an ISO 8601 time, got {type(value).__name__}")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zoneinfo.ZoneInfo(time_zone))
    return utc_text(moment)


def parse_dimming_input(f: Fields, poll_interval_s: float) -> DimmingInputConfig:
    """``[networks.dimming]``: where the control box's signal is read."""
    timeout_s = f.number("timeout_s", None, minimum=METER_TIMEOUT_RANGE_S[0], maximum=METER_TIMEOUT_RANGE_S[1],
                         nullable=True)
    problem = meter_timeout_error(timeout_s, poll_interval_s)
    if problem:
        raise f.error(f.at("timeout_s"), problem)
    active = f.integer("active", 1)
    if active not in (0, 1):
        raise f.error(f.at("active"), f"must be 1 (the bit set means dimmed) or 0 (an inverted contact), got {active}")
    config = DimmingInputConfig(
        host=f.host("host"),
        kind=f.string("kind", choices=DIMMING_INPUT_KINDS),
        address=f.integer("address", minimum=COIL_ADDRESS_RANGE[0], maximum=COIL_ADDRESS_RANGE[1]),
        port=f.integer("port", DEFAULT_DIMMING_PORT, minimum=PORT_RANGE[0], maximum=PORT_RANGE[1]),
        unit_id=f.integer("unit_id", DEFAULT_DIMMING_UNIT_ID, minimum=UNIT_ID_RANGE[0], maximum=UNIT_ID_RANGE[1]),
        active=active,
        power_w=f.number("power_w", None, minimum=POWER_CAP_RANGE_W[0], maximum=POWER_CAP_RANGE_W[1], nullable=True),
        timeout_s=timeout_s,
    )
    f.reject_unknown()
    return config


def parse_power_cap(f: Fields, time_zone: str) -> PowerCapConfig:
    """One ``[[networks.power_caps]]`` entry."""
    start = _moment(f, "start", time_zone)
    end = _moment(f, "end", time_zone, required=False)
    if end is not None and end <= start:
        raise f.error(f.at("end"), f"({end}) must be after start ({start})")
    reason = f.string("reason", None, max_chars=MAX_POWER_CAP_REASON_CHARS)
    cap = PowerCapConfig(
        source=f.string("source", choices=POWER_CAP_SOURCES),
        power_w=f.number("power_w", minimum=POWER_CAP_RANGE_W[0], maximum=POWER_CAP_RANGE_W[1]),
        start=start,
        end=end,
        reason=reason,
        id=f.string("id", None, max_chars=100),
    )
    f.reject_unknown()
    return cap


def parse_power_caps(f: Fields, time_zone: str) -> tuple[PowerCapConfig, ...]:
    """A network's ``power_caps`` list (absent: none)."""
    items = f.tables("power_caps", [])
    if len(items) > MAX_POWER_CAPS_PER_NETWORK:
        raise f.error(f.at("power_caps"), f"must hold at most {MAX_POWER_CAPS_PER_NETWORK} caps, got {len(items)}")
    return tuple(parse_power_cap(item, time_zone) for item in items)


def validate_power_cap(data, *, time_zone: str, error: type[SchemaError] = SchemaError) -> PowerCapConfig:
    """One cap validated alone (the fleet's model and API call this); paths are the cap's own keys."""
    return parse_power_cap(Fields(data, "", error), time_zone)
