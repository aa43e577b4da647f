"""Storing a gateway's items exactly once in the partitioned telemetry tables (the ingest's storage path).

The design is in `fleet.models.telemetry`: batches of one gateway run one at
a time under the lock on its row; when nothing above the gateway's mark is
stored, every item above it is new and is written as it is (samples with
COPY); otherwise the seqs already stored (in any partition, with any ts) or
covered by a declared gap are left out first. The mark is then walked from the
old one through everything known to be stored.
"""

from __future__ import annotations

import json
from datetime import datetime

from django.db import connection

from gateways.protocol.telemetry import BatchRecords, SampleRecord
from gateways.protocol.telemetry import TelemetryEvent as EventItem

from fleet.models import Gateway, TelemetryEvent, TelemetryGap, TelemetrySample
from fleet.models.telemetry_partitions import EVENT_PARTITIONS, monthly_partitions_ensure, sample_partitions_ensure

SAMPLE_COLUMNS = (
    "gateway_id", "seq", "ts", "network_id", "mode", "grid_l1_a", "grid_l2_a", "grid_l3_a", "chargers", "resolution_s",
)
"""The sample columns a row tuple holds, in order (the ingest builds the tuples)."""


def _parse_ts(value: str) -> datetime:
    return datetime.fromisoformat(value)


def stored_above(gateway: Gateway, seq: int) -> bool:
    """Whether anything of the gateway's above `seq` is stored (the out-of-order case); one index probe per partition."""
    return (
        TelemetrySample.objects.filter(gateway=gateway, seq__gt=seq).exists()
        or TelemetryEvent.objects.filter(gateway=gateway, seq__gt=seq).exists()
        or TelemetryGap.objects.filter(gateway=gateway, last_seq__gt=seq).exists()
    )


def store_samples(gateway: Gateway, rows: list[tuple], *, may_conflict: bool) -> None:
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


def covered_by_gaps(gateway: Gateway, seqs: list[int]) -> set[int]:
    """Which of these seqs lie in a declared gap (thinned on the gateway, or folded by retention above the mark)."""
    if not seqs:
        return set()
    gaps = list(TelemetryGap.objects.filter(gateway=gateway, first_seq__lte=max(seqs), last_seq__gte=min(seqs))
                .values_list("first_seq", "last_seq"))
    return {seq for seq in seqs if any(first <= seq <= last for first, last in gaps)} if gaps else set()


def store_events(gateway: Gateway, network_ids: dict[str, int], events: list[EventItem], *, may_conflict: bool) -> None:
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


def partitions_ensure_for(batch: BatchRecords) -> None:
    """Create any partition the batch's items need; call it outside the batch's transaction (creating one locks
    the table briefly for everyone, which must not last as long as a batch)."""
    sample_times = [_parse_ts(item.ts) for item in batch.items if type(item) is SampleRecord]
    event_times = [_parse_ts(item.ts) for item in batch.items if isinstance(item, EventItem)]
    sample_partitions_ensure(sample_times)
    if event_times:
        monthly_partitions_ensure(EVENT_PARTITIONS, event_times)


def contiguous_mark(gateway: Gateway, start: int, batch_ranges: list[tuple[int, int]]) -> int:
    """Walk from `start` through everything known to be stored (this batch, earlier out-of-order ones, gaps)."""
    ranges = list(batch_ranges)
    mark = _walk(start, ranges)
    if stored_above(gateway, mark):
        stored = [(s, s) for s in TelemetrySample.objects.filter(gateway=gateway, seq__gt=mark).values_list("seq", flat=True)]
        stored += [(s, s) for s in TelemetryEvent.objects.filter(gateway=gateway, seq__gt=mark).values_list("seq", flat=True)]
        stored += list(TelemetryGap.objects.filter(gateway=gateway, last_seq__gt=mark).values_list("first_seq", "last_seq"))
        mark = _walk(mark, ranges + stored)
    return mark


def batch_mark(start: int, batch_ranges: list[tuple[int, int]]) -> int:
    """`contiguous_mark` when nothing was stored above `start` before this batch: the batch alone decides, no query."""
    return _walk(start, batch_ranges)


def _walk(mark: int, ranges: list[tuple[int, int]]) -> int:
    for first, last in sorted(ranges):
        if first > mark + 1:
            break
        mark = max(mark, last)
    return mark
