"""Fixtures for the dashboard: a tenant whose site reports live, and a browser-ready user."""

from datetime import timedelta

import pytest
from django.utils import timezone

from fleet.models import ChargerState, MeterState, NetworkState, TelemetrySample


def record_samples(tenant, count: int, *, end=None, fallback_from: int | None = None, first_seq: int = 1):
    """`count` one-second samples of the tenant's network ending at `end` (now), as the gateway would send them.

    The grid rises and falls a little so a chart has something to show; from
    index `fallback_from` on, the network runs on its fallback without grid values.
    """
    end = end or timezone.now()
    key = str(tenant.charger.pk)
    samples = []
    for i in range(count):
        fallback = fallback_from is not None and i >= fallback_from
        grid = (None, None, None) if fallback else (18.0 + i % 7, 14.0 + i % 5, 12.0 + i % 3)
        setpoint = 6.0 if fallback else 12.0 + i % 4
        samples.append(
            TelemetrySample(
                gateway=tenant.gateway,
                network=tenant.network,
                seq=first_seq + i,
                ts=end - timedelta(seconds=count - 1 - i),
                mode="fallback" if fallback else "normal",
                grid_l1_a=grid[0],
                grid_l2_a=grid[1],
                grid_l3_a=grid[2],
                chargers={key: {"current_a": [setpoint - 0.4, setpoint - 0.3, setpoint - 0.5], "setpoint_a": setpoint,
                                "reason": "fallback" if fallback else "limited_by_phase_L1", "available": True}},
            )
        )
    TelemetrySample.objects.bulk_create(samples)
    return samples


def report_latest_state(tenant, *, mode="normal", meter_available=True, gateway_seen_s_ago=5, reason="limited_by_phase_L1"):
    """Set the latest-state rows and the gateway's last contact as ingestion would leave them."""
    now = timezone.now()
    tenant.gateway.last_seen = now - timedelta(seconds=gateway_seen_s_ago)
    tenant.gateway.save(update_fields=["last_seen"])
    NetworkState.objects.update_or_create(
        network=tenant.network, defaults={"mode": mode, "grid_current_a": [20.0, 15.5, 12.0], "sample_ts": now}
    )
    MeterState.objects.update_or_create(
        meter=tenant.meter,
        defaults={"available": meter_available, "last_reading_at": now, "lost_since": None if meter_available else now},
    )
    ChargerState.objects.update_or_create(
        charger=tenant.charger,
        defaults={"available": True, "setpoint_a": 13.0, "current_a": [12.6, 12.7, 12.5], "reason": reason, "sample_ts": now},
    )


@pytest.fixture
def as_user(client):
    """Sign the test client in as the given user."""

    def sign_in(user):
        client.force_login(user)
        return client

    return sign_in
