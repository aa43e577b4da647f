"""Storing a gateway's telemetry batch exactly once and telling it how far everything has arrived.

Every item carries the gateway's sequence number; (gateway, seq) is unique in
the database, so a batch sent twice, or overlapping an earlier one, stores
nothing twice. The answer is the highest sequence number up to which every
item (or a declared gap of thinned samples) is stored; the gateway then drops
that much from its buffer.

Samples are the volume. On PostgreSQL they go into daily partitions, events
into monthly ones; how each (gateway, seq) is still stored once is designed in
`fleet.models.telemetry` and done in `fleet.services.telemetry_store`. Batches
of one gateway are serialised by locking its row, so two concurrent retries
cannot both advance the mark.

The partitions the batch needs are made sure of before the batch's
transaction opens (creating one locks the table briefly for everyone, which
must not last as long as a batch); a per-process memory makes that free for
days seen before.

A batch arrives as `BatchRecords`: samples are tuples whose chargers are
already the wire data stored, so a row is one tuple and one orjson call.
"""

from __future__ import annotations

from dataclasses import dataclass

import orjson
from django.db import transaction
from django.utils import timezone

from gateways.protocol.telemetry import BatchRecords, SampleRecord
from gateways.protocol.telemetry import TelemetryEvent as EventItem

from fleet.models import ChargingNetwork, Gateway, TelemetryGap
from fleet.services.telemetry_state import latest_state_update
from fleet.services.telemetry_store import (
    batch_mark,
    contiguous_mark,
    covered_by_gaps,
    partitions_ensure_for,
    store_events,
    store_samples,
    stored_above,
)


@dataclass(frozen=True)
class IngestResult:
    """What a batch did: the new acknowledged mark, items above the old mark, items at or below it (resent)."""

    acked_seq: int
    stored: int
    duplicates: int


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


def telemetry_ingest(
    gateway: Gateway, batch: BatchRecords, *, software_version: str = "", network_ids: dict[str, int] | None = None
) -> IngestResult:
    """Store a validated batch once and return the gateway's new acknowledged mark.

    `network_ids` are `telemetry_network_ids(gateway)` where the caller has
    them already (the view validates the batch against them): read once a request.
    """
    if network_ids is None:
        network_ids = telemetry_network_ids(gateway)
    partitions_ensure_for(batch)
    with transaction.atomic():
        locked = Gateway.objects.select_for_update().only("acked_seq", "site_id").get(pk=gateway.pk)
        acked = locked.acked_seq
        new_items = [item for item in batch.items if item.seq > acked]
        may_conflict = stored_above(locked, acked)
        if may_conflict:
            covered = covered_by_gaps(locked, [item.seq for item in new_items])
            new_items = [item for item in new_items if item.seq not in covered]

        samples = [i for i in new_items if type(i) is SampleRecord]
        events = [i for i in new_items if isinstance(i, EventItem)]
        if len(samples) + len(events) != len(new_items):
            # The protocol's dataclasses (parse_batch) are the gateway's form; stored as they are they would vanish.
            raise TypeError("telemetry_ingest takes parse_batch_records' BatchRecords, not parse_batch's dataclasses")
        store_samples(locked, [_sample_row(locked.pk, network_ids, s) for s in samples], may_conflict=may_conflict)
        store_events(locked, network_ids, events, may_conflict=may_conflict)
        gaps = [(first, last) for first, last in batch.gaps if last > acked]
        TelemetryGap.objects.bulk_create(
            [TelemetryGap(gateway=locked, first_seq=first, last_seq=last) for first, last in gaps], ignore_conflicts=True
        )
        batch_ranges = [(i.seq, i.seq) for i in batch.items] + gaps
        # With nothing stored above the old mark before this batch, everything above it now is this batch:
        # the walk needs no second look at the tables (the steady, in-order upload).
        mark = contiguous_mark(locked, acked, batch_ranges) if may_conflict else batch_mark(acked, batch_ranges)
        now = timezone.now()
        latest_state_update(locked, network_ids, new_items, now=now)
        update = {"acked_seq": mark, "last_seen": now}
        if software_version:
            update["software_version"] = software_version[:64]
        Gateway.objects.filter(pk=locked.pk).update(**update)
    return IngestResult(acked_seq=mark, stored=len(new_items), duplicates=len(batch.items) - len(new_items))
