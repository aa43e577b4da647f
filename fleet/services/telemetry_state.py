"""Keeping the latest state of networks, meters and chargers current as telemetry arrives.

A gateway's clock may run ahead (up to the protocol's one-day window): a time
is never taken as later than the moment it arrived, or one sample from the
future would freeze a network's live state and make a silent meter look fresh.

Every upload touches these rows, so on PostgreSQL each table takes one
set-based `INSERT ... ON CONFLICT DO UPDATE ... WHERE` for all networks of the
batch (three statements, whatever the batch): the rules below live in the
WHERE and CASE clauses, and nothing is read back first. Other databases (the
SQLite demo) apply the same rules row by row with the ORM.

The rules: a network's or charger's state takes the batch's newest sample
unless the stored one is newer (a resent, older batch does not turn the live
state back), and a stored time later than now (written before times were
capped) is always replaced. A meter is available from a sample with grid
values or a `meter_restored` event, and lost (since the event's time) from a
`meter_lost` event; its last reading time only moves forward.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import orjson
from django.db import connection

from gateways.protocol.telemetry import SampleRecord
from gateways.protocol.telemetry import TelemetryEvent as EventItem

from fleet.models import Charger, ChargerState, EventType, Gateway, Meter, MeterState, NetworkState


@dataclass(frozen=True)
class _MeterFact:
    """The newest thing a batch says about a network's meter."""

    seq: int
    available: bool
    ts: datetime
    detail: str


def latest_state_update(gateway: Gateway, network_ids: dict[str, int], items, *, now: datetime) -> None:
    """Apply a batch's newest facts per network: mode and grid, charger setpoints, meter availability.

    `items` are the batch's new `SampleRecord`s and events in any order; the
    newest by seq wins. Whatever the batch's size, this is at most three
    statements on PostgreSQL, not one per item or per network.
    """
    newest_sample, meter_facts = _newest_facts(network_ids, items, now)
    if _upserts_supported():
        _network_states_upsert(newest_sample, now)
        _charger_states_upsert(newest_sample, now)
        _meter_states_upsert(meter_facts)
    else:
        _states_update_orm(newest_sample, meter_facts, now)


def _upserts_supported() -> bool:
    """Whether the set-based upserts below run here (they are written for PostgreSQL)."""
    return connection.vendor == "postgresql"


def _newest_facts(network_ids: dict[str, int], items, now: datetime):
    """Per network: its newest sample with that sample's capped time, and the newest fact about its meter."""
    newest_sample: dict[int, SampleRecord] = {}
    meter_facts: dict[int, tuple[int, bool, str, str]] = {}  # network id -> (seq, available, ts, detail)
    for item in items:  # one pass keeping the highest seq (seqs are unique in a batch): no sort of thousands
        network_id = network_ids.get(item.network or "")
        if network_id is None:
            continue
        fact = None
        if type(item) is SampleRecord:
            newest = newest_sample.get(network_id)
            if newest is None or newest.seq < item.seq:
                newest_sample[network_id] = item
            if item.grid_current_a is not None:
                fact = (item.seq, True, item.ts, "")
        elif isinstance(item, EventItem) and item.type in (EventType.METER_LOST, EventType.METER_RESTORED):
            fact = (item.seq, item.type == EventType.METER_RESTORED, item.ts, item.detail)
        if fact is not None and (network_id not in meter_facts or meter_facts[network_id][0] < fact[0]):
            meter_facts[network_id] = fact
    samples = {network_id: (sample, _capped(sample.ts, now)) for network_id, sample in newest_sample.items()}
    facts = {network_id: _MeterFact(seq, available, _capped(ts, now), detail)
             for network_id, (seq, available, ts, detail) in meter_facts.items()}
    return samples, facts


def _capped(value: str, now: datetime) -> datetime:
    return min(datetime.fromisoformat(value), now)


def _json_or_none(value) -> str | None:
    return None if value is None else orjson.dumps(list(value)).decode()


def _rows_sql(rows: int, row: str) -> str:
    return ", ".join([row] * rows)


# A stored state is replaced unless it is newer than the sample; one stored in the future is always replaced.
_NEWER_OR_FUTURE = "s.sample_ts IS NULL OR s.sample_ts <= EXCLUDED.sample_ts OR s.sample_ts > %s"


def _network_states_upsert(samples: dict[int, tuple[SampleRecord, datetime]], now: datetime) -> None:
    if not samples:
        return
    params: list = []
    for network_id, (sample, ts) in samples.items():
        params += [network_id, sample.mode, _json_or_none(sample.grid_current_a), _json_or_none(sample.headroom_a), ts, now]
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO fleet_networkstate AS s (network_id, mode, grid_current_a, headroom_a, sample_ts, updated_at) "
            f"VALUES {_rows_sql(len(samples), '(%s, %s, %s::jsonb, %s::jsonb, %s, %s)')} "
            "ON CONFLICT (network_id) DO UPDATE SET mode = EXCLUDED.mode, grid_current_a = EXCLUDED.grid_current_a, "
            "headroom_a = EXCLUDED.headroom_a, sample_ts = EXCLUDED.sample_ts, updated_at = EXCLUDED.updated_at "
            f"WHERE {_NEWER_OR_FUTURE}",
            [*params, now],
        )


_CHARGER_ROW = "(%s::bigint, %s::text, %s::boolean, %s::double precision, %s::jsonb, %s::varchar, %s::boolean, %s::timestamptz)"


def _charger_states_upsert(samples: dict[int, tuple[SampleRecord, datetime]], now: datetime) -> None:
    params: list = []
    rows = 0
    for network_id, (sample, ts) in samples.items():
        for key, c in sample.chargers.items():
            params += [network_id, key, c["available"], c["setpoint_a"], _json_or_none(c["current_a"]), c["reason"],
                       c.get("failsafe_confirmed"), ts]
            rows += 1
    if not rows:
        return
    # The join keeps only keys that are chargers of the sample's network, compared as text as the wire sends them.
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO fleet_chargerstate AS s "
            "(charger_id, available, setpoint_a, current_a, reason, failsafe_confirmed, sample_ts) "
            "SELECT c.id, v.available, v.setpoint_a, v.current_a, v.reason, v.failsafe_confirmed, v.sample_ts "
            f"FROM (VALUES {_rows_sql(rows, _CHARGER_ROW)}) "
            "AS v (network_id, charger_key, available, setpoint_a, current_a, reason, failsafe_confirmed, sample_ts) "
            "JOIN fleet_charger c ON c.network_id = v.network_id AND c.id::text = v.charger_key "
            "ON CONFLICT (charger_id) DO UPDATE SET available = EXCLUDED.available, setpoint_a = EXCLUDED.setpoint_a, "
            "current_a = EXCLUDED.current_a, reason = EXCLUDED.reason, failsafe_confirmed = EXCLUDED.failsafe_confirmed, "
            f"sample_ts = EXCLUDED.sample_ts WHERE {_NEWER_OR_FUTURE}",
            [*params, now],
        )


def _meter_states_upsert(facts: dict[int, _MeterFact]) -> None:
    if not facts:
        return
    params: list = []
    for network_id, fact in facts.items():
        params += [network_id, fact.available, fact.ts, fact.detail]
    # Lost while already lost changes nothing: `lost_since` keeps the start of the outage.
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO fleet_meterstate AS s (meter_id, available, last_reading_at, lost_since, detail) "
            "SELECT m.id, v.available, CASE WHEN v.available THEN v.ts END, CASE WHEN v.available THEN NULL ELSE v.ts END, "
            "CASE WHEN v.available THEN '' ELSE v.detail END "
            f"FROM (VALUES {_rows_sql(len(facts), '(%s::bigint, %s::boolean, %s::timestamptz, %s::text)')}) "
            "AS v (network_id, available, ts, detail) JOIN fleet_meter m ON m.network_id = v.network_id "
            "ON CONFLICT (meter_id) DO UPDATE SET available = EXCLUDED.available, "
            "last_reading_at = CASE WHEN EXCLUDED.available THEN GREATEST(s.last_reading_at, EXCLUDED.last_reading_at) "
            "ELSE s.last_reading_at END, lost_since = EXCLUDED.lost_since, detail = EXCLUDED.detail "
            "WHERE EXCLUDED.available OR s.available",
            params,
        )


_CHARGER_STATE_FIELDS = ["available", "setpoint_a", "current_a", "reason", "failsafe_confirmed", "sample_ts"]


def _replaces(stored_ts: datetime | None, ts: datetime, now: datetime) -> bool:
    """The ORM twin of `_NEWER_OR_FUTURE`."""
    return stored_ts is None or stored_ts <= ts or stored_ts > now


def _states_update_orm(samples: dict[int, tuple[SampleRecord, datetime]], facts: dict[int, _MeterFact], now: datetime) -> None:
    """The same rules for databases without the upserts above, a few queries per network."""
    for network_id, (sample, ts) in samples.items():
        state, created = NetworkState.objects.get_or_create(network_id=network_id)
        if created or _replaces(state.sample_ts, ts, now):
            state.mode = sample.mode
            state.grid_current_a = None if sample.grid_current_a is None else list(sample.grid_current_a)
            state.headroom_a = None if sample.headroom_a is None else list(sample.headroom_a)
            state.sample_ts = ts
            state.save()
        chargers = {str(pk): pk for pk in Charger.objects.filter(network_id=network_id).values_list("pk", flat=True)}
        stored = dict(ChargerState.objects.filter(charger_id__in=chargers.values()).values_list("charger_id", "sample_ts"))
        ChargerState.objects.bulk_create(
            [
                ChargerState(
                    charger_id=chargers[key], available=c["available"], setpoint_a=c["setpoint_a"],
                    current_a=None if c["current_a"] is None else list(c["current_a"]), reason=c["reason"],
                    failsafe_confirmed=c.get("failsafe_confirmed"), sample_ts=ts,
                )
                for key, c in sample.chargers.items() if key in chargers and _replaces(stored.get(chargers[key]), ts, now)
            ],
            update_conflicts=True, unique_fields=["charger"], update_fields=_CHARGER_STATE_FIELDS,
        )

    for network_id, fact in facts.items():
        meter = Meter.objects.filter(network_id=network_id).first()
        if meter is None:
            continue
        state, _ = MeterState.objects.get_or_create(meter=meter)
        if fact.available:
            state.available, state.lost_since, state.detail = True, None, ""
            state.last_reading_at = max(filter(None, [state.last_reading_at, fact.ts]))
        elif state.available:
            state.available, state.lost_since, state.detail = False, fact.ts, fact.detail
        state.save()
