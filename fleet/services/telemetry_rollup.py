"""Folding raw telemetry samples into rollups: per gateway, network and bucket, the means the charts and planner need.

Per bucket (5 minutes by default): the mean grid current per phase, and per
charger its mean current per phase and mean setpoint; the lowest sequence
number and the number of samples; `fallback` if any sample of the bucket ran
on the fallback, so fallback periods never vanish from the history. Means are
rounded to the milliampere.

On PostgreSQL one statement folds a whole table (a day's detached partition)
inside the database, since a day of a 10,000-site fleet is close to a billion
rows; on SQLite (the embedded demo, a few networks) Python folds the rows.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime

from django.db import connection

from fleet.models import TelemetryRollup, TelemetrySample

_BUCKET = "to_timestamp(floor(extract(epoch FROM {ts}) / {n}) * {n})"
_MEAN = "round(avg({value})::numeric, 3)::float8"

FOLD_SQL = """
WITH buckets AS (
    SELECT gateway_id, network_id, {bucket_s} AS bucket, min(seq) AS first_seq, count(*) AS sample_count,
           CASE WHEN bool_or(mode = 'fallback') THEN 'fallback' ELSE 'normal' END AS mode,
           {l1} AS grid_l1_a, {l2} AS grid_l2_a, {l3} AS grid_l3_a
    FROM {source} s GROUP BY 1, 2, 3
), per_charger AS (
    SELECT s.gateway_id, s.network_id, {bucket_s} AS bucket, c.key, count(*) AS samples,
           {c1} AS l1, {c2} AS l2, {c3} AS l3, {sp} AS setpoint_a
    FROM {source} s CROSS JOIN LATERAL jsonb_each(s.chargers) AS c(key, value)
    WHERE jsonb_typeof(c.value) = 'object'
    GROUP BY 1, 2, 3, 4
), chargers AS (
    SELECT gateway_id, network_id, bucket, jsonb_object_agg(key, jsonb_build_object(
        'current_a', CASE WHEN num_nulls(l1, l2, l3) = 3 THEN NULL ELSE jsonb_build_array(l1, l2, l3) END,
        'setpoint_a', setpoint_a, 'samples', samples)) AS chargers
    FROM per_charger GROUP BY 1, 2, 3
), written AS (
    INSERT INTO fleet_telemetryrollup (gateway_id, network_id, ts, resolution_s, first_seq, sample_count, mode,
                                       grid_l1_a, grid_l2_a, grid_l3_a, chargers)
    SELECT b.gateway_id, b.network_id, b.bucket, {n}, b.first_seq, b.sample_count, b.mode,
           b.grid_l1_a, b.grid_l2_a, b.grid_l3_a, coalesce(c.chargers, '{{}}'::jsonb)
    FROM buckets b LEFT JOIN chargers c
      ON c.gateway_id = b.gateway_id AND c.network_id IS NOT DISTINCT FROM b.network_id AND c.bucket = b.bucket
    RETURNING sample_count
)
SELECT count(*), coalesce(sum(sample_count), 0) FROM written
"""


def telemetry_rollup_table(source: str, resolution_s: int) -> tuple[int, int]:
    """Fold every row of a raw sample table (PostgreSQL) into rollups; returns (raw rows folded, rollups written)."""
    n = int(resolution_s)
    sql = FOLD_SQL.format(
        source=connection.ops.quote_name(source), n=n, bucket_s=_BUCKET.format(ts="s.ts", n=n),
        l1=_MEAN.format(value="grid_l1_a"), l2=_MEAN.format(value="grid_l2_a"), l3=_MEAN.format(value="grid_l3_a"),
        c1=_MEAN.format(value="(c.value -> 'current_a' ->> 0)::float8"),
        c2=_MEAN.format(value="(c.value -> 'current_a' ->> 1)::float8"),
        c3=_MEAN.format(value="(c.value -> 'current_a' ->> 2)::float8"),
        sp=_MEAN.format(value="(c.value ->> 'setpoint_a')::float8"),
    )
    with connection.cursor() as cursor:
        cursor.execute(sql)
        written, folded = cursor.fetchone()
    return int(folded), int(written)


def bucket_start(ts: datetime, resolution_s: int) -> datetime:
    """Start of the epoch-aligned bucket `ts` falls in."""
    epoch_s = int(ts.timestamp())
    return datetime.fromtimestamp(epoch_s - epoch_s % resolution_s, tz=UTC)


def _mean(values: Iterable[float | None]) -> float | None:
    numbers = [value for value in values if value is not None]
    return round(sum(numbers) / len(numbers), 3) if numbers else None


def telemetry_rollup_rows(rows: Iterable[TelemetrySample], resolution_s: int) -> list[TelemetryRollup]:
    """Fold raw samples (in Python) into one rollup per gateway, network and bucket, as the SQL above does."""
    buckets: dict[tuple, list[TelemetrySample]] = defaultdict(list)
    for row in rows:
        buckets[(row.gateway_id, row.network_id, bucket_start(row.ts, resolution_s))].append(row)
    rollups = []
    for (gateway_id, network_id, start), members in sorted(buckets.items(), key=lambda kv: (kv[0][2], kv[0][0], kv[0][1] or 0)):
        chargers: dict[str, list[dict]] = defaultdict(list)
        for member in members:
            for charger_id, values in (member.chargers or {}).items():
                if isinstance(values, dict):
                    chargers[charger_id].append(values)
        rollups.append(TelemetryRollup(
            gateway_id=gateway_id, network_id=network_id, ts=start, resolution_s=resolution_s,
            first_seq=min(m.seq for m in members), sample_count=len(members),
            mode="fallback" if any(m.mode == "fallback" for m in members) else "normal",
            grid_l1_a=_mean(m.grid_l1_a for m in members), grid_l2_a=_mean(m.grid_l2_a for m in members),
            grid_l3_a=_mean(m.grid_l3_a for m in members),
            chargers={charger_id: _charger_means(values) for charger_id, values in chargers.items()},
        ))
    return rollups


def _charger_means(values: list[dict]) -> dict:
    currents = [v.get("current_a") or () for v in values]
    phases = [_mean(current[p] if len(current) > p else None for current in currents) for p in range(3)]
    return {"current_a": None if phases == [None, None, None] else phases,
            "setpoint_a": _mean(v.get("setpoint_a") for v in values), "samples": len(values)}
