"""Telemetry samples averaged into fixed time buckets, in SQL, on PostgreSQL and SQLite alike.

Samples arrive once per regulation cycle (about one a second per network), so
a chart of a day or a week must be reduced in the database: rows are grouped
by (network, bucket) where a bucket is `resolution_s` seconds wide and aligned
to the Unix epoch (so a 900 s bucket starts at :00, :15, :30, :45 UTC). The two
expressions below render per database vendor; Django has no portable
"seconds since the epoch" nor a JSON path that treats a numeric key (charger
ids) as an object key on SQLite.
"""

from django.db import NotSupportedError
from django.db.models import (
    Avg,
    BigIntegerField,
    Case,
    F,
    FloatField,
    Func,
    QuerySet,
    Sum,
    Value,
    When,
)

from fleet.models import NetworkMode

MAX_BUCKETS = 10_000
"""Most buckets one request may span; more would be a chart nobody can read and a query nobody should wait for."""


class EpochBucket(Func):
    """Start of the `resolution_s`-wide bucket a timestamp falls in, as whole seconds since the Unix epoch."""

    output_field = BigIntegerField()

    def __init__(self, expression, resolution_s: int):
        # The width goes into the SQL text (not a parameter) so that GROUP BY and
        # SELECT hold the very same expression; int() keeps it a plain number.
        self.resolution_s = int(resolution_s)
        if self.resolution_s < 1:
            raise ValueError("resolution_s must be at least 1")
        super().__init__(expression)

    def as_sql(self, compiler, connection, **extra_context):
        raise NotSupportedError(f"EpochBucket is implemented for PostgreSQL and SQLite, not {connection.vendor}")

    def as_postgresql(self, compiler, connection, **extra_context):
        n = self.resolution_s
        template = f"CAST(floor(extract(epoch from %(expressions)s) / {n}) * {n} AS bigint)"
        return super().as_sql(compiler, connection, template=template, **extra_context)

    def as_sqlite(self, compiler, connection, **extra_context):
        n = self.resolution_s
        # '%%%%s' survives Func's own %-formatting as '%%s', which Django's SQLite
        # cursor then turns into strftime's literal '%s' (not a placeholder).
        template = f"(CAST(strftime('%%%%s', %(expressions)s) AS INTEGER) / {n} * {n})"
        return super().as_sql(compiler, connection, template=template, **extra_context)


class JsonNumber(Func):
    """A number at a path inside a JSON column, e.g. ("12", "current_a", 0); NULL where the path is absent."""

    output_field = FloatField()

    def __init__(self, expression, *path: str | int):
        self.path = tuple(path)
        super().__init__(expression)

    def as_sql(self, compiler, connection, **extra_context):
        raise NotSupportedError(f"JsonNumber is implemented for PostgreSQL and SQLite, not {connection.vendor}")

    def as_postgresql(self, compiler, connection, **extra_context):
        sql, params = compiler.compile(self.source_expressions[0])
        # '#>>' reads a path of text steps: object keys by name, array elements by index.
        return f"CAST(({sql} #>> %s) AS double precision)", (*params, [str(step) for step in self.path])

    def as_sqlite(self, compiler, connection, **extra_context):
        sql, params = compiler.compile(self.source_expressions[0])
        json_path = "$" + "".join(f"[{step}]" if isinstance(step, int) else f'."{step}"' for step in self.path)
        return f"CAST(json_extract({sql}, %s) AS REAL)", (*params, json_path)


def bucket_count(from_epoch_s: float, to_epoch_s: float, resolution_s: int) -> int:
    """How many buckets the half-open range [from, to) touches."""
    first = int(from_epoch_s // resolution_s)
    last = int(-(-to_epoch_s // resolution_s)) - 1  # the bucket holding the last instant before `to`
    return max(0, last - first + 1)


def downsample_samples(samples: QuerySet, resolution_s: int, charger_id: int | None = None) -> QuerySet:
    """Per network and bucket: sample count, mean grid current per phase, fallback share, and one charger's means.

    `samples` is a `TelemetryHistory` queryset (raw samples and rollups): a
    rollup counts its raw samples, and its means weigh as one row, like a raw
    sample's values (past the raw retention every row of a bucket is a rollup).

    Rows are dicts with `network`, `bucket_epoch_s`, `sample_count`,
    `avg_grid_l1_a`..`avg_grid_l3_a`, `fallback_share` (0..1) and, with a
    charger, `avg_charger_l1_a`..`avg_charger_l3_a` (the charger's own phases)
    and `avg_charger_setpoint_a`; averages skip samples without the value.
    """
    charger_means = {}
    if charger_id is not None:
        key = str(charger_id)
        charger_means = {
            "avg_charger_l1_a": Avg(JsonNumber(F("chargers"), key, "current_a", 0)),
            "avg_charger_l2_a": Avg(JsonNumber(F("chargers"), key, "current_a", 1)),
            "avg_charger_l3_a": Avg(JsonNumber(F("chargers"), key, "current_a", 2)),
            "avg_charger_setpoint_a": Avg(JsonNumber(F("chargers"), key, "setpoint_a")),
        }
    in_fallback = Case(When(mode=NetworkMode.FALLBACK, then=Value(1.0)), default=Value(0.0), output_field=FloatField())
    return (
        samples.values("network", bucket_epoch_s=EpochBucket("ts", resolution_s))
        .annotate(
            sample_count=Sum("sample_count"),
            avg_grid_l1_a=Avg("grid_l1_a"),
            avg_grid_l2_a=Avg("grid_l2_a"),
            avg_grid_l3_a=Avg("grid_l3_a"),
            fallback_share=Avg(in_fallback),
            **charger_means,
        )
        .order_by("bucket_epoch_s", "network")
    )
