"""The site chart's long ranges: bucket means of the site's own samples, one query however many chargers."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.fleet.dashboard.conftest import record_samples

pytestmark = pytest.mark.django_db


def history(client, site, range_key):
    return client.get(reverse("dashboard:site-history", args=[site.pk]), {"range": range_key})


def test_a_day_comes_as_one_minute_means_in_the_live_layout(as_user, tenant_a, tenant_b):
    end = timezone.now().replace(second=59, microsecond=0) - timedelta(minutes=1)
    record_samples(tenant_a, 120, end=end, fallback_from=90)  # two whole minutes, the last half of the second on fallback
    record_samples(tenant_b, 60, end=end)
    response = history(as_user(tenant_a.viewer), tenant_a.site, "24h")
    assert response.status_code == 200
    data = response.json()
    assert (data["range"], data["resolution_s"], data["window_s"]) == ("24h", 60, 86400)
    [network] = data["networks"].values()
    assert [t % 60_000 for t in network["t"]] == [0, 0]
    assert network["fallback"] == [False, True]  # the second minute ran half of its samples on fallback: marked
    key = str(tenant_a.charger.pk)
    assert len(network["chargers"][key]["setpoint_a"]) == 2 and network["chargers"][key]["current_a"][0] is not None
    first_minute_l1 = [18.0 + i % 7 for i in range(60)]
    assert network["grid_a"][0][0] == pytest.approx(sum(first_minute_l1) / 60, abs=0.01)
    assert tenant_b.network.pk not in map(int, data["networks"])


def test_the_long_range_costs_the_same_queries_with_more_chargers(as_user, tenant_a):
    client = as_user(tenant_a.viewer)
    with CaptureQueriesContext(connection) as one:
        assert history(client, tenant_a.site, "7d").status_code == 200
    for i in range(3):
        tenant_a.network.chargers.create(name=f"more-{i}", driver="simulated")
    with CaptureQueriesContext(connection) as more:
        assert history(client, tenant_a.site, "7d").status_code == 200
    assert len(more) == len(one)


@pytest.mark.parametrize("range_key", ["", "10m", "1y"])
def test_only_the_long_ranges_are_served_here(as_user, tenant_a, range_key):
    response = history(as_user(tenant_a.viewer), tenant_a.site, range_key)
    assert response.status_code == 400 and "range" in response.json()


def test_another_organisations_site_is_not_found(as_user, tenant_a, tenant_b):
    assert history(as_user(tenant_a.viewer), tenant_b.site, "24h").status_code == 404
