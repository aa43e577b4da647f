"""Validating a telemetry batch: one layer that every value a gateway sends passes before it is stored.

Each limit fits what stores it: sequence numbers fit bigint, texts fit their
columns and contain nothing PostgreSQL refuses (NUL, lone surrogates), times
carry a zone with an offset PostgreSQL accepts and lie in a window around the
server's clock (see `telemetry_time`), each seq appears once per batch,
networks are the site's own. A bad value raises `TelemetryError` naming the
item and field; nothing else escapes, whatever the input.

Batches hold thousands of samples, so a sample in the common shape goes
through the fast check (`telemetry_plain`) and only anything else through the
full parser here. The same validation gives two results: `parse_batch` the
protocol's dataclasses (the agent, tests), `parse_batch_records` tuples for
the server, which only stores them.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from datetime import datetime

from gateways.protocol.fields import Fields, check_number, shown, text_problem
from gateways.protocol.telemetry import (
    EVENT_TYPES,
    MAX_BATCH_ITEMS,
    MAX_CHARGERS_PER_SAMPLE,
    MAX_DETAIL_CHARS,
    MAX_KEY_CHARS,
    MAX_PHASE_CURRENT_A,
    MAX_REASON_CHARS,
    MAX_SEQ,
    MAX_SETPOINT_A,
    MAX_SUBJECT_CHARS,
    MODES,
    BatchRecords,
    ChargerSample,
    SampleRecord,
    TelemetryBatch,
    TelemetryError,
    TelemetryEvent,
    TelemetrySample,
)
from gateways.protocol.telemetry_plain import PlainCheck, plain_sample_record
from gateways.protocol.telemetry_time import CLOCK_UNSET_BEFORE, MAX_TS_CHARS, check_timestamp, utc_text

__all__ = ["CLOCK_UNSET_BEFORE", "MAX_TS_CHARS", "check_timestamp", "parse_batch", "parse_batch_records", "parse_item",
           "utc_text"]

MAX_BATCH_GAPS = 2 * MAX_BATCH_ITEMS
"""Gaps a batch may declare: at most one between each two of its items, and a few before them."""


def parse_batch(data, *, now: datetime | None = None, networks: Collection[str] | None = None) -> TelemetryBatch:
    """Validate a whole batch; raises `TelemetryError` naming the first bad field.

    `now` is the server's clock (aware): times must lie within 30 days before
    and 1 day after it, and unset-clock times are re-stamped with it.
    `networks` are the keys of the site's networks; any other key is refused.
    Without them (the agent's own checks) neither is enforced.
    """
    gateway, items, gaps = _parse(data, now, networks, _plain_sample_item, _as_item)
    return TelemetryBatch(gateway=gateway, items=tuple(items), gaps=gaps)


def parse_batch_records(data, *, now: datetime | None = None, networks: Collection[str] | None = None) -> BatchRecords:
    """Validate a whole batch exactly as `parse_batch` does, giving samples as `SampleRecord`s (for storing)."""
    gateway, items, gaps = _parse(data, now, networks, plain_sample_record, _as_record)
    return BatchRecords(gateway=gateway, items=items, gaps=gaps)


def _parse(data, now, networks, plain: Callable, full: Callable) -> tuple[str, list, tuple[tuple[int, int], ...]]:
    """The one validation of a batch: `plain` reads items the fast check accepts, `full` converts the others."""
    root = Fields(data, "", TelemetryError)
    gateway = root.raw("gateway", "")
    if not isinstance(gateway, str):
        raise TelemetryError("gateway", f"must be a string, got {shown(gateway)}")
    raw_items = root.raw("items")
    if not isinstance(raw_items, list):
        raise TelemetryError("items", f"must be a list, got {type(raw_items).__name__}")
    if len(raw_items) > MAX_BATCH_ITEMS:
        raise TelemetryError("items", f"has {len(raw_items)} items; at most {MAX_BATCH_ITEMS} per batch")
    check = PlainCheck.around(now, networks)
    items = []
    first_index_of_seq: dict[int, int] = {}
    for index, raw in enumerate(raw_items):
        item = plain(raw, check)
        if item is None:
            item = full(parse_item(Fields(raw, f"items[{index}]", TelemetryError), now=now, networks=check.networks))
        first = first_index_of_seq.setdefault(item.seq, index)
        if first != index:
            raise TelemetryError(f"items[{index}].seq", f"{item.seq} is also the seq of items[{first}]; "
                                 "each item needs its own, the batch is refused whole")
        items.append(item)
    gaps = tuple(_parse_gaps(root))
    root.reject_unknown()
    return gateway, items, gaps


def _plain_sample(raw, now: datetime | None, networks: Collection[str] | None) -> TelemetrySample | None:
    """The fast check's reading as the protocol's dataclass, or None (the full parser decides)."""
    return _plain_sample_item(raw, PlainCheck.around(now, networks))


def _plain_sample_item(raw, check: PlainCheck) -> TelemetrySample | None:
    record = plain_sample_record(raw, check)
    if record is None:
        return None
    return TelemetrySample(
        record.seq, record.ts, record.network, record.mode, _tuple(record.grid_current_a), _tuple(record.headroom_a),
        {key: ChargerSample(_tuple(c["current_a"]), c["setpoint_a"], c["reason"], c["available"],
                            c.get("failsafe_confirmed")) for key, c in record.chargers.items()},
    )


def _as_item(item: TelemetrySample | TelemetryEvent) -> TelemetrySample | TelemetryEvent:
    return item


def _as_record(item: TelemetrySample | TelemetryEvent) -> SampleRecord | TelemetryEvent:
    if isinstance(item, TelemetryEvent):
        return item
    return SampleRecord(item.seq, item.ts, item.network, item.mode, item.grid_current_a, item.headroom_a,
                        {key: c.to_dict() for key, c in item.chargers.items()})


def _tuple(values):
    return None if values is None else tuple(values)


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
