"""The incidents page: open and recent incidents of one's own organisations, filtered, sorted, live, acknowledged in place."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from fleet.dashboard.incidents import RECENT_DAYS
from fleet.models import Incident, IncidentKind, IncidentStatus, Site

pytestmark = pytest.mark.django_db

LIVE = "dashboard:incidents-live"


def make_incident(tenant, *, kind=IncidentKind.METER_LOST, minutes_ago=10, resolved_minutes_ago=None, site=None) -> Incident:
    now = timezone.now()
    started = now - timedelta(minutes=minutes_ago)
    subject = {"meter": tenant.meter} if kind == IncidentKind.METER_LOST else {"gateway": site.gateways.first() if site else tenant.gateway}
    resolved = None if resolved_minutes_ago is None else now - timedelta(minutes=resolved_minutes_ago)
    return Incident.objects.create(
        organization=tenant.organization, site=site or tenant.site, kind=kind, started_at=started, opened_at=started,
        last_opened_at=started, status=IncidentStatus.RESOLVED if resolved else IncidentStatus.OPEN, resolved_at=resolved,
        **subject,
    )


def ids(client, **params) -> list[int]:
    response = client.get(reverse(LIVE), params)
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["incidents"]]


def test_open_and_recently_resolved_incidents_of_ones_own_organisations_open_first(as_user, tenant_a, tenant_b):
    old_open = make_incident(tenant_a, kind=IncidentKind.GATEWAY_OFFLINE, minutes_ago=300)
    recent = make_incident(tenant_a, minutes_ago=60, resolved_minutes_ago=30)
    make_incident(tenant_a, minutes_ago=RECENT_DAYS * 1440 + 100, resolved_minutes_ago=RECENT_DAYS * 1440 + 10)
    make_incident(tenant_b)
    client = as_user(tenant_a.viewer)
    assert ids(client) == [old_open.pk, recent.pk]
    page = client.get(reverse("dashboard:incidents")).content.decode()
    assert "gateway gw-alpha" in page and "meter of net-alpha" in page and "bravo" not in page


def test_filters_by_site_kind_and_state(as_user, tenant_a):
    other = Site.objects.create(organization=tenant_a.organization, name="other")
    other.gateways.create(name="gw-other")
    meter = make_incident(tenant_a)
    gateway = make_incident(tenant_a, kind=IncidentKind.GATEWAY_OFFLINE, site=other)
    resolved = make_incident(tenant_a, minutes_ago=50, resolved_minutes_ago=5)
    client = as_user(tenant_a.viewer)
    assert ids(client, site=other.pk) == [gateway.pk]
    assert ids(client, kind="meter_lost") == [meter.pk, resolved.pk]
    assert ids(client, state="resolved") == [resolved.pk]
    Incident.objects.filter(pk=meter.pk).update(acknowledged_at=timezone.now(), acknowledged_by=tenant_a.operator)
    assert ids(client, state="acknowledged") == [meter.pk]
    assert ids(client, state="unacknowledged") == [gateway.pk]


def test_sorted_by_the_column_asked_for(as_user, tenant_a):
    first = make_incident(tenant_a, minutes_ago=90)
    second = make_incident(tenant_a, kind=IncidentKind.GATEWAY_OFFLINE, minutes_ago=5)
    client = as_user(tenant_a.viewer)
    assert ids(client, sort="started") == [first.pk, second.pk]
    assert ids(client, sort="-started") == [second.pk, first.pk]
    assert ids(client, sort="kind") == [second.pk, first.pk]  # gateway_offline before meter_lost


@pytest.mark.parametrize("params, field", [({"kind": "fire"}, "kind"), ({"state": "x"}, "state"), ({"sort": "id"}, "sort"),
                                           ({"site": "-1"}, "site")])
def test_bad_filters_are_refused_naming_the_parameter(as_user, tenant_a, params, field):
    response = as_user(tenant_a.viewer).get(reverse(LIVE), params)
    assert response.status_code == 400 and field in response.json()


# --- acknowledging from the page ----------------------------------------------------------------


def test_an_operator_acknowledges_from_the_page_and_everyone_sees_who_and_why(as_user, client, tenant_a):
    incident = make_incident(tenant_a)
    page = as_user(tenant_a.operator).get(reverse("dashboard:incidents")).content.decode()
    assert "Acknowledge" in page
    url = reverse("dashboard:incident-acknowledge", args=[incident.pk])
    response = client.post(url, {"note": "on my way"}, HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    assert (response.json()["acknowledged"], response.json()["acknowledged_by"]) == (True, "operator-alpha")
    [row] = as_user(tenant_a.viewer).get(reverse(LIVE)).json()["incidents"]
    assert (row["acknowledgement_note"], row["may_acknowledge"]) == ("on my way", False)


def test_without_a_script_the_form_post_returns_to_the_page(as_user, tenant_a):
    incident = make_incident(tenant_a)
    client = as_user(tenant_a.operator)
    url = reverse("dashboard:incident-acknowledge", args=[incident.pk])
    response = client.post(url, {"note": "", "next": "https://evil.example/"})
    assert response.status_code == 302 and response["Location"] == reverse("dashboard:incidents")
    incident.refresh_from_db()
    assert incident.is_acknowledged


def test_a_viewer_sees_no_button_and_is_refused(as_user, tenant_a):
    incident = make_incident(tenant_a)
    client = as_user(tenant_a.viewer)
    assert "Acknowledge</button>" not in client.get(reverse("dashboard:incidents")).content.decode()
    url = reverse("dashboard:incident-acknowledge", args=[incident.pk])
    assert client.post(url, {"note": "x"}, HTTP_ACCEPT="application/json").status_code == 403
    incident.refresh_from_db()
    assert incident.acknowledged_at is None


def test_another_organisations_incident_is_not_found(as_user, tenant_a, tenant_b):
    incident = make_incident(tenant_b)
    url = reverse("dashboard:incident-acknowledge", args=[incident.pk])
    assert as_user(tenant_a.operator).post(url, {"note": "x"}).status_code == 404


# --- the site page ------------------------------------------------------------------------------


def test_the_site_pages_json_carries_its_open_incidents(as_user, tenant_a, tenant_b):
    incident = make_incident(tenant_a)
    make_incident(tenant_a, minutes_ago=50, resolved_minutes_ago=5)
    make_incident(tenant_b)
    data = as_user(tenant_a.viewer).get(reverse("dashboard:site-live", args=[tenant_a.site.pk])).json()
    assert [row["id"] for row in data["incidents"]] == [incident.pk]


def test_the_incidents_page_costs_the_same_queries_for_many_incidents(as_user, tenant_a):
    make_incident(tenant_a)
    client = as_user(tenant_a.operator)
    with CaptureQueriesContext(connection) as one:
        ids(client)
    for minutes in range(20, 30):
        make_incident(tenant_a, kind=IncidentKind.GATEWAY_OFFLINE, minutes_ago=minutes, resolved_minutes_ago=1)
    with CaptureQueriesContext(connection) as many:
        assert len(ids(client)) == 11
    assert len(many) == len(one)
