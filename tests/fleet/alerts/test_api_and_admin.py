"""Incidents in the API and the admin: open first with their duration, summaries per organisation, tenants apart."""

import pytest
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from fleet.models import ChannelKind, Delivery, Incident, IncidentKind, IncidentTransition, NotificationChannel
from tests.fleet.alerts.conftest import add_meters, at, evaluate, gateway_seen, meter_lost, meter_reading

pytestmark = pytest.mark.django_db


def api(user) -> APIClient:
    token, _ = Token.objects.get_or_create(user=user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


@pytest.fixture
def incidents(tenant_a, tenant_b):
    """In alpha: a resolved meter incident, then a silent gateway; in bravo: a lost meter."""
    alpha_meters = add_meters(tenant_a, 3)
    gateway_seen(tenant_a.gateway, at(0))
    meter_lost(alpha_meters[1], at(0))
    evaluate(10)
    meter_reading(alpha_meters[1], at(20))
    evaluate(30)
    gateway_seen(tenant_b.gateway, at(500))
    meter_lost(tenant_b.meter, at(400))
    evaluate(500)
    return {
        "resolved": Incident.objects.get(site=tenant_a.site, kind=IncidentKind.METER_LOST),
        "gateway": Incident.objects.get(site=tenant_a.site, kind=IncidentKind.GATEWAY_OFFLINE),
        "bravo": Incident.objects.get(site=tenant_b.site),
    }


# --- API ----------------------------------------------------------------------------------


def test_the_alerts_list_shows_open_incidents_first_with_their_duration(tenant_a, incidents):
    rows = api(tenant_a.viewer).get("/api/v1/alerts/").json()["results"]

    assert [row["id"] for row in rows] == [incidents["gateway"].pk, incidents["resolved"].pk]
    gateway, resolved = rows
    assert gateway["status"] == "open" and gateway["kind"] == "gateway_offline" and gateway["duration_s"] > 0
    assert resolved["status"] == "resolved" and resolved["duration_s"] == 20.0
    assert resolved["resolved_at"] == "2026-11-24T12:00:30Z"


def test_another_organisations_incident_is_not_found(tenant_a, incidents):
    client = api(tenant_a.operator)
    assert client.get(f"/api/v1/alerts/{incidents['bravo'].pk}/").status_code == 404
    assert client.get(f"/api/v1/alerts/{incidents['gateway'].pk}/").status_code == 200


def test_incidents_are_read_only_in_the_api(tenant_a, incidents):
    client = api(tenant_a.operator)
    assert client.post("/api/v1/alerts/", {"kind": "meter_lost"}, format="json").status_code == 405
    assert client.delete(f"/api/v1/alerts/{incidents['gateway'].pk}/").status_code == 405


def test_filtering_by_status_and_refusing_another_organisations_site(tenant_a, tenant_b, incidents):
    client = api(tenant_a.viewer)
    assert [r["id"] for r in client.get("/api/v1/alerts/?status=open").json()["results"]] == [incidents["gateway"].pk]
    assert client.get(f"/api/v1/alerts/?site={tenant_b.site.pk}").status_code == 400


def test_the_summary_counts_sites_with_lost_meters_and_says_since_when(tenant_a, tenant_b, incidents):
    [alpha] = api(tenant_a.viewer).get("/api/v1/alerts/summary/").json()

    assert alpha | {"sites": None} == {
        "organization_id": tenant_a.organization.pk, "organization_name": "Org alpha", "open_incidents": 1,
        "lost_meters": 0, "gateways_offline": 1, "sites_with_lost_meters": 0, "sites_offline": 1,
        "since": "2026-11-24T12:00:00Z", "sites": None,
    }
    assert alpha["sites"] == [
        {"site_id": tenant_a.site.pk, "site_name": "site-alpha", "lost_meters": 0, "gateways_offline": 1,
         "open_incidents": 1, "since": "2026-11-24T12:00:00Z"}
    ]
    [bravo] = api(tenant_b.viewer).get("/api/v1/alerts/summary/").json()
    assert (bravo["sites_with_lost_meters"], bravo["lost_meters"], bravo["since"]) == (1, 1, "2026-11-24T12:06:40Z")


def test_an_organisation_without_open_incidents_is_summarised_with_zeros(tenant_a):
    [alpha] = api(tenant_a.viewer).get("/api/v1/alerts/summary/").json()
    assert (alpha["open_incidents"], alpha["since"], alpha["sites"]) == (0, None, [])


# --- admin --------------------------------------------------------------------------------


def admin_url(model, action: str, *args) -> str:
    return reverse(f"admin:fleet_{model._meta.model_name}_{action}", args=args)


def test_the_admin_lists_open_incidents_first_with_their_duration_and_only_the_users(client, tenant_a, incidents):
    client.force_login(tenant_a.operator)
    page = client.get(admin_url(Incident, "changelist"))

    assert page.status_code == 200
    assert [i.pk for i in page.context["cl"].result_list] == [incidents["gateway"].pk, incidents["resolved"].pk]
    assert "0:00:20" in page.content.decode()  # the resolved incident's duration


def test_incidents_and_deliveries_are_view_only_and_channels_editable_for_operators(client, tenant_a, incidents):
    client.force_login(tenant_a.operator)
    assert client.get(admin_url(Incident, "change", incidents["gateway"].pk)).status_code == 200
    assert client.post(admin_url(Incident, "change", incidents["gateway"].pk), {"detail": "x"}).status_code == 403
    assert client.get(admin_url(Incident, "change", incidents["bravo"].pk)).status_code == 302  # not found: back to the list
    assert client.get(admin_url(Delivery, "add")).status_code == 403

    response = client.post(
        admin_url(NotificationChannel, "add"),
        {"organization": tenant_a.organization.pk, "name": "pager", "kind": ChannelKind.WEBHOOK,
         "webhook_url": "https://hooks.example/fuseguard", "webhook_secret": "s3cret", "is_active": "on"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert NotificationChannel.objects.get(name="pager").organization == tenant_a.organization


def test_transitions_are_listed_view_only_for_the_users_organisations_and_on_their_incident(client, tenant_a, incidents):
    client.force_login(tenant_a.viewer)
    page = client.get(admin_url(IncidentTransition, "changelist"))

    assert page.status_code == 200
    assert sorted((t.incident_id, t.kind) for t in page.context["cl"].result_list) == sorted(  # not bravo's
        [(incidents["resolved"].pk, "opened"), (incidents["resolved"].pk, "resolved"), (incidents["gateway"].pk, "opened")]
    )
    client.force_login(tenant_a.operator)
    assert client.get(admin_url(IncidentTransition, "add")).status_code == 403
    bravo = IncidentTransition.objects.get(incident=incidents["bravo"])
    assert client.get(admin_url(IncidentTransition, "change", bravo.pk)).status_code == 302  # not found: back to the list
    detail = client.get(admin_url(Incident, "change", incidents["resolved"].pk))
    [inline] = [formset for formset in detail.context["inline_admin_formsets"] if formset.opts.model is IncidentTransition]
    assert [form.original.kind for form in inline] == ["opened", "resolved"]


def test_a_channel_cannot_be_added_to_another_organisation(client, tenant_a, tenant_b):
    client.force_login(tenant_a.operator)
    response = client.post(
        admin_url(NotificationChannel, "add"),
        {"organization": tenant_b.organization.pk, "name": "sneaky", "kind": ChannelKind.EMAIL,
         "email_recipients": "x@bravo.example", "is_active": "on"},
    )
    assert response.status_code == 200 and "organization" in response.context["adminform"].form.errors
    assert not NotificationChannel.objects.filter(name="sneaky").exists()
