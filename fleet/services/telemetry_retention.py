"""Keeping telemetry bounded: raw days folded into rollups and dropped whole, old rollups dropped by the month.

After `TELEMETRY_RAW_RETENTION_DAYS` a whole UTC day of raw samples becomes
one rollup per gateway, network and `TELEMETRY_DOWNSAMPLE_RESOLUTION_S` bucket
(`fleet.services.telemetry_rollup`). After `TELEMETRY_RETENTION_DAYS` rollups
and events go.

On PostgreSQL nothing is deleted row by row. A raw day's partition is first
detached from the samples table and renamed (a moment's lock on the table;
from then on a late sample for that day gets a new partition of its own, folded
by the next run), then folded and dropped in one transaction: the day's
rollups appear in the same commit that removes its raw rows, so readers of
`TelemetryHistory` never see the day twice or not at all. A run that dies
between the two steps leaves the renamed table, which the next run folds
first. Rollups and events leave by monthly partition once the whole month is
past the retention (so they stay up to a month longer than the setting says).

On SQLite (the embedded demo) the same days are folded and the rows deleted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from fleet.models import TelemetryEvent, TelemetryRollup, TelemetrySample
from fleet.models.partitioning import RangePartitioned, partition_bounds, partition_detach, partition_drop, partitions_ensure, partitions_list
from fleet.models.telemetry_partitions import EVENT_PARTITIONS, ROLLUP_PARTITIONS, SAMPLE_PARTITIONS
from fleet.services.telemetry_rollup import telemetry_rollup_rows, telemetry_rollup_table

FOLDING_PREFIX = "fleet_telemetrysample_folding_"
"""Name of a raw day's table between detaching it and dropping it."""


@dataclass(frozen=True)
class RetentionResult:
    """What one retention run did."""

    raw_folded: int
    rows_written: int
    deleted: int
    partitions_dropped: list[str] = field(default_factory=list)


def _folding_tables() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT relname FROM pg_class WHERE relkind = 'r' AND relname LIKE %s ORDER BY relname",
                       [FOLDING_PREFIX.replace("_", r"\_") + "%"])
        return [row[0] for row in cursor.fetchall()]


COUNT_AS_ARRIVED_SQL = """
INSERT INTO fleet_telemetrygap (gateway_id, first_seq, last_seq)
SELECT gateway_id, min(seq), max(seq) FROM (
    SELECT s.gateway_id, s.seq, s.seq - row_number() OVER (PARTITION BY s.gateway_id ORDER BY s.seq) AS run
    FROM {table} s JOIN fleet_gateway g ON g.id = s.gateway_id
    WHERE s.seq > g.acked_seq
) above_the_mark
GROUP BY gateway_id, run
ON CONFLICT DO NOTHING
"""


def _folded_seqs_count_as_arrived(table: str) -> None:
    """Seqs above their gateway's mark (stored out of order, the hole not filled yet) become declared gaps.

    Folded, they are no longer found by (gateway, seq); as gaps they still
    count as arrived, and the ingest leaves a resend of them out, so the hole's
    filling advances the mark past them and nothing is stored twice.
    """
    with connection.cursor() as cursor:
        cursor.execute(COUNT_AS_ARRIVED_SQL.format(table=connection.ops.quote_name(table)))


def _fold_and_drop(table: str, day: date, resolution_s: int) -> tuple[int, int]:
    with transaction.atomic():
        partitions_ensure(ROLLUP_PARTITIONS, [ROLLUP_PARTITIONS.start_of(partition_bounds(SAMPLE_PARTITIONS, day)[0])])
        _folded_seqs_count_as_arrived(table)
        folded, written = telemetry_rollup_table(table, resolution_s)
        with connection.cursor() as cursor:
            # Deferred foreign-key checks of rows written earlier in this very transaction (a test, a
            # one-off script) would refuse the DROP; run them now. Committed rows have none.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(f"DROP TABLE {connection.ops.quote_name(table)}")
    return folded, written


def _fold_raw_days_postgresql(before: datetime, resolution_s: int) -> tuple[int, int, list[str]]:
    """Fold and drop every raw day partition that ends at or before `before`."""
    for day in partitions_list(SAMPLE_PARTITIONS):
        if partition_bounds(SAMPLE_PARTITIONS, day)[1] <= before:
            with transaction.atomic():
                partition_detach(SAMPLE_PARTITIONS, day, f"{FOLDING_PREFIX}{day:%Y%m%d}")
    folded = written = 0
    dropped = []
    for table in _folding_tables():
        day = SAMPLE_PARTITIONS.start_from_name(table.replace(FOLDING_PREFIX, f"{SAMPLE_PARTITIONS.table}_p"))
        table_folded, table_written = _fold_and_drop(table, day, resolution_s)
        folded, written = folded + table_folded, written + table_written
        dropped.append(SAMPLE_PARTITIONS.name(day))
    return folded, written, dropped


def _fold_raw_days_sqlite(before: datetime, resolution_s: int) -> tuple[int, int]:
    """Fold the raw rows older than `before` (a day's start) and delete them, a day at a time."""
    folded = written = 0
    while (oldest := TelemetrySample.objects.filter(ts__lt=before).order_by("ts").values_list("ts", flat=True).first()):
        lower, upper = partition_bounds(SAMPLE_PARTITIONS, SAMPLE_PARTITIONS.start_of(oldest))
        day = TelemetrySample.objects.filter(ts__gte=lower, ts__lt=min(upper, before))
        with transaction.atomic():
            rollups = TelemetryRollup.objects.bulk_create(telemetry_rollup_rows(day.iterator(chunk_size=10_000), resolution_s))
            count, _ = day.delete()
        folded, written = folded + count, written + len(rollups)
    return folded, written


def _drop_old_months(model, partitioned: RangePartitioned, cutoff: datetime) -> tuple[int, list[str]]:
    """Rows older than `cutoff`: on PostgreSQL the month partitions wholly before it, on SQLite the rows."""
    if connection.vendor != "postgresql":
        deleted, _ = model.objects.filter(ts__lt=cutoff).delete()
        return deleted, []
    dropped = []
    for month in partitions_list(partitioned):
        if partition_bounds(partitioned, month)[1] <= cutoff:
            with transaction.atomic():
                partition_drop(partitioned, month)
            dropped.append(partitioned.name(month))
    return 0, dropped


def telemetry_apply_retention(now: datetime | None = None) -> RetentionResult:
    """The hourly job: fold and drop raw days past the raw retention, drop rollups and events past the retention."""
    now = now or timezone.now()
    resolution_s = settings.TELEMETRY_DOWNSAMPLE_RESOLUTION_S
    raw_before = (now - timedelta(days=settings.TELEMETRY_RAW_RETENTION_DAYS)).astimezone(UTC)
    raw_before = raw_before.replace(hour=0, minute=0, second=0, microsecond=0)  # whole UTC days only
    if connection.vendor == "postgresql":
        folded, written, dropped = _fold_raw_days_postgresql(raw_before, resolution_s)
    else:
        (folded, written), dropped = _fold_raw_days_sqlite(raw_before, resolution_s), []
    cutoff = now - timedelta(days=settings.TELEMETRY_RETENTION_DAYS)
    deleted_rollups, dropped_rollups = _drop_old_months(TelemetryRollup, ROLLUP_PARTITIONS, cutoff)
    deleted_events, dropped_events = _drop_old_months(TelemetryEvent, EVENT_PARTITIONS, cutoff)
    return RetentionResult(folded, written, deleted_rollups + deleted_events, dropped + dropped_rollups + dropped_events)
