"""Storing a gateway's telemetry batch exactly once and telling it how far everything has arrived.

Every item carries the gateway's sequence number; (gateway, seq) is unique in
the database, so a batch sent twice, or overlapping an earlier one, stores
nothing twice. The answer is the highest sequence number up to which every
item (or a declared gap of thinned samples) is stored; the gateway then drops
that much from its buffer.

Samples are the volume. On PostgreSQL they go into daily partitions, events
into monthly ones (see `fleet.models.telemetry` for the design); samples are
written with COPY into the partitioned table. Batches of one gateway are serialised by locking its row,
so two concurrent retries cannot both advance the mark, and while the lock is
held the stored seqs cannot change: when nothing above the gateway's
acknowledged mark is stored yet (the normal, in-order case) every item above
the mark is new and is copied as it is; otherwise (out of order) the batch's
seqs that are already stored, in whatever partition and with whatever ts, are
looked up in one indexed query and left out before the COPY. The database's
unique (gateway, seq, ts) stays as the last line: a resend that slipped past
both would fail the batch (or, for events, be ignored), never store an item
twice. Events are stored the same way, with `bulk_create`.

The partitions the batch needs are made sure of before the batch's
transaction opens (creating one locks the table briefly for everyone, which
must not last as long as a batch); a per-process memory makes that free for
days seen before.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from django.db import connection, transaction
from django.utils import timezone

from gateways.protocol import TelemetryBatch
from gateways.protocol.telemetry import TelemetryEvent as EventItem
from gateways.protocol.telemetry import TelemetrySample as SampleItem

from fleet.models import ChargingNetwork, Gateway, TelemetryEvent, TelemetryGap, TelemetrySample
from fleet.models.telemetry_partitions import EVENT_PARTITIONS, monthly_partitions_ensure, sample_partitions_ensure
from fleet.services.telemetry_state import latest_state_update

SAMPLE_COLUMNS = (
    "gateway_id", "seq", "ts", "network_id", "mode", "grid_l1_a", "grid_l2_a", "grid_l3_a", "chargers", "resolution_s",
)


@dataclass(frozen=True)
class IngestResult:
    """What a batch did: the new acknowledged mark, items above the old mark, items at or below it (resent)."""

    acked_seq: int
    stored: int
    duplicates: int


def _parse_ts(value: str) -> datetime:
    return datetime.fromisoformat(value)


try:
    from orjson import dumps as _orjson_dumps
except ImportError:  # pragma: no cover - orjson is in the server extra; the stdlib is the fallback
    _orjson_dumps = None


def _json_text(value) -> str:
    """Compact JSON text (orjson where installed: the chargers of every sample are encoded on the hot path)."""
    if _orjson_dumps is not None:
        return _orjson_dumps(value).decode()
    return json.dumps(value, separators=(",", ":"))


def _sample_row(gateway_id: int, network_ids: dict[str, int], item: SampleItem) -> tuple:
    grid = item.grid_current_a or (None, None, None)
    chargers = _json_text({cid: c.to_dict() for cid, c in item.chargers.items()})
    return (gateway_id, item.seq, item.ts, network_ids.get(item.network), item.mode, grid[0], grid[1], grid[2],
            chargers, 0)


def telemetry_network_ids(gateway: Gateway) -> dict[str, int]:
    """Network keys in the gateway's config (primary keys as strings) to ids, for its own site only."""
    return {str(pk): pk for pk in ChargingNetwork.objects.filter(site_id=gateway.site_id).values_list("pk", flat=True)}


def _stored_above(gateway: Gateway, seq: int) -> bool:
    return (
        TelemetrySample.objects.filter(gateway=gateway, seq__gt=seq).exists()
        or TelemetryEvent.objects.filter(gateway=gateway, seq__gt=seq).exists()
        or TelemetryGap.objects.filter(gateway=gateway, last_seq__gt=seq).exists()
    )


def _store_samples(gateway: Gateway, rows: list[tuple], *, may_conflict: bool) -> None:
    """Store the sample rows of items above the acknowledged mark, leaving out seqs already stored."""
    if may_conflict:
        stored = _stored_seqs(TelemetrySample, gateway, [row[1] for row in rows])
        rows = [row for row in rows if row[1] not in stored]
    if not rows:
        return
    if connection.vendor != "postgresql":
        TelemetrySample.objects.bulk_create(
            [TelemetrySample(**dict(zip(SAMPLE_COLUMNS, row[:8] + (json.loads(row[8]), row[9]), strict=True))) for row in rows],
            ignore_conflicts=True,
        )
        return
    with connection.cursor() as cursor, cursor.cursor.copy(
        f"COPY fleet_telemetrysample ({', '.join(SAMPLE_COLUMNS)}) FROM STDIN"
    ) as copy:
        for row in rows:
            copy.write_row(row)


def _stored_seqs(model, gateway: Gateway, seqs: list[int]) -> set[int]:
    """Which of these seqs the gateway has stored already: a range scan of (gateway, seq) in every partition
    (no time bound, since a resent seq may carry another ts)."""
    if not seqs:
        return set()
    return set(model.objects.filter(gateway=gateway, seq__gte=min(seqs), seq__lte=max(seqs)).values_list("seq", flat=True))


def _store_events(gateway: Gateway, network_ids: dict[str, int], events: list[EventItem], *, may_conflict: bool) -> None:
    """Store the events above the acknowledged mark, leaving out seqs already stored, as for samples."""
    stored = _stored_seqs(TelemetryEvent, gateway, [e.seq for e in events]) if may_conflict else set()
    TelemetryEvent.objects.bulk_create(
        [
            TelemetryEvent(gateway=gateway, seq=e.seq, ts=_parse_ts(e.ts), network_id=network_ids.get(e.network or ""),
                           type=e.type, subject=e.subject or "", detail=e.detail)
            for e in events if e.seq not in stored
        ],
        ignore_conflicts=True,
    )


def _partitions_ensure(batch: TelemetryBatch) -> None:
    """Create any partition the batch's items need, in a transaction of its own (see the docstring)."""
    sample_times = [_parse_ts(item.ts) for item in batch.items if isinstance(item, SampleItem)]
    event_times = [_parse_ts(item.ts) for item in batch.items if isinstance(item, EventItem)]
    sample_partitions_ensure(sample_times)
    if event_times:
        monthly_partitions_ensure(EVENT_PARTITIONS, event_times)


def _contiguous_mark(gateway: Gateway, start: int, batch_ranges: list[tuple[int, int]]) -> int:
    """Walk from `start` through everything known to be stored (this batch, earlier out-of-order ones, gaps)."""
    ranges = list(batch_ranges)
    mark = _walk(start, ranges)
    if _stored_above(gateway, mark):
        stored = [(s, s) for s in TelemetrySample.objects.filter(gateway=gateway, seq__gt=mark).values_list("seq", flat=True)]
        stored += [(s, s) for s in TelemetryEvent.objects.filter(gateway=gateway, seq__gt=mark).values_list("seq", flat=True)]
        stored += list(TelemetryGap.objects.filter(gateway=gateway, last_seq__gt=mark).values_list("first_seq", "last_seq"))
        mark = _walk(mark, ranges + stored)
    return mark


def _walk(mark: int, ranges: list[tuple[int, int]]) -> int:
    for first, last in sorted(ranges):
        if first > mark + 1:
            break
        mark = max(mark, last)
    return mark


def telemetry_ingest(gateway: Gateway, batch: TelemetryBatch, *, software_version: str = "") -> IngestResult:
    """Store a validated batch once and return the gateway's new acknowledged mark."""
    _partitions_ensure(batch)
    with transaction.atomic():
        locked = Gateway.objects.select_for_update().select_related("site").get(pk=gateway.pk)
        acked = locked.acked_seq
        new_items = [item for item in batch.items if item.seq > acked]
        may_conflict = _stored_above(locked, acked)
        network_ids = telemetry_network_ids(locked)

        samples = [i for i in new_items if isinstance(i, SampleItem)]
        events = [i for i in new_items if isinstance(i, EventItem)]
        _store_samples(locked, [_sample_row(locked.pk, network_ids, s) for s in samples], may_conflict=may_conflict)
        _store_events(locked, network_ids, events, may_conflict=may_conflict)
        gaps = [(first, last) for first, last in batch.gaps if last > acked]
        TelemetryGap.objects.bulk_create(
            [TelemetryGap(gateway=locked, first_seq=first, last_seq=last) for first, last in gaps], ignore_conflicts=True
        )
        mark = _contiguous_mark(locked, acked, [(i.seq, i.seq) for i in batch.items] + gaps)
        now = timezone.now()
        latest_state_update(locked, network_ids, new_items, now=now)
        update = {"acked_seq": mark, "last_seen": now}
        if software_version:
            update["software_version"] = software_version[:64]
        Gateway.objects.filter(pk=locked.pk).update(**update)
    return IngestResult(acked_seq=mark, stored=len(new_items), duplicates=len(batch.items) - len(new_items))
