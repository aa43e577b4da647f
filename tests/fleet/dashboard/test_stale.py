"""Readings older than their freshness limit, or from a lost meter, are marked stale with their age."""

from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from fleet.dashboard.status import STALE_AFTER_S, freshness_limit_s, reading_is_stale
from fleet.models import ChargerState, MeterState
from tests.fleet.dashboard.conftest import report_latest_state

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "age_s, lost, stale",
    [
        # fresh readings
        (0, False, False),
        (STALE_AFTER_S, False, False),
        # older than the limit
        (STALE_AFTER_S + 1, False, True),
        # a lost meter's last value is stale however young
        (1, True, True),
    ],
)
def test_the_freshness_rule(age_s, lost, stale):
    assert reading_is_stale(NOW - timedelta(seconds=age_s), NOW, STALE_AFTER_S, lost=lost) is stale


def test_no_reading_is_not_stale_but_absent_and_slow_gateways_get_three_polls():
    assert reading_is_stale(None, NOW, STALE_AFTER_S) is False
    assert freshness_limit_s([]) == STALE_AFTER_S
    assert freshness_limit_s([1.0, 30.0]) == 90.0


@pytest.mark.django_db
def test_grid_now_of_a_lost_meter_and_an_old_charger_reading_are_marked_with_their_age(as_user, tenant_a):
    report_latest_state(tenant_a, mode="fallback", meter_available=False)
    ChargerState.objects.filter(charger=tenant_a.charger).update(sample_ts=timezone.now() - timedelta(days=365))
    MeterState.objects.filter(meter=tenant_a.meter).update(last_reading_at=MeterState.objects.get().last_reading_at - timedelta(seconds=40))
    client = as_user(tenant_a.viewer)
    page = client.get(reverse("dashboard:site", args=[tenant_a.site.pk])).content.decode()
    assert 'data-field="grid-now" class="stale" title="Last reading, 40 s old"' in page
    assert f'<tr data-charger-id="{tenant_a.charger.pk}" class="stale"' in page
    [network] = client.get(reverse("dashboard:site-live", args=[tenant_a.site.pk])).json()["networks"]
    assert (network["grid_stale"], network["grid_age"]) == (True, "40 s")
    assert network["chargers"][0]["stale"] is True and network["chargers"][0]["age"] == "365 d"


@pytest.mark.django_db
def test_fresh_readings_are_not_marked(as_user, tenant_a):
    report_latest_state(tenant_a)
    [network] = as_user(tenant_a.viewer).get(reverse("dashboard:site-live", args=[tenant_a.site.pk])).json()["networks"]
    assert network["grid_stale"] is False and network["chargers"][0]["stale"] is False
