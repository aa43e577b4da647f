"""External caps on a network's charging power in the site config: the control box input and the scheduled caps.

``[networks.dimming]`` is the grid operator's control box (EnWG section 14a)
wired to a Modbus TCP coil or discrete input the agent polls with the meter.
``[[networks.power_caps]]`` are caps set from the fleet (or written into a
standalone file): who set it, the power, when it starts and, optionally,
ends. Times are ISO 8601; one without a UTC offset is read in the gateway's
``time_zone``, and every time is kept as UTC (``...Z``) so the JSON the
server sends, the TOML and the agent's clock agree.

``[[networks.recurring_caps]]`` are caps that come back on given weekdays
between two times of day, such as a tariff window "weekdays 17:00-20:00".
Those times are the site's wall clock, not UTC: the window holds whenever the
clock in the cap's ``time_zone`` (default: the gateway's) reads a time from
``start_time`` up to ``end_time`` on a listed day, so it follows daylight
saving time by itself. An ``end_time`` earlier than ``start_time`` runs past
midnight into the next day (22:00-06:00 listed for Friday ends Saturday
06:00). On the two days the clock changes, a window is as long as the clock
says: a part in the skipped hour never holds, a part in the repeated hour
holds twice.
"""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from datetime import UTC, datetime, time

from gateways.protocol.fields import Fields, SchemaError
from gateways.protocol.limits import (
    COIL_ADDRESS_RANGE,
    DEFAULT_DIMMING_PORT,
    DEFAULT_DIMMING_UNIT_ID,
    DIMMING_INPUT_KINDS,
    MAX_POWER_CAP_REASON_CHARS,
    MAX_POWER_CAPS_PER_NETWORK,
    MAX_RECURRING_CAPS_PER_NETWORK,
    METER_TIMEOUT_RANGE_S,
    PORT_RANGE,
    POWER_CAP_RANGE_W,
    POWER_CAP_SOURCES,
    UNIT_ID_RANGE,
    WEEKDAYS,
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


@dataclass(frozen=True)
class RecurringCapConfig:
    """A cap that comes back on ``days`` from ``start_time`` to ``end_time`` by the site's wall clock."""

    source: str
    power_w: float
    days: tuple[str, ...]
    """Weekday codes (``WEEKDAYS``) on which the window starts, in week order."""
    start_time: str
    """Local time of day, ``HH:MM``."""
    end_time: str
    """Local time of day, ``HH:MM``; earlier than ``start_time``: the next day."""
    time_zone: str = "UTC"
    """The zone whose clock the times are read on (the parser puts in the gateway's when none is given)."""
    reason: str | None = None
    id: str | None = None
    """The server's key of the cap, so that events and the record name the same cap."""

    def in_force(self, now: datetime) -> bool:
        """Whether the window holds at ``now`` (an aware time): start included, end excluded."""
        local = now.astimezone(zoneinfo.ZoneInfo(self.time_zone))
        clock = local.time()
        start, end = time.fromisoformat(self.start_time), time.fromisoformat(self.end_time)
        today = WEEKDAYS[local.weekday()]
        if start < end:
            return today in self.days and start <= clock < end
        yesterday = WEEKDAYS[(local.weekday() - 1) % 7]
        return (today in self.days and clock >= start) or (yesterday in self.days and clock < end)


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


def _time_of_day(f: Fields, key: str) -> str:
    value = f.raw(key)
    if isinstance(value, time):  # TOML gives local times as such
        moment = value
    elif isinstance(value, str):
        try:
            moment = time.fromisoformat(value)
        except ValueError:
            raise f.error(f.at(key), f"must be a time of day such as 17:00, got {value!r}") from None
    else:
        raise f.error(f.at(key), f"must be a time of day such as 17:00, got {type(value).__name__}")
    if moment.tzinfo is not None:
        raise f.error(f.at(key), "must be a wall-clock time without offset; the cap's time_zone says where")
    if moment.second or moment.microsecond:
        raise f.error(f.at(key), f"must be whole minutes (HH:MM), got {value!s}")
    return moment.strftime("%H:%M")


def _days(f: Fields, key: str) -> tuple[str, ...]:
    value = f.raw(key)
    if not isinstance(value, list) or not value:
        raise f.error(f.at(key), f"must be a non-empty list of days ({', '.join(WEEKDAYS)})")
    unknown = [day for day in value if day not in WEEKDAYS]
    if unknown:
        raise f.error(f.at(key), f"must name days as {', '.join(WEEKDAYS)}, got {unknown[0]!r}")
    if len(set(value)) != len(value):
        raise f.error(f.at(key), "names a day twice")
    return tuple(day for day in WEEKDAYS if day in value)


def parse_recurring_cap(f: Fields, time_zone: str) -> RecurringCapConfig:
    """One ``[[networks.recurring_caps]]`` entry; ``time_zone`` is the gateway's, used when the cap names none."""
    days = _days(f, "days")
    start_time = _time_of_day(f, "start_time")
    end_time = _time_of_day(f, "end_time")
    if end_time == start_time:
        raise f.error(f.at("end_time"), f"must differ from start_time ({start_time}); the window would be empty")
    zone = f.string("time_zone", None) or time_zone
    try:
        zoneinfo.ZoneInfo(zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise f.error(f.at("time_zone"), f"{zone!r} is not an IANA time zone name such as Europe/Berlin") from None
    cap = RecurringCapConfig(
        source=f.string("source", choices=POWER_CAP_SOURCES),
        power_w=f.number("power_w", minimum=POWER_CAP_RANGE_W[0], maximum=POWER_CAP_RANGE_W[1]),
        days=days,
        start_time=start_time,
        end_time=end_time,
        time_zone=zone,
        reason=f.string("reason", None, max_chars=MAX_POWER_CAP_REASON_CHARS),
        id=f.string("id", None, max_chars=100),
    )
    f.reject_unknown()
    return cap


def parse_recurring_caps(f: Fields, time_zone: str) -> tuple[RecurringCapConfig, ...]:
    """A network's ``recurring_caps`` list (absent: none)."""
    items = f.tables("recurring_caps", [])
    if len(items) > MAX_RECURRING_CAPS_PER_NETWORK:
        raise f.error(f.at("recurring_caps"), f"must hold at most {MAX_RECURRING_CAPS_PER_NETWORK} caps, got {len(items)}")
    return tuple(parse_recurring_cap(item, time_zone) for item in items)


def validate_recurring_cap(data, *, time_zone: str, error: type[SchemaError] = SchemaError) -> RecurringCapConfig:
    """One recurring cap validated alone (the fleet's model and API call this); paths are the cap's own keys."""
    return parse_recurring_cap(Fields(data, "", error), time_zone)
