"""Storing a gateway's telemetry batch exactly once and telling it how far everything has arrived.

Every item carries the gateway's sequence number; (gateway, seq) is unique in
the database, so a batch sent twice, or overlapping an earlier one, stores
nothing twice. The answer is the highest sequence number up to which every
item (or a declared gap of thinned samples) is stored; the gateway then drops
that much from its buffer.

Samples are the volume. On PostgreSQL they are written with COPY: straight
into the table when nothing above the gateway's acknowledged mark is stored
yet (the normal, in-order case), otherwise through a temporary table and
`INSERT ... ON CONFLICT DO NOTHING`. Batches of one gateway are serialised by
locking its row, so two concurrent retries cannot both advance the mark.

A batch arrives as `BatchRecords`: samples are tuples whose chargers are
already the wire data stored, so a row is one tuple and one orjson call.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

import orjson
from django.db import connection, transaction
from django.utils import timezone

from gateways.protocol.telemetry import BatchRecords, SampleRecord
from gateways.protocol.telemetry import TelemetryEvent as EventItem

from fleet.models import ChargingNetwork, Gateway, TelemetryEvent, TelemetryGap, TelemetrySample
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


def _json_text(value) -> str:
    """Compact JSON text; orjson, as the chargers of every sample are encoded on the hot path."""
    return orjson.dumps(value).decode()


_NO_PHASES = (None, None, None)


def _sample_row(gateway_id: int, network_ids: dict[str, int], sample: SampleRecord) -> tuple:
    grid = sample.grid_current_a or _NO_PHASES
    return (gateway_id, sample.seq, sample.ts, network_ids.get(sample.network), sample.mode, grid[0], grid[1], grid[2],
            _json_text(sample.chargers), 0)


def telemetry_network_ids(gateway: Gateway) -> dict[str, int]:
    """Network keys in the gateway's config (primary keys as strings) to ids, for its own site only."""
    ids = ChargingNetwork.objects.filter(site_id=gateway.site_id).order_by().values_list("pk", flat=True)  # no sort, no join
    return {str(pk): pk for pk in ids}


def _stored_above(gateway: Gateway, seq: int) -> bool:
    return (
        TelemetrySample.objects.filter(gateway=gateway, seq__gt=seq).exists()
        or TelemetryEvent.objects.filter(gateway=gateway, seq__gt=seq).exists()
        or TelemetryGap.objects.filter(gateway=gateway, last_seq__gt=seq).exists()
    )


def _store_samples(gateway: Gateway, rows: list[tuple], *, may_conflict: bool) -> None:
    if not rows:
        return
    if connection.vendor != "postgresql":
        TelemetrySample.objects.bulk_create(
            [TelemetrySample(**dict(zip(SAMPLE_COLUMNS, row[:8] + (json.loads(row[8]), row[9]), strict=True))) for row in rows],
            ignore_conflicts=True,
        )
        return
    columns = ", ".join(SAMPLE_COLUMNS)
    with connection.cursor() as cursor:
        raw = cursor.cursor
        if not may_conflict:
            with raw.copy(f"COPY fleet_telemetrysample ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            return
        raw.execute(
            "CREATE TEMP TABLE IF NOT EXISTS fleet_sample_in ON COMMIT DELETE ROWS "
            f"AS SELECT {columns} FROM fleet_telemetrysample WITH NO DATA"
        )
        with raw.copy(f"COPY fleet_sample_in ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        raw.execute(
            f"INSERT INTO fleet_telemetrysample ({columns}) SELECT {columns} FROM fleet_sample_in "
            "ON CONFLICT (gateway_id, seq) DO NOTHING"
        )


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


def telemetry_ingest(
    gateway: Gateway, batch: BatchRecords, *, software_version: str = "", network_ids: dict[str, int] | None = None
) -> IngestResult:
    """Store a validated batch once and return the gateway's new acknowledged mark.

    `network_ids` are `telemetry_network_ids(gateway)` where the caller has
    them already (the view validates the batch against them): read once a request.
    """
    if network_ids is None:
        network_ids = telemetry_network_ids(gateway)
    with transaction.atomic():
        locked = Gateway.objects.select_for_update().only("acked_seq", "site_id").get(pk=gateway.pk)
        acked = locked.acked_seq
        new_items = [item for item in batch.items if item.seq > acked]
        may_conflict = _stored_above(locked, acked)

        samples = [i for i in new_items if type(i) is SampleRecord]
        events = [i for i in new_items if isinstance(i, EventItem)]
        gateway_id = locked.pk
        _store_samples(locked, [_sample_row(gateway_id, network_ids, s) for s in samples], may_conflict=may_conflict)
        TelemetryEvent.objects.bulk_create(
            [
                TelemetryEvent(gateway=locked, seq=e.seq, ts=_parse_ts(e.ts), network_id=network_ids.get(e.network or ""),
                               type=e.type, subject=e.subject or "", detail=e.detail)
                for e in events
            ],
            ignore_conflicts=True,
        )
        gaps = [(first, last) for first, last in batch.gaps if last > acked]
        TelemetryGap.objects.bulk_create(
            [TelemetryGap(gateway=locked, first_seq=first, last_seq=last) for first, last in gaps], ignore_conflicts=True
        )
        batch_ranges = [(i.seq, i.seq) for i in batch.items] + gaps
        # With nothing stored above the old mark before this batch, everything above it now is this batch:
        # the walk needs no second look at the tables (the steady, in-order upload).
        mark = _contiguous_mark(locked, acked, batch_ranges) if may_conflict else _walk(acked, batch_ranges)
        now = timezone.now()
        latest_state_update(locked, network_ids, new_items, now=now)
        update = {"acked_seq": mark, "last_seen": now}
        if software_version:
            update["software_version"] = software_version[:64]
        Gateway.objects.filter(pk=locked.pk).update(**update)
    return IngestResult(acked_seq=mark, stored=len(new_items), duplicates=len(batch.items) - len(new_items))
