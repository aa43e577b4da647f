"""Telemetry samples in daily partitions on PostgreSQL.

Samples: the unique (gateway, seq) becomes unique (gateway, seq, ts), which a
partitioned table accepts (fleet.models.telemetry says how (gateway, seq)
stays unique). Rows the old retention had folded into the samples table
(resolution_s > 0) move to the new rollup table. On PostgreSQL the samples
table is then replaced: a partitioned copy of its columns with one partition
per UTC day that holds rows (and yesterday to three days ahead), the rows
copied over with their ids, the old table dropped, keys and indexes built once
on the full table. The rollup table is made partitioned by month the same way.
`fleet_telemetryhistory` is the view readers query (raw UNION ALL rollups).
On SQLite only the constraint, the rollup table, the move and the view happen.

The SQL is written out here rather than imported, so that the migration stays
as it was when later code changes. Later schema changes to these two tables
must drop and recreate the view around them (PostgreSQL refuses to change a
column a view reads).
"""

from datetime import UTC, datetime, timedelta

import django.db.models.deletion
from django.db import migrations, models

SAMPLES = "fleet_telemetrysample"
ROLLUPS = "fleet_telemetryrollup"
FOREIGN_KEYS = (
    "ALTER TABLE {table} ADD CONSTRAINT {prefix}_gateway_fk FOREIGN KEY (gateway_id) "
    "REFERENCES fleet_gateway (id) DEFERRABLE INITIALLY DEFERRED",
    "ALTER TABLE {table} ADD CONSTRAINT {prefix}_network_fk FOREIGN KEY (network_id) "
    "REFERENCES fleet_chargingnetwork (id) DEFERRABLE INITIALLY DEFERRED",
)
KEYS_AND_INDEXES = {
    SAMPLES: (
        "ALTER TABLE {table} ADD CONSTRAINT {table}_pkey PRIMARY KEY (id{ts})",
        "ALTER TABLE {table} ADD CONSTRAINT telemetry_sample_unique_gateway_seq_ts UNIQUE (gateway_id, seq, ts)",
        *FOREIGN_KEYS,
        "CREATE INDEX telemetry_sample_network_ts ON {table} (network_id, ts)",
        "CREATE INDEX telemetry_sample_ts_brin ON {table} USING brin (ts) WITH (pages_per_range = 32)",
    ),
    ROLLUPS: (
        "ALTER TABLE {table} ADD CONSTRAINT {table}_pkey PRIMARY KEY (id{ts})",
        *FOREIGN_KEYS,
        "CREATE INDEX telemetry_rollup_network_ts ON {table} (network_id, ts)",
        "CREATE INDEX telemetry_rollup_gateway_ts ON {table} (gateway_id, ts)",
    ),
}
PREFIX = {SAMPLES: "telemetry_sample", ROLLUPS: "telemetry_rollup"}

VIEW = f"""
CREATE VIEW fleet_telemetryhistory AS
SELECT id, gateway_id, network_id, ts, resolution_s, 1 AS sample_count, mode, grid_l1_a, grid_l2_a, grid_l3_a, chargers
FROM {SAMPLES}
UNION ALL
SELECT -id, gateway_id, network_id, ts, resolution_s, sample_count, mode, grid_l1_a, grid_l2_a, grid_l3_a, chargers
FROM {ROLLUPS}
"""


def _partition_sql(parent: str, table: str, start, end) -> str:
    return (f"CREATE TABLE {table} PARTITION OF {parent} "
            f"FOR VALUES FROM ('{start.isoformat()} 00:00:00+00') TO ('{end.isoformat()} 00:00:00+00')")


def _next_month(day):
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def _swap(schema_editor, table: str, *, partitioned: bool) -> None:
    """Replace a table by a partitioned (or, backwards, a plain) copy with the same rows and ids."""
    run, new = schema_editor.execute, f"{table}_swap"
    with schema_editor.connection.cursor() as cursor:
        run(f"CREATE TABLE {new} (LIKE {table} INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING IDENTITY)"
            + (" PARTITION BY RANGE (ts)" if partitioned else ""))
        if partitioned and table == SAMPLES:
            cursor.execute(f"SELECT DISTINCT (ts AT TIME ZONE 'UTC')::date FROM {table}")
            today = datetime.now(UTC).date()
            days = {row[0] for row in cursor.fetchall()} | {today + timedelta(days=n) for n in range(-1, 4)}
            for day in sorted(days):
                run(_partition_sql(new, f"{table}_p{day:%Y%m%d}", day, day + timedelta(days=1)))
        elif partitioned:
            cursor.execute(f"SELECT DISTINCT date_trunc('month', ts AT TIME ZONE 'UTC')::date FROM {table}")
            for (month,) in sorted(cursor.fetchall()):
                run(_partition_sql(new, f"{table}_p{month:%Y%m}", month, _next_month(month)))
        run(f"INSERT INTO {new} SELECT * FROM {table}")
        cursor.execute(f"SELECT pg_get_serial_sequence('{new}', 'id'), (SELECT max(id) FROM {new})")
        sequence, max_id = cursor.fetchone()
        if max_id is not None:
            cursor.execute("SELECT setval(%s, %s)", [sequence, max_id])
        run(f"DROP TABLE {table}")
        run(f"ALTER TABLE {new} RENAME TO {table}")
        run(f"ALTER SEQUENCE {sequence} RENAME TO {table}_id_seq")
        for statement in KEYS_AND_INDEXES[table]:
            run(statement.format(table=table, prefix=PREFIX[table], ts=", ts" if partitioned else ""))


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        _swap(schema_editor, SAMPLES, partitioned=True)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        _swap(schema_editor, SAMPLES, partitioned=False)


class Migration(migrations.Migration):

    dependencies = [
        ("fleet", "0012_dashboard"),
    ]

    operations = [
        migrations.RemoveConstraint(model_name="telemetrysample", name="telemetry_sample_unique_gateway_seq"),
        migrations.AddConstraint(
            model_name="telemetrysample",
            constraint=models.UniqueConstraint(fields=("gateway", "seq", "ts"), name="telemetry_sample_unique_gateway_seq_ts"),
        ),
        migrations.RunPython(forwards, backwards),
    ]
