"""Migration 0013 moves existing telemetry into partitions: same rows, same ids, folded rows into the rollup table."""

from datetime import timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

BEFORE, AFTER = ("fleet", "0012_dashboard"), ("fleet", "0013_telemetry_partitions")


def partitions_of(table: str) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                       "WHERE i.inhparent = %s::regclass ORDER BY 1", [table])
        return [row[0] for row in cursor.fetchall()]


@pytest.mark.django_db(transaction=True)
def test_existing_samples_events_and_folded_rows_move_into_partitions_with_their_ids():
    executor = MigrationExecutor(connection)
    executor.migrate([BEFORE])
    try:
        apps = executor.loader.project_state([BEFORE]).apps
        organization = apps.get_model("fleet", "Organization").objects.create(name="Up", slug="up")
        site = apps.get_model("fleet", "Site").objects.create(organization=organization, name="s")
        gateway = apps.get_model("fleet", "Gateway").objects.create(site=site, name="g")
        network = apps.get_model("fleet", "ChargingNetwork").objects.create(site=site, name="n", max_current_per_phase_a=32)
        Sample = apps.get_model("fleet", "TelemetrySample")
        old = timezone.now().replace(hour=12, minute=0, second=0, microsecond=0) - timedelta(days=40)
        Sample.objects.create(gateway=gateway, network=network, seq=1, ts=old, mode="fallback", grid_l1_a=7.5,
                              chargers={"9": {"current_a": [6.0, 6.0, 0.0], "setpoint_a": 6.0, "samples": 300}},
                              resolution_s=300)  # a row the old retention had folded into the samples table
        raw = [Sample.objects.create(gateway=gateway, network=network, seq=seq, ts=old + timedelta(days=35, seconds=seq),
                                     mode="normal", chargers={}) for seq in (2, 3)]
        event = apps.get_model("fleet", "TelemetryEvent").objects.create(gateway=gateway, seq=4, ts=old, type="meter_lost")

        executor = MigrationExecutor(connection)
        executor.migrate([AFTER])
        apps = executor.loader.project_state([AFTER]).apps
        day = old + timedelta(days=35)
        assert f"fleet_telemetrysample_p{day:%Y%m%d}" in partitions_of("fleet_telemetrysample")
        assert list(apps.get_model("fleet", "TelemetrySample").objects.order_by("seq").values_list("id", "seq")) == [
            (raw[0].pk, 2), (raw[1].pk, 3)
        ]
        [rollup] = apps.get_model("fleet", "TelemetryRollup").objects.all()
        assert (rollup.ts, rollup.first_seq, rollup.sample_count, rollup.mode, rollup.grid_l1_a) == (old, 1, 300, "fallback", 7.5)
        assert f"fleet_telemetryevent_p{old:%Y%m}" in partitions_of("fleet_telemetryevent")
        assert list(apps.get_model("fleet", "TelemetryEvent").objects.values_list("id", flat=True)) == [event.pk]
        history = apps.get_model("fleet", "TelemetryHistory").objects.order_by("ts")
        assert list(history.values_list("resolution_s", "sample_count")) == [(300, 300), (0, 1), (0, 1)]
        new_sample = apps.get_model("fleet", "TelemetrySample").objects.create(
            gateway_id=gateway.pk, seq=5, ts=day, mode="normal", chargers={})
        assert new_sample.pk > max(r.pk for r in raw)  # the id sequence carried on
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())
