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
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from gateways.protocol import TelemetryBatch
from gateways.protocol.telemetry import TelemetryEvent as EventItem
from gateways.protocol.telemetry import TelemetrySample as SampleItem

from fleet.models import ChargingNetwork, Gateway, TelemetryGap
from fleet.services.telemetry_state import latest_state_update
from fleet.services.telemetry_store import (
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


def telemetry_ingest(gateway: Gateway, batch: TelemetryBatch, *, software_version: str = "") -> IngestResult:
    """Store a validated batch once and return the gateway's new acknowledged mark."""
    partitions_ensure_for(batch)
    with transaction.atomic():
        locked = Gateway.objects.select_for_update().select_related("site").get(pk=gateway.pk)
        acked = locked.acked_seq
        new_items = [item for item in batch.items if item.seq > acked]
        may_conflict = stored_above(locked, acked)
        if may_conflict:
            covered = covered_by_gaps(locked, [item.seq for item in new_items])
            new_items = [item for item in new_items if item.seq not in covered]
        network_ids = telemetry_network_ids(locked)

        samples = [i for i in new_items if isinstance(i, SampleItem)]
        events = [i for i in new_items if isinstance(i, EventItem)]
        store_samples(locked, [_sample_row(locked.pk, network_ids, s) for s in samples], may_conflict=may_conflict)
        store_events(locked, network_ids, events, may_conflict=may_conflict)
        gaps = [(first, last) for first, last in batch.gaps if last > acked]
        TelemetryGap.objects.bulk_create(
            [TelemetryGap(gateway=locked, first_seq=first, last_seq=last) for first, last in gaps], ignore_conflicts=True
        )
        mark = contiguous_mark(locked, acked, [(i.seq, i.seq) for i in batch.items] + gaps)
        now = timezone.now()
        latest_state_update(locked, network_ids, new_items, now=now)
        update = {"acked_seq": mark, "last_seen": now}
        if software_version:
            update["software_version"] = software_version[:64]
        Gateway.objects.filter(pk=locked.pk).update(**update)
    return IngestResult(acked_seq=mark, stored=len(new_items), duplicates=len(batch.items) - len(new_items))
