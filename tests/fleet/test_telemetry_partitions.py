"""Samples live in daily partitions on PostgreSQL: made ahead and on demand, each (gateway, seq) still stored once."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.utils import timezone

from fleet.models import TelemetrySample
from fleet.models.partitioning import partition_drop, partitions_list
from fleet.models.telemetry import SAMPLE_PARTITIONS
from fleet.services.telemetry_ingest import telemetry_ingest
from fleet.services.telemetry_partitions import telemetry_partitions_create_ahead
from gateways.protocol import parse_batch

pytestmark = pytest.mark.django_db


def midnight() -> datetime:
    """The last UTC midnight: a batch around it spans yesterday's and today's partitions."""
    return datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def item(tenant, seq: int, ts: datetime, grid_l1_a: float = 10.0) -> dict:
    return {"seq": seq, "kind": "sample", "ts": ts.isoformat(), "network": str(tenant.network.pk), "mode": "normal",
            "grid_current_a": [grid_l1_a, 5.0, 2.0], "headroom_a": [5.0, 5.0, 5.0],
            "chargers": {str(tenant.charger.pk): {"current_a": [6.0, 6.0, 6.0], "setpoint_a": 6.0, "reason": "at_max",
                                                  "available": True}}}


def ingest(tenant, items: list[dict]) -> int:
    """Store a batch as the sync API does; returns the acknowledged mark."""
    batch = parse_batch({"gateway": tenant.gateway.name, "items": items}, now=timezone.now(),
                        networks=[str(tenant.network.pk)])
    return telemetry_ingest(tenant.gateway, batch).acked_seq


def rows_per_partition() -> dict[str, list[int]]:
    """The seqs stored in each partition."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT tableoid::regclass::text, array_agg(seq ORDER BY seq) FROM fleet_telemetrysample GROUP BY 1")
        return dict(cursor.fetchall())


# --- partitions exist before the data ------------------------------------------------


def test_the_periodic_task_creates_the_partitions_from_yesterday_to_three_days_ahead():
    now = datetime(2031, 5, 30, 23, 30, tzinfo=UTC)  # far from any day the suite writes
    created = telemetry_partitions_create_ahead(now)
    expected = [now.date() + timedelta(days=n) for n in range(-1, 4)]
    assert created == expected  # across the month's end: 29 May to 2 June
    assert set(expected) <= set(partitions_list(SAMPLE_PARTITIONS))
    assert telemetry_partitions_create_ahead(now) == []  # a second run finds them all


def test_a_sample_for_a_day_without_a_partition_is_stored_in_a_new_one(tenant_a):
    day = (midnight() - timedelta(days=20)).date()
    partition_drop(SAMPLE_PARTITIONS, day)
    assert day not in partitions_list(SAMPLE_PARTITIONS)
    assert ingest(tenant_a, [item(tenant_a, 1, midnight() - timedelta(days=20) + timedelta(hours=6))]) == 1
    assert rows_per_partition() == {SAMPLE_PARTITIONS.name(day): [1]}


# --- exactly once across a partition boundary ----------------------------------------


def test_a_batch_spanning_midnight_sent_twice_is_stored_once_in_the_two_days(tenant_a):
    items = [item(tenant_a, seq, midnight() + timedelta(seconds=seq - 4)) for seq in range(1, 7)]  # 23:59:57 .. 00:00:02
    assert ingest(tenant_a, items) == 6
    assert ingest(tenant_a, items) == 6
    yesterday, today = (SAMPLE_PARTITIONS.name(midnight().date() - timedelta(days=1)), SAMPLE_PARTITIONS.name(midnight().date()))
    assert rows_per_partition() == {yesterday: [1, 2, 3], today: [4, 5, 6]}


def test_out_of_order_batches_across_midnight_store_each_seq_once_and_the_mark_waits_for_the_hole(tenant_a):
    items = [item(tenant_a, seq, midnight() + timedelta(seconds=seq - 4)) for seq in range(1, 9)]
    assert ingest(tenant_a, items[4:6]) == 0  # seqs 5, 6 (after midnight) first: the mark waits for 1..4
    assert ingest(tenant_a, items[0:2] + items[4:6]) == 2  # 1, 2 and a resend of 5, 6 above the mark
    assert ingest(tenant_a, items) == 8
    assert sorted(TelemetrySample.objects.values_list("seq", flat=True)) == [1, 2, 3, 4, 5, 6, 7, 8]


def test_a_resent_seq_with_another_time_is_not_stored_a_second_time(tenant_a):
    """The database's unique key holds ts; the ingest's look-up by (gateway, seq) is what refuses this one."""
    first = item(tenant_a, 5, midnight() + timedelta(seconds=1))
    assert ingest(tenant_a, [first]) == 0
    moved = item(tenant_a, 5, midnight() - timedelta(hours=3))  # same seq, yesterday's partition
    assert ingest(tenant_a, [item(tenant_a, seq, midnight() - timedelta(hours=4)) for seq in (1, 2, 3, 4)] + [moved]) == 5
    assert list(TelemetrySample.objects.filter(seq=5).values_list("ts", flat=True)) == [midnight() + timedelta(seconds=1)]
