"""`/metrics`: the fleet's gauges for Prometheus, behind a bearer token, parsed here with prometheus_client's parser."""

import pytest
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from fleet.models import Gateway, NetworkState, TelemetrySample
from fleet.services.alerts_evaluate import alerts_evaluate
from fleet.services.notifications_dispatch import notifications_dispatch
from tests.fleet.alerts.conftest import meter_lost

pytestmark = pytest.mark.django_db

TOKEN = "scrape-token-for-tests"


@pytest.fixture
def metrics_on(settings):
    settings.METRICS_TOKEN = TOKEN


def scrape(client) -> dict[tuple[str, tuple], float]:
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/plain; version=")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
    }


def test_without_a_token_setting_there_is_no_endpoint_and_a_wrong_token_is_refused(client, settings, tenant_a):
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer anything").status_code == 404
    settings.METRICS_TOKEN = TOKEN
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401


def test_the_scrape_counts_gateways_incidents_notifications_and_telemetry_per_organisation(
    client, metrics_on, tenant_a, tenant_b, webhook_channel
):
    now = timezone.now()
    Gateway.objects.filter(pk=tenant_a.gateway.pk).update(last_seen=now)
    Gateway.objects.filter(pk=tenant_b.gateway.pk).update(last_seen=now - timezone.timedelta(seconds=600))
    meter_lost(tenant_a.meter, now)
    alerts_evaluate(now=now)
    notifications_dispatch(now=now)  # group_wait 0 in these tests: one pending delivery
    TelemetrySample.objects.bulk_create([
        TelemetrySample(gateway=tenant_a.gateway, seq=n, ts=now - timezone.timedelta(seconds=n), network=tenant_a.network,
                        mode="normal")
        for n in range(1, 31)
    ])
    NetworkState.objects.update_or_create(network=tenant_a.network, defaults={"sample_ts": now - timezone.timedelta(seconds=4)})

    metrics = scrape(client)

    def value(name, **labels):
        return metrics[(name, tuple(sorted(labels.items())))]

    assert value("fuseguard_gateways", organization="alpha", state="online") == 1
    assert value("fuseguard_gateways", organization="bravo", state="silent") == 1
    assert value("fuseguard_meters_lost", organization="alpha") == 1
    assert value("fuseguard_incidents_open", organization="alpha", kind="meter_lost", severity="warning") == 1
    assert value("fuseguard_incidents_open", organization="bravo", kind="gateway_offline", severity="critical") == 1
    assert value("fuseguard_incidents_open", organization="alpha", kind="connectivity_outage", severity="critical") == 0
    assert value("fuseguard_notifications", organization="alpha", status="pending") == 1
    assert value("fuseguard_notifications", organization="alpha", status="sent") == 0
    assert value("fuseguard_telemetry_ingest_samples_per_second", organization="alpha") == pytest.approx(30 / 60)
    assert 4 <= value("fuseguard_telemetry_lag_seconds", organization="alpha") < 30
    assert value("fuseguard_transitions_unprocessed") == 0


def test_organisations_beyond_the_label_limit_are_summed_under_other(client, metrics_on, settings, tenant_a, tenant_b):
    settings.METRICS_MAX_ORGANIZATIONS = 1
    Gateway.objects.update(last_seen=timezone.now())

    metrics = scrape(client)

    organizations = {dict(labels).get("organization") for name, labels in metrics if name == "fuseguard_gateways"}
    assert organizations == {"alpha", "_other"}
    assert metrics[("fuseguard_gateways", (("organization", "_other"), ("state", "online")))] == 1
