"""Validating a telemetry batch: one layer that every value a gateway sends passes before it is stored.

Each limit fits what stores it: sequence numbers fit bigint, texts fit their
columns and contain nothing PostgreSQL refuses (NUL, lone surrogates), times
carry a zone with an offset PostgreSQL accepts and lie in a window around the
server's clock, each seq appears once per batch, networks are the site's own.
A bad value raises `TelemetryError` naming the item and field; nothing else
escapes, whatever the input.

Batches hold thousands of samples, so a sample in the common shape is checked
by `_plain_sample` with plain type and range tests and no per-field objects.
It accepts a subset of what the full parser (`parse_item`) accepts and returns
None for anything else; the full parser then gives the precise error, or the
item for the rare valid shapes the fast check leaves to it (non-ASCII keys,
integers where floats are usual...).

A gateway whose clock was never set stamps its items in the 1970s. The server
re-stamps any time before `CLOCK_UNSET_BEFORE` with its own receive time
instead of refusing it: regulation does not wait for a clock, and telemetry
of such a gateway arrives with the time it reached the server.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, datetime

from gateways.protocol.fields import Fields, check_number, shown, text_problem
from gateways.protocol.telemetry import (
    EVENT_TYPES,
    FUTURE_WINDOW,
    MAX_BATCH_ITEMS,
    MAX_CHARGERS_PER_SAMPLE,
    MAX_DETAIL_CHARS,
    MAX_KEY_CHARS,
    MAX_PHASE_CURRENT_A,
    MAX_REASON_CHARS,
    MAX_SEQ,
    MAX_SETPOINT_A,
    MAX_SUBJECT_CHARS,
    MAX_UTC_OFFSET,
    MODES,
    PAST_WINDOW,
    ChargerSample,
    TelemetryBatch,
    TelemetryError,
    TelemetryEvent,
    TelemetrySample,
)

CLOCK_UNSET_BEFORE = datetime(2020, 1, 1, tzinfo=UTC)
"""A time before this comes from a gateway clock that was never set (RTC-less boards boot in 1970)."""

MAX_BATCH_GAPS = 2 * MAX_BATCH_ITEMS
"""Gaps a batch may declare: at most one between each two of its items, and a few before them."""

MAX_TS_CHARS = 40

_SAMPLE_KEYS = frozenset(("seq", "kind", "ts", "network", "mode", "grid_current_a", "headroom_a", "chargers"))
_CHARGER_KEYS = frozenset(("current_a", "setpoint_a", "reason", "available", "failsafe_confirmed"))


def parse_batch(data, *, now: datetime | None = None, networks: Collection[str] | None = None) -> TelemetryBatch:
    """Validate a whole batch; raises `TelemetryError` naming the first bad field.

    `now` is the server's clock (aware): times must lie within 30 days before
    and 1 day after it, and unset-clock times are re-stamped with it.
    `networks` are the keys of the site's networks; any other key is refused.
    Without them (the agent's own checks) neither is enforced.
    """
    root = Fields(data, "", TelemetryError)
    gateway = root.raw("gateway", "")
    if not isinstance(gateway, str):
        raise TelemetryError("gateway", f"must be a string, got {shown(gateway)}")
    raw_items = root.raw("items")
    if not isinstance(raw_items, list):
        raise TelemetryError("items", f"must be a list, got {type(raw_items).__name__}")
    if len(raw_items) > MAX_BATCH_ITEMS:
        raise TelemetryError("items", f"has {len(raw_items)} items; at most {MAX_BATCH_ITEMS} per batch")
    network_keys = None if networks is None else frozenset(networks)
    items = []
    first_index_of_seq: dict[int, int] = {}
    for index, raw in enumerate(raw_items):
        item = _plain_sample(raw, now, network_keys)
        if item is None:
            item = parse_item(Fields(raw, f"items[{index}]", TelemetryError), now=now, networks=network_keys)
        first = first_index_of_seq.setdefault(item.seq, index)
        if first != index:
            raise TelemetryError(f"items[{index}].seq", f"{item.seq} is also the seq of items[{first}]; "
                                 "each item needs its own, the batch is refused whole")
        items.append(item)
    gaps = tuple(_parse_gaps(root))
    root.reject_unknown()
    return TelemetryBatch(gateway=gateway, items=tuple(items), gaps=gaps)


def parse_item(f: Fields, *, now: datetime | None = None, networks: Collection[str] | None = None
               ) -> TelemetrySample | TelemetryEvent:
    """Validate one telemetry item (the full parser, with an error naming any bad field)."""
    kind = f.string("kind", choices=("sample", "event"))
    seq = f.integer("seq", minimum=1, maximum=MAX_SEQ)
    ts = _timestamp(f, now)
    if kind == "event":
        network = f.string("network", None, max_chars=MAX_KEY_CHARS)
        if network is not None:
            _check_network(f, network, networks)
        item = TelemetryEvent(
            seq=seq, ts=ts, network=network, type=f.string("type", choices=EVENT_TYPES),
            detail=_optional_text(f, "detail", MAX_DETAIL_CHARS),
            subject=f.string("subject", None, max_chars=MAX_SUBJECT_CHARS),
        )
    else:
        network = f.string("network", max_chars=MAX_KEY_CHARS)
        _check_network(f, network, networks)
        item = TelemetrySample(
            seq=seq, ts=ts, network=network, mode=f.string("mode", choices=MODES),
            grid_current_a=_phases(f, "grid_current_a"), headroom_a=_phases(f, "headroom_a"), chargers=_chargers(f),
        )
    f.reject_unknown()
    return item


def _chargers(f: Fields) -> dict[str, ChargerSample]:
    if f.raw("chargers", None) is None:
        return {}
    charger_fields = f.table("chargers")
    if len(charger_fields.data) > MAX_CHARGERS_PER_SAMPLE:
        raise TelemetryError(f.at("chargers"),
                             f"has {len(charger_fields.data)} chargers; at most {MAX_CHARGERS_PER_SAMPLE}")
    chargers = {}
    for charger_id in charger_fields.data:
        if not isinstance(charger_id, str):
            raise TelemetryError(f"{f.at('chargers')}[{shown(charger_id)}]", "charger key must be a string")
        problem = text_problem(charger_id, MAX_KEY_CHARS) or (None if charger_id.strip() else "must not be blank")
        if problem:
            raise TelemetryError(f"{f.at('chargers')}[{shown(charger_id)}]", f"charger key {problem}")
        c = charger_fields.table(charger_id)
        reason = c.raw("reason")
        if not isinstance(reason, str):
            raise TelemetryError(c.at("reason"), f"must be a reason code (a string), got {shown(reason)}")
        problem = text_problem(reason, MAX_REASON_CHARS)
        if problem:
            raise TelemetryError(c.at("reason"), problem)
        confirmed = c.raw("failsafe_confirmed", None)
        chargers[charger_id] = ChargerSample(
            current_a=_phases(c, "current_a"), setpoint_a=c.number("setpoint_a", minimum=0, maximum=MAX_SETPOINT_A),
            reason=reason, available=c.boolean("available", True),
            failsafe_confirmed=None if confirmed is None else c.boolean("failsafe_confirmed"),
        )
        c.reject_unknown()
    return chargers


def _check_network(f: Fields, network: str, networks: Collection[str] | None) -> None:
    if networks is not None and network not in networks:
        raise TelemetryError(f.at("network"), f"{shown(network)} is not a network of this gateway's site")


def _optional_text(f: Fields, key: str, max_chars: int) -> str:
    value = f.raw(key, None)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise TelemetryError(f.at(key), f"must be a string or null, got {shown(value)}")
    problem = text_problem(value, max_chars)
    if problem:
        raise TelemetryError(f.at(key), problem)
    return value


def _phases(f: Fields, key: str) -> tuple[float, float, float] | None:
    value = f.raw(key, None)
    if value is None:
        return None
    if not isinstance(value, list) or len(value) != 3:
        raise TelemetryError(f.at(key), "must be a list of three numbers or null")
    return tuple(
        check_number(TelemetryError, f"{f.at(key)}[{i}]", v, minimum=-MAX_PHASE_CURRENT_A, maximum=MAX_PHASE_CURRENT_A)
        for i, v in enumerate(value)
    )


def _timestamp(f: Fields, now: datetime | None) -> str:
    ts, problem = check_timestamp(f.raw("ts"), now)
    if problem:
        raise TelemetryError(f.at("ts"), problem)
    return ts


def check_timestamp(value, now: datetime | None) -> tuple[str | None, str | None]:
    """The time as canonical UTC text (`...Z`) and None, or None and what is wrong with it.

    With `now` (the server's clock), a time from a never-set clock becomes
    `now` and one outside the window around `now` is refused.
    """
    if not isinstance(value, str) or len(value) > MAX_TS_CHARS:
        return None, f"must be an ISO 8601 time with a zone, got {shown(value)}"
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None, f"must be an ISO 8601 time, got {shown(value)}"
    offset = parsed.utcoffset()
    if offset is None:
        return None, "must carry a time zone (use Z for UTC)"
    if abs(offset) > MAX_UTC_OFFSET:
        return None, f"has a UTC offset beyond +-15:59 ({shown(value)})"
    try:
        utc = parsed.astimezone(UTC)
    except (OverflowError, ValueError):
        return None, f"lies outside the years 1 to 9999 in UTC ({shown(value)})"
    if now is not None:
        if utc < CLOCK_UNSET_BEFORE:
            utc = now.astimezone(UTC)  # the gateway's clock was never set: the receive time is the best we know
        elif utc < now - PAST_WINDOW:
            return None, (f"is more than {PAST_WINDOW.days} days before the server's time ({shown(value)}); "
                          "is the gateway's clock wrong?")
        elif utc > now + FUTURE_WINDOW:
            return None, (f"is more than {FUTURE_WINDOW.days} day after the server's time ({shown(value)}); "
                          "is the gateway's clock wrong?")
    return utc_text(utc), None


def utc_text(moment: datetime) -> str:
    """The canonical form of a time on the wire: ISO 8601 in UTC with a Z (microseconds when not zero)."""
    return moment.astimezone(UTC).isoformat()[:-6] + "Z"


def _parse_gaps(root: Fields):
    value = root.raw("gaps", [])
    if not isinstance(value, list):
        raise TelemetryError("gaps", "must be a list of [first_seq, last_seq] pairs")
    if len(value) > MAX_BATCH_GAPS:
        raise TelemetryError("gaps", f"has {len(value)} gaps; at most {MAX_BATCH_GAPS} per batch")
    for index, gap in enumerate(value):
        valid = (
            isinstance(gap, list) and len(gap) == 2
            and all(isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= MAX_SEQ for v in gap)
            and gap[0] <= gap[1]
        )
        if not valid:
            raise TelemetryError(f"gaps[{index}]", f"must be [first_seq, last_seq] with 1 <= first <= last <= 2^63-1, "
                                 f"got {shown(gap)}")
        yield (gap[0], gap[1])


# --- the fast path for samples in the common shape ---------------------------------


def _plain_key(value) -> bool:
    return type(value) is str and 0 < len(value) <= MAX_KEY_CHARS and value.isascii() and "\x00" not in value \
        and not value.isspace()


def _plain_phases(value):
    """The three values as a tuple, None for null, or False when the full parser must look."""
    if value is None:
        return None
    if type(value) is not list or len(value) != 3:
        return False
    a, b, c = value
    low, high = -MAX_PHASE_CURRENT_A, MAX_PHASE_CURRENT_A
    if (type(a) is float and type(b) is float and type(c) is float
            and low <= a <= high and low <= b <= high and low <= c <= high):  # NaN fails the comparisons
        return (a, b, c)
    return False


def _plain_sample(raw, now: datetime | None, networks: frozenset[str] | None) -> TelemetrySample | None:
    """The sample if it is in the common shape and valid, else None (the full parser decides)."""
    if type(raw) is not dict or raw.get("kind") != "sample" or not raw.keys() <= _SAMPLE_KEYS:
        return None
    seq = raw.get("seq")
    network = raw.get("network")
    mode = raw.get("mode")
    if type(seq) is not int or not 1 <= seq <= MAX_SEQ or type(mode) is not str or mode not in MODES:
        return None
    if not _plain_key(network) or (networks is not None and network not in networks):
        return None
    grid = _plain_phases(raw.get("grid_current_a"))
    headroom = _plain_phases(raw.get("headroom_a"))
    if grid is False or headroom is False:
        return None
    ts, problem = check_timestamp(raw.get("ts"), now)
    if problem:
        return None
    raw_chargers = raw.get("chargers")
    chargers = {}
    if raw_chargers is not None:
        if type(raw_chargers) is not dict or len(raw_chargers) > MAX_CHARGERS_PER_SAMPLE:
            return None
        for key, c in raw_chargers.items():
            if type(c) is not dict or not c.keys() <= _CHARGER_KEYS or not _plain_key(key):
                return None
            setpoint = c.get("setpoint_a")
            reason = c.get("reason")
            available = c.get("available", True)
            confirmed = c.get("failsafe_confirmed")
            current = c.get("current_a")
            if current is not None:
                current = _plain_phases(current)
                if current is False:
                    return None
            if (type(setpoint) is not float or not 0 <= setpoint <= MAX_SETPOINT_A or type(reason) is not str
                    or len(reason) > MAX_REASON_CHARS or not reason.isascii() or "\x00" in reason
                    or type(available) is not bool or (confirmed is not None and type(confirmed) is not bool)):
                return None
            chargers[key] = ChargerSample(current, setpoint, reason, available, confirmed)
    return TelemetrySample(seq, ts, network, mode, grid, headroom, chargers)
