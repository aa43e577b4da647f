"""Fixtures for capacity plans: telemetry a gateway would have written, and tasks run in-process."""

from datetime import UTC, datetime, timedelta

import pytest

from fleet.celery import app as celery_app
from fleet.models import TelemetrySample

DAY_START = datetime(2026, 11, 2, 0, 0, tzinfo=UTC)


def record_days(tenant, days: int = 1, *, every_s: int = 60, start=DAY_START, first_seq: int = 1, evening_peak_a: float = 0.0):
    """Samples of the tenant's network every `every_s` for `days`: a house of 6-9 A, the charger drawing 10 A from 18:00 to 22:00.

    `evening_peak_a` adds that much house load on L1 from 18:00 to 21:00 (a cooker and a heat pump).
    """
    key = str(tenant.charger.pk)
    rows = []
    for i in range(days * 86_400 // every_s):
        ts = start + timedelta(seconds=i * every_s)
        hour = ts.hour
        house = [6.0 + (i % 4), 7.0, 8.0]
        if 18 <= hour < 21:
            house[0] += evening_peak_a
        charging = 10.0 if 18 <= hour < 22 else 0.0
        rows.append(TelemetrySample(
            gateway=tenant.gateway, network=tenant.network, seq=first_seq + i, ts=ts, mode="normal",
            grid_l1_a=house[0] + charging, grid_l2_a=house[1] + charging, grid_l3_a=house[2] + charging,
            chargers={key: {"current_a": [charging] * 3, "setpoint_a": charging or 16.0, "reason": "vehicle_limit", "available": True}},
        ))
    TelemetrySample.objects.bulk_create(rows, batch_size=5000)
    return rows


@pytest.fixture
def eager_tasks():
    """Tasks run in the calling process, as settings choose when there is no broker (the embedded demo)."""
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = False
