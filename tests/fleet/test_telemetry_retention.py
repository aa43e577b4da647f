"""Telemetry retention: old raw samples become averages per bucket; very old rows are deleted."""

from datetime import datetime, timedelta, timezone

import pytest

from fleet.models import TelemetryEvent, TelemetrySample
from fleet.services.telemetry_retention import telemetry_apply_retention, telemetry_downsample

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 1, 12, 0, 0, tzinfo=timezone.utc)


def raw(tenant, seq: int, ts: datetime, grid_l1_a: float, mode="normal", setpoint_a=10.0) -> TelemetrySample:
    return TelemetrySample.objects.create(
        gateway=tenant.gateway, network=tenant.network, seq=seq, ts=ts, mode=mode,
        grid_l1_a=grid_l1_a, grid_l2_a=1.0, grid_l3_a=None,
        chargers={"7": {"current_a": [setpoint_a, setpoint_a, 0.0], "setpoint_a": setpoint_a, "reason": "at_max",
                        "available": True}},
    )


def test_raw_samples_fold_into_one_average_row_per_bucket(tenant_a):
    for second in range(0, 600, 60):  # ten samples over two 5-minute buckets
        raw(tenant_a, seq=second + 1, ts=T0 + timedelta(seconds=second), grid_l1_a=second / 60,
            mode="fallback" if second == 420 else "normal", setpoint_a=6.0 + second / 60)
    folded, written = telemetry_downsample(T0 + timedelta(days=1), resolution_s=300)
    assert (folded, written) == (10, 2)
    first, second = TelemetrySample.objects.order_by("ts")
    assert (first.ts, first.resolution_s, first.seq) == (T0, 300, 1)
    assert first.grid_l1_a == pytest.approx(2.0)  # mean of 0..4
    assert first.grid_l3_a is None
    assert first.chargers["7"]["setpoint_a"] == pytest.approx(8.0)
    assert first.mode == "normal" and second.mode == "fallback"  # a fallback minute marks its bucket


def test_samples_newer_than_the_cutoff_stay_raw(tenant_a):
    raw(tenant_a, seq=1, ts=T0, grid_l1_a=5.0)
    raw(tenant_a, seq=2, ts=T0 + timedelta(days=2), grid_l1_a=5.0)
    telemetry_downsample(T0 + timedelta(days=1), resolution_s=300)
    assert list(TelemetrySample.objects.order_by("ts").values_list("resolution_s", flat=True)) == [300, 0]


def test_the_daily_job_deletes_rows_and_events_past_the_retention(tenant_a, settings):
    settings.TELEMETRY_RAW_RETENTION_DAYS, settings.TELEMETRY_RETENTION_DAYS = 7, 30
    now = T0 + timedelta(days=40)
    raw(tenant_a, seq=1, ts=T0, grid_l1_a=1.0)  # 40 days old: gone
    raw(tenant_a, seq=2, ts=now - timedelta(days=10), grid_l1_a=2.0)  # 10 days: averaged
    raw(tenant_a, seq=3, ts=now - timedelta(days=1), grid_l1_a=3.0)  # 1 day: raw
    TelemetryEvent.objects.create(gateway=tenant_a.gateway, seq=4, ts=T0, type="meter_lost")
    result = telemetry_apply_retention(now)
    assert result.raw_folded == 2 and result.deleted == 2
    assert sorted(TelemetrySample.objects.values_list("seq", "resolution_s")) == [(2, 300), (3, 0)]
    assert not TelemetryEvent.objects.exists()
