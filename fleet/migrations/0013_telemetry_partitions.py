"""Telemetry samples in daily partitions on PostgreSQL, events and rollups (a new table) in monthly ones, one view.

Samples and events: the unique (gateway, seq) becomes unique (gateway, seq, ts), which a
partitioned table accepts (fleet.models.telemetry says how (gateway, seq)
stays unique). Rows the old retention had folded into the samples table
(resolution_s > 0) move to the new rollup table. On PostgreSQL the samples
table is then replaced: a partitioned copy of its columns with one partition
per UTC day that holds rows (and yesterday to three days ahead), the rows
copied over with their ids, the old table dropped, keys and indexes built once
on the full table. Events and the new rollup table are partitioned by month
the same way.
`fleet_telemetryhistory` is the view readers query (raw UNION ALL rollups).
On SQLite only the constraints, the rollup table, the move and the view happen.

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
EVENTS = "fleet_telemetryevent"
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
    EVENTS: (
        "ALTER TABLE {table} ADD CONSTRAINT {table}_pkey PRIMARY KEY (id{ts})",
        "ALTER TABLE {table} ADD CONSTRAINT telemetry_event_unique_gateway_seq_ts UNIQUE (gateway_id, seq, ts)",
        *FOREIGN_KEYS,
        "CREATE INDEX telemetry_event_type_ts ON {table} (type, ts)",
        "CREATE INDEX telemetry_event_gateway_id ON {table} (gateway_id)",
        "CREATE INDEX telemetry_event_network_id ON {table} (network_id)",
    ),
}
PREFIX = {SAMPLES: "telemetry_sample", ROLLUPS: "telemetry_rollup", EVENTS: "telemetry_event"}

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
        if partitioned:
            daily = table == SAMPLES
            cursor.execute(f"SELECT DISTINCT date_trunc('{'day' if daily else 'month'}', ts AT TIME ZONE 'UTC')::date FROM {table}")
            today = datetime.now(UTC).date()
            month = today.replace(day=1)
            ahead = {today + timedelta(days=n) for n in range(-1, 4)} if daily else {month, _next_month(month)}
            for start in sorted({row[0] for row in cursor.fetchall()} | ahead):
                if daily:
                    run(_partition_sql(new, f"{table}_p{start:%Y%m%d}", start, start + timedelta(days=1)))
                else:
                    run(_partition_sql(new, f"{table}_p{start:%Y%m}", start, _next_month(start)))
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


def _move_folded_rows_postgresql(schema_editor) -> None:
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(f"SELECT DISTINCT date_trunc('month', ts AT TIME ZONE 'UTC')::date FROM {SAMPLES} WHERE resolution_s > 0")
        for (month,) in sorted(cursor.fetchall()):
            schema_editor.execute(_partition_sql(ROLLUPS, f"{ROLLUPS}_p{month:%Y%m}", month, _next_month(month)))
    schema_editor.execute(
        f"INSERT INTO {ROLLUPS} (gateway_id, network_id, ts, resolution_s, first_seq, sample_count, mode, "
        "grid_l1_a, grid_l2_a, grid_l3_a, chargers) "
        "SELECT gateway_id, network_id, ts, resolution_s, seq, coalesce((SELECT max((v ->> 'samples')::int) "
        "FROM jsonb_each(chargers) AS c(k, v) WHERE jsonb_typeof(v) = 'object'), 1), mode, grid_l1_a, grid_l2_a, "
        f"grid_l3_a, chargers FROM {SAMPLES} WHERE resolution_s > 0"
    )
    schema_editor.execute(f"DELETE FROM {SAMPLES} WHERE resolution_s > 0")


def _move_folded_rows_python(apps) -> None:
    Sample, Rollup = apps.get_model("fleet", "TelemetrySample"), apps.get_model("fleet", "TelemetryRollup")
    folded = Sample.objects.filter(resolution_s__gt=0)
    rollups = [
        Rollup(gateway_id=row.gateway_id, network_id=row.network_id, ts=row.ts, resolution_s=row.resolution_s,
               first_seq=row.seq, mode=row.mode, grid_l1_a=row.grid_l1_a, grid_l2_a=row.grid_l2_a,
               grid_l3_a=row.grid_l3_a, chargers=row.chargers,
               sample_count=max([c.get("samples", 1) for c in (row.chargers or {}).values() if isinstance(c, dict)] or [1]))
        for row in folded.iterator()
    ]
    Rollup.objects.bulk_create(rollups, batch_size=2000)
    folded.delete()


def _move_rollups_back(apps) -> None:
    Sample, Rollup = apps.get_model("fleet", "TelemetrySample"), apps.get_model("fleet", "TelemetryRollup")
    Sample.objects.bulk_create(
        [Sample(gateway_id=r.gateway_id, network_id=r.network_id, seq=r.first_seq, ts=r.ts, resolution_s=r.resolution_s,
                mode=r.mode, grid_l1_a=r.grid_l1_a, grid_l2_a=r.grid_l2_a, grid_l3_a=r.grid_l3_a, chargers=r.chargers)
         for r in Rollup.objects.iterator()],
        batch_size=2000,
    )


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        _move_folded_rows_python(apps)
        return
    # CreateModel leaves a new table's indexes and keys to the end of the migration: build them
    # before the table is swapped (the swap drops them with it and builds its own).
    for statement in schema_editor.deferred_sql:
        schema_editor.execute(statement)
    schema_editor.deferred_sql.clear()
    _swap(schema_editor, ROLLUPS, partitioned=True)
    _move_folded_rows_postgresql(schema_editor)
    _swap(schema_editor, SAMPLES, partitioned=True)
    _swap(schema_editor, EVENTS, partitioned=True)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        _swap(schema_editor, EVENTS, partitioned=False)
        _swap(schema_editor, SAMPLES, partitioned=False)
    _move_rollups_back(apps)


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
        migrations.RemoveConstraint(model_name="telemetryevent", name="telemetry_event_unique_gateway_seq"),
        migrations.AddConstraint(
            model_name="telemetryevent",
            constraint=models.UniqueConstraint(fields=("gateway", "seq", "ts"), name="telemetry_event_unique_gateway_seq_ts"),
        ),
        migrations.CreateModel(
            name="TelemetryRollup",
            fields=[
                ("id", models.BigAutoField(primary_key=True, serialize=False)),
                ("ts", models.DateTimeField(help_text="Start of the bucket.")),
                ("resolution_s", models.PositiveIntegerField(help_text="Width of the bucket.")),
                ("first_seq", models.BigIntegerField(help_text="The lowest sequence number folded into this row.")),
                ("sample_count", models.PositiveIntegerField(help_text="Raw samples folded into this row.")),
                ("mode", models.CharField(help_text="'fallback' if any sample of the bucket was, so fallback never vanishes.", max_length=16)),
                ("grid_l1_a", models.FloatField(blank=True, null=True)),
                ("grid_l2_a", models.FloatField(blank=True, null=True)),
                ("grid_l3_a", models.FloatField(blank=True, null=True)),
                ("chargers", models.JSONField(default=dict, help_text="Per charger id: mean current_a per phase, mean setpoint_a, samples.")),
                ("gateway", models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name="rollups", to="fleet.gateway")),
                ("network", models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.CASCADE, related_name="rollups", to="fleet.chargingnetwork")),
            ],
            options={
                "indexes": [models.Index(fields=["network", "ts"], name="telemetry_rollup_network_ts"),
                            models.Index(fields=["gateway", "ts"], name="telemetry_rollup_gateway_ts")],
            },
        ),
        migrations.RunPython(forwards, backwards),
        migrations.RunSQL(VIEW, "DROP VIEW fleet_telemetryhistory"),
        migrations.CreateModel(
            name="TelemetryHistory",
            fields=[
                ("id", models.BigIntegerField(primary_key=True, serialize=False)),
                ("ts", models.DateTimeField()),
                ("resolution_s", models.PositiveIntegerField()),
                ("sample_count", models.PositiveIntegerField()),
                ("mode", models.CharField(max_length=16)),
                ("grid_l1_a", models.FloatField(null=True)),
                ("grid_l2_a", models.FloatField(null=True)),
                ("grid_l3_a", models.FloatField(null=True)),
                ("chargers", models.JSONField(default=dict)),
                ("gateway", models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name="+", to="fleet.gateway")),
                ("network", models.ForeignKey(db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name="+", to="fleet.chargingnetwork")),
            ],
            options={"verbose_name_plural": "telemetry history", "db_table": "fleet_telemetryhistory", "managed": False},
        ),
    ]
