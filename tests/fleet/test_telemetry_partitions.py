"""Samples live in daily partitions on PostgreSQL: made ahead and on demand, each (gateway, seq) still stored once,
dropped whole by the retention, and read only where a query's time range needs them."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from fleet.dashboard.history import site_history
from fleet.dashboard.live import site_samples
from fleet.models import TelemetryHistory, TelemetrySample
from fleet.models.partitioning import partition_drop, partitions_ensure, partitions_list
from fleet.models.telemetry_partitions import SAMPLE_PARTITIONS
from fleet.services.telemetry_ingest import telemetry_ingest
from fleet.services.telemetry_partitions import telemetry_partitions_create_ahead
from fleet.services.telemetry_retention import telemetry_apply_retention
from gateways.protocol import parse_batch_records
from tests.fleet.api.conftest import token_client

pytestmark = pytest.mark.django_db


def midnight() -> datetime:
    """The last UTC midnight: a batch around it spans yesterday's and today's partitions."""
    return datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def item(tenant, seq: int, ts: datetime, grid_l1_a: float = 10.0) -> dict:
    return {"seq": seq, "kind": "sample", "ts": ts.isoformat(), "network": str(tenant.network.pk), "mode": "normal",
            "grid_current_a": [grid_l1_a, 5.0, 2.0], "headroom_a": [5.0, 5.0, 5.0],
            "chargers": {str(tenant.charger.pk): {"current_a": [6.0, 6.0, 6.0], "setpoint_a": 6.0, "reason": "at_max",
                                                  "available": True}}}


def event(tenant, seq: int, ts: datetime) -> dict:
    return {"seq": seq, "kind": "event", "ts": ts.isoformat(), "network": str(tenant.network.pk), "type": "meter_lost",
            "subject": "meter", "detail": "timed out"}


def ingest(tenant, items: list[dict], now: datetime | None = None) -> int:
    """Store a batch as the sync API does (at the server time `now`); returns the acknowledged mark."""
    batch = parse_batch_records({"gateway": tenant.gateway.name, "items": items}, now=now or timezone.now(),
                                networks=[str(tenant.network.pk)])
    return telemetry_ingest(tenant.gateway, batch).acked_seq


def rows_per_partition(table: str = "fleet_telemetrysample") -> dict[str, list[int]]:
    """The seqs stored in each partition."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT tableoid::regclass::text, array_agg(seq ORDER BY seq) FROM {table} GROUP BY 1")
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


def test_events_across_a_month_boundary_sent_out_of_order_and_again_are_stored_once(tenant_a):
    boundary = datetime(2026, 11, 1, tzinfo=UTC)  # events are partitioned by month
    items = [event(tenant_a, seq, boundary + timedelta(seconds=seq - 3)) for seq in (1, 2)] + [
        item(tenant_a, 3, boundary), event(tenant_a, 4, boundary + timedelta(seconds=1))]
    server_time = boundary + timedelta(hours=1)
    assert ingest(tenant_a, items[3:], now=server_time) == 0
    assert ingest(tenant_a, items, now=server_time) == 4
    assert ingest(tenant_a, items, now=server_time) == 4
    assert rows_per_partition("fleet_telemetryevent") == {"fleet_telemetryevent_p202610": [1, 2],
                                                          "fleet_telemetryevent_p202611": [4]}
    assert rows_per_partition() == {"fleet_telemetrysample_p20261101": [3]}


# --- retention drops whole days ------------------------------------------------------


def test_retention_drops_a_raw_day_whole_without_deleting_rows_and_its_rollups_stay_readable(tenant_a, settings):
    settings.TELEMETRY_RAW_RETENTION_DAYS = 7
    noon = midnight() - timedelta(days=9) + timedelta(hours=12)
    ingest(tenant_a, [item(tenant_a, 1, noon, 4.0), item(tenant_a, 2, noon + timedelta(seconds=1), 6.0),
                      item(tenant_a, 3, noon + timedelta(minutes=6), 9.0)])
    day = SAMPLE_PARTITIONS.start_of(noon)
    with CaptureQueriesContext(connection) as captured:
        result = telemetry_apply_retention()
    assert SAMPLE_PARTITIONS.name(day) in result.partitions_dropped
    assert day not in partitions_list(SAMPLE_PARTITIONS)
    assert not [q["sql"] for q in captured.captured_queries if q["sql"].startswith('DELETE FROM "fleet_telemetrys')]
    history = TelemetryHistory.objects.filter(network=tenant_a.network, ts__gte=noon - timedelta(hours=1),
                                              ts__lt=noon + timedelta(hours=1))
    assert list(history.order_by("ts").values_list("resolution_s", "sample_count", "grid_l1_a")) == [
        (300, 2, 5.0), (300, 1, 9.0)
    ]


def test_seqs_folded_away_above_the_mark_count_as_arrived_and_are_not_stored_again(tenant_a, settings):
    settings.TELEMETRY_RAW_RETENTION_DAYS = 7
    noon = midnight() - timedelta(days=9) + timedelta(hours=12)
    items = [item(tenant_a, seq, noon + timedelta(seconds=seq)) for seq in (1, 2, 3, 4)]
    assert ingest(tenant_a, items[2:]) == 0  # 3 and 4 out of order: the mark waits for 1 and 2
    telemetry_apply_retention()  # their day is folded into rollups and dropped
    assert ingest(tenant_a, items) == 4  # the hole filled: 3 and 4 are known to have arrived
    assert sorted(TelemetrySample.objects.values_list("seq", flat=True)) == [1, 2]  # 3 and 4 live on in the rollup only


# --- queries read only the partitions in their range ---------------------------------


def sample_partitions_read(queries: list[dict]) -> set[str]:
    """The sample partitions PostgreSQL's plans of these queries read (EXPLAIN on the test's own connection)."""
    names: set[str] = set()

    def walk(node: dict) -> None:
        if node.get("Relation Name", "").startswith(f"{SAMPLE_PARTITIONS.table}_p"):
            names.add(node["Relation Name"])
        for child in node.get("Plans", ()):
            walk(child)

    with connection.cursor() as cursor:
        for query in queries:
            cursor.execute("EXPLAIN (FORMAT JSON) " + query["sql"])
            walk(cursor.fetchone()[0][0]["Plan"])
    return names


def telemetry_queries(captured: CaptureQueriesContext) -> list[dict]:
    return [q for q in captured.captured_queries if "fleet_telemetrysample" in q["sql"] or "fleet_telemetryhistory" in q["sql"]]


def day_names(first: datetime, last: datetime) -> set[str]:
    return {SAMPLE_PARTITIONS.name(day) for day in SAMPLE_PARTITIONS.starts_between(first, last)}


@pytest.fixture
def two_weeks_of_partitions(tenant_a):
    """Day partitions from twelve days back to three ahead, and a sample today, as a running server has them."""
    now = timezone.now()
    partitions_ensure(SAMPLE_PARTITIONS, SAMPLE_PARTITIONS.starts_between(now - timedelta(days=12), now + timedelta(days=3)))
    TelemetrySample.objects.create(gateway=tenant_a.gateway, network=tenant_a.network, seq=1, ts=now - timedelta(seconds=5),
                                   mode="normal", grid_l1_a=1.0, grid_l2_a=1.0, grid_l3_a=1.0)
    return now


def test_the_live_chart_reads_only_today_and_the_day_the_server_accepts_ahead(tenant_a, two_weeks_of_partitions):
    now = two_weeks_of_partitions
    with CaptureQueriesContext(connection) as captured:
        assert site_samples(tenant_a.site, now)["last_id"] is not None
    read = sample_partitions_read(telemetry_queries(captured))
    assert read and read <= day_names(now - timedelta(minutes=10), now + timedelta(days=1))


def test_the_site_history_of_a_week_reads_only_that_weeks_days(tenant_a, two_weeks_of_partitions):
    now = two_weeks_of_partitions
    with CaptureQueriesContext(connection) as captured:
        site_history(tenant_a.site, now, "7d")
    assert sample_partitions_read(telemetry_queries(captured)) == day_names(now - timedelta(days=7), now)


def test_the_telemetry_api_reads_only_the_days_asked_for(tenant_a, two_weeks_of_partitions):
    first = midnight() - timedelta(days=5)
    with CaptureQueriesContext(connection) as captured:
        response = token_client(tenant_a.operator).get(
            "/api/v1/telemetry/", {"from": first.isoformat(), "to": (first + timedelta(days=2)).isoformat(), "resolution_s": 3600}
        )
    assert response.status_code == 200
    assert sample_partitions_read(telemetry_queries(captured)) == day_names(first, first + timedelta(days=1))
