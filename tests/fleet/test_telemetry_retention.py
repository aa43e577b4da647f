"""Telemetry retention: raw days past the raw retention become 5-minute rollups; very old rollups and events go."""

from datetime import UTC, datetime, timedelta

import pytest

from fleet.models import TelemetryEvent, TelemetryHistory, TelemetryRollup, TelemetrySample
from fleet.services.telemetry_retention import telemetry_apply_retention
from fleet.services.telemetry_rollup import telemetry_rollup_rows

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 1, 12, 0, 0, tzinfo=UTC)


def raw(tenant, seq: int, ts: datetime, grid_l1_a: float, mode="normal", setpoint_a=10.0) -> TelemetrySample:
    return TelemetrySample.objects.create(
        gateway=tenant.gateway, network=tenant.network, seq=seq, ts=ts, mode=mode,
        grid_l1_a=grid_l1_a, grid_l2_a=1.0, grid_l3_a=None,
        chargers={"7": {"current_a": [setpoint_a, setpoint_a, 0.0], "setpoint_a": setpoint_a, "reason": "at_max",
                        "available": True}},
    )


def ten_samples_over_two_buckets(tenant) -> list[TelemetrySample]:
    return [
        raw(tenant, seq=second + 1, ts=T0 + timedelta(seconds=second), grid_l1_a=second / 60,
            mode="fallback" if second == 420 else "normal", setpoint_a=6.0 + second / 60)
        for second in range(0, 600, 60)
    ]


def assert_two_buckets(first: TelemetryRollup, second: TelemetryRollup) -> None:
    assert (first.ts, first.resolution_s, first.first_seq, first.sample_count) == (T0, 300, 1, 5)
    assert first.grid_l1_a == pytest.approx(2.0)  # mean of 0..4
    assert first.grid_l3_a is None
    assert first.chargers["7"]["setpoint_a"] == pytest.approx(8.0)
    assert first.chargers["7"]["current_a"] == pytest.approx([8.0, 8.0, 0.0])
    assert first.mode == "normal" and second.mode == "fallback"  # a fallback minute marks its bucket


def test_a_raw_day_past_the_raw_retention_becomes_one_rollup_per_bucket(tenant_a, settings):
    settings.TELEMETRY_RAW_RETENTION_DAYS = 7
    ten_samples_over_two_buckets(tenant_a)
    result = telemetry_apply_retention(T0 + timedelta(days=8))
    assert (result.raw_folded, result.rows_written) == (10, 2)
    assert "fleet_telemetrysample_p20261101" in result.partitions_dropped
    assert_two_buckets(*TelemetryRollup.objects.order_by("ts"))
    assert not TelemetrySample.objects.exists()


def test_the_python_fold_of_the_embedded_demo_gives_the_same_rollups(tenant_a):
    assert_two_buckets(*telemetry_rollup_rows(ten_samples_over_two_buckets(tenant_a), 300))


def test_days_inside_the_raw_retention_stay_raw_and_history_reads_both(tenant_a, settings):
    settings.TELEMETRY_RAW_RETENTION_DAYS = 7
    raw(tenant_a, seq=1, ts=T0, grid_l1_a=5.0)
    raw(tenant_a, seq=2, ts=T0 + timedelta(days=2), grid_l1_a=5.0)
    telemetry_apply_retention(T0 + timedelta(days=8))
    history = TelemetryHistory.objects.filter(network=tenant_a.network, ts__gte=T0 - timedelta(days=1))
    assert list(history.order_by("ts").values_list("resolution_s", "sample_count")) == [(300, 1), (0, 1)]


def test_rollups_leave_by_whole_months_past_the_retention_and_events_go(tenant_a, settings):
    settings.TELEMETRY_RAW_RETENTION_DAYS, settings.TELEMETRY_RETENTION_DAYS = 7, 30
    raw(tenant_a, seq=1, ts=T0 - timedelta(days=31), grid_l1_a=1.0)  # 1 October: its month is past on 11 December
    raw(tenant_a, seq=2, ts=T0, grid_l1_a=2.0)  # 1 November: its month still holds days inside the retention
    TelemetryEvent.objects.create(gateway=tenant_a.gateway, seq=3, ts=T0 - timedelta(days=31), type="meter_lost")
    result = telemetry_apply_retention(T0 + timedelta(days=40))
    assert {"fleet_telemetryrollup_p202610", "fleet_telemetryevent_p202610"} <= set(result.partitions_dropped)
    assert list(TelemetryRollup.objects.values_list("first_seq", flat=True)) == [2]
    assert not TelemetryEvent.objects.exists()
