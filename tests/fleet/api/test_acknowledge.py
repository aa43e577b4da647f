"""Acknowledging an incident through the API: operators and admins may, viewers may not, only in their organisations, once."""

from datetime import timedelta

import pytest
from django.utils import timezone

from fleet.models import Incident, IncidentKind, IncidentStatus

pytestmark = pytest.mark.django_db


def open_incident(tenant) -> Incident:
    now = timezone.now()
    return Incident.objects.create(
        organization=tenant.organization, site=tenant.site, meter=tenant.meter, kind=IncidentKind.METER_LOST,
        started_at=now - timedelta(minutes=5), opened_at=now - timedelta(minutes=4), last_opened_at=now - timedelta(minutes=4),
    )


def acknowledge_url(incident) -> str:
    return f"/api/v1/alerts/{incident.pk}/acknowledge/"


def test_an_operator_acknowledges_with_a_note_and_who_and_when_are_recorded(as_user, tenant_a):
    incident = open_incident(tenant_a)
    response = as_user(tenant_a.operator).post(acknowledge_url(incident), {"note": "electrician on the way"}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["acknowledged"], body["acknowledged_by"], body["acknowledgement_note"]) == (
        True, tenant_a.operator.username, "electrician on the way"
    )
    incident.refresh_from_db()
    assert incident.acknowledged_by == tenant_a.operator
    assert timezone.now() - incident.acknowledged_at < timedelta(seconds=30)
    assert as_user(tenant_a.viewer).get(f"/api/v1/alerts/{incident.pk}/").json()["acknowledged"] is True


def test_a_viewer_is_refused_and_nothing_changes(as_user, tenant_a):
    incident = open_incident(tenant_a)
    response = as_user(tenant_a.viewer).post(acknowledge_url(incident), {"note": "mine"}, format="json")
    assert response.status_code == 403
    incident.refresh_from_db()
    assert incident.acknowledged_at is None


def test_another_organisations_incident_is_not_found(as_user, tenant_a, tenant_b):
    incident = open_incident(tenant_b)
    response = as_user(tenant_a.operator).post(acknowledge_url(incident), {}, format="json")
    assert response.status_code == 404
    incident.refresh_from_db()
    assert incident.acknowledged_at is None


def test_acknowledging_twice_keeps_the_first_acknowledgement(as_user, tenant_a):
    incident = open_incident(tenant_a)
    first = as_user(tenant_a.operator).post(acknowledge_url(incident), {"note": "first"}, format="json").json()
    again = as_user(tenant_a.operator).post(acknowledge_url(incident), {"note": "second"}, format="json")
    assert again.status_code == 200
    assert again.json()["acknowledgement_note"] == "first"
    assert again.json()["acknowledged_at"] == first["acknowledged_at"]


def test_a_resolved_incident_cannot_be_acknowledged(as_user, tenant_a):
    incident = open_incident(tenant_a)
    Incident.objects.filter(pk=incident.pk).update(status=IncidentStatus.RESOLVED, resolved_at=timezone.now())
    assert as_user(tenant_a.operator).post(acknowledge_url(incident), {}, format="json").status_code == 409


@pytest.mark.parametrize("body, field", [({"note": "x" * 1001}, "note"), ({"notes": "typo"}, "notes"), ({"note": None}, "note")])
def test_a_bad_body_is_refused_naming_the_field(as_user, tenant_a, body, field):
    incident = open_incident(tenant_a)
    response = as_user(tenant_a.operator).post(acknowledge_url(incident), body, format="json")
    assert response.status_code == 400 and field in response.json()
    incident.refresh_from_db()
    assert incident.acknowledged_at is None


def test_a_reopened_incident_counts_as_unacknowledged_again(as_user, tenant_a):
    incident = open_incident(tenant_a)
    as_user(tenant_a.operator).post(acknowledge_url(incident), {}, format="json")
    Incident.objects.filter(pk=incident.pk).update(last_opened_at=timezone.now() + timedelta(seconds=1), occurrences=2)
    assert as_user(tenant_a.viewer).get(f"/api/v1/alerts/{incident.pk}/").json()["acknowledged"] is False
