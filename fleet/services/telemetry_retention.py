"""Keeping the telemetry tables bounded: old raw samples folded into averages, very old rows deleted.

Raw samples arrive once per network and cycle (86,400 a day at 1 s). After
`TELEMETRY_RAW_RETENTION_DAYS` they are replaced, per gateway and network, by
one row per `TELEMETRY_DOWNSAMPLE_RESOLUTION_S` bucket: average grid current
per phase, and per charger its average current and setpoint. A bucket that
saw any fallback is marked fallback, so fallback periods never vanish from
the history. The averaged row keeps the lowest sequence number of its bucket
(whose raw row it replaces in the same transaction), so (gateway, seq) stays
unique. After `TELEMETRY_RETENTION_DAYS` averaged rows and events go.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from django.conf import settings
from django.db import transaction
from django.utils import timezone as django_timezone

from fleet.models import TelemetryEvent, TelemetrySample

CHUNK_ROWS = 20_000


@dataclass(frozen=True)
class RetentionResult:
    """What one retention run did."""

    raw_folded: int
    rows_written: int
    deleted: int


def _bucket_start(ts: datetime, resolution_s: int) -> datetime:
    epoch_s = int(ts.timestamp())
    return datetime.fromtimestamp(epoch_s - epoch_s % resolution_s, tz=timezone.utc)


def _mean(values: list[float]) -> float | None:
    return round(sum(values) / len(values), 3) if values else None


def _fold(rows: list[TelemetrySample], resolution_s: int) -> list[TelemetrySample]:
    """Average raw rows of one gateway and network into one row per bucket."""
    buckets: dict[datetime, list[TelemetrySample]] = defaultdict(list)
    for row in rows:
        buckets[_bucket_start(row.ts, resolution_s)].append(row)
    folded = []
    for start, members in sorted(buckets.items()):
        chargers: dict[str, dict[str, list]] = defaultdict(lambda: {"current": [], "setpoint": []})
        for member in members:
            for charger_id, values in (member.chargers or {}).items():
                if values.get("current_a") is not None:
                    chargers[charger_id]["current"].append(values["current_a"])
                if values.get("setpoint_a") is not None:
                    chargers[charger_id]["setpoint"].append(values["setpoint_a"])
        first = members[0]
        folded.append(
            TelemetrySample(
                gateway_id=first.gateway_id,
                network_id=first.network_id,
                seq=min(m.seq for m in members),
                ts=start,
                mode="fallback" if any(m.mode == "fallback" for m in members) else "normal",
                grid_l1_a=_mean([m.grid_l1_a for m in members if m.grid_l1_a is not None]),
                grid_l2_a=_mean([m.grid_l2_a for m in members if m.grid_l2_a is not None]),
                grid_l3_a=_mean([m.grid_l3_a for m in members if m.grid_l3_a is not None]),
                chargers={
                    charger_id: {
                        "current_a": [_mean([c[p] for c in v["current"]]) for p in range(3)] if v["current"] else None,
                        "setpoint_a": _mean(v["setpoint"]),
                        "samples": len(members),
                    }
                    for charger_id, v in chargers.items()
                },
                resolution_s=resolution_s,
            )
        )
    return folded


def telemetry_downsample(before: datetime, resolution_s: int) -> tuple[int, int]:
    """Fold raw samples older than `before` into averaged rows; returns (raw rows folded, rows written)."""
    folded_total = written_total = 0
    streams = (
        TelemetrySample.objects.filter(resolution_s=0, ts__lt=before)
        .values_list("gateway_id", "network_id")
        .distinct()
    )
    for gateway_id, network_id in list(streams):
        while True:
            # Whole buckets only: a chunk ends at a bucket boundary so no bucket is split in two rows.
            chunk = list(
                TelemetrySample.objects.filter(
                    gateway_id=gateway_id, network_id=network_id, resolution_s=0, ts__lt=before
                ).order_by("ts")[:CHUNK_ROWS]
            )
            if not chunk:
                break
            if len(chunk) == CHUNK_ROWS:
                last_bucket = _bucket_start(chunk[-1].ts, resolution_s)
                complete = [row for row in chunk if row.ts < last_bucket]
                chunk = complete or chunk  # a single bucket larger than a chunk is folded as it is
            with transaction.atomic():
                TelemetrySample.objects.filter(pk__in=[row.pk for row in chunk]).delete()
                TelemetrySample.objects.bulk_create(_fold(chunk, resolution_s))
            folded_total += len(chunk)
            written_total += len({_bucket_start(row.ts, resolution_s) for row in chunk})
    return folded_total, written_total


def telemetry_apply_retention(now: datetime | None = None) -> RetentionResult:
    """The daily job: fold old raw samples, delete what is past the retention."""
    now = now or django_timezone.now()
    folded, written = telemetry_downsample(
        now - timedelta(days=settings.TELEMETRY_RAW_RETENTION_DAYS), settings.TELEMETRY_DOWNSAMPLE_RESOLUTION_S
    )
    cutoff = now - timedelta(days=settings.TELEMETRY_RETENTION_DAYS)
    deleted_samples, _ = TelemetrySample.objects.filter(ts__lt=cutoff).delete()
    deleted_events, _ = TelemetryEvent.objects.filter(ts__lt=cutoff).delete()
    return RetentionResult(folded, written, deleted_samples + deleted_events)
