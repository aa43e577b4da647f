"""One time rule for every page: the viewer's zone if they chose one, else the site's (UTC for the fleet), always labelled."""

from datetime import UTC, datetime

import pytest
from django.urls import reverse

from fleet.dashboard.times import display_zone, time_text
from fleet.models import Incident, IncidentKind, MeterState, OperatorProfile
from tests.fleet.dashboard.conftest import report_latest_state

WINTER = datetime(2026, 11, 30, 12, 0, 5, tzinfo=UTC)


@pytest.mark.parametrize(
    "viewer, site, shown",
    [
        ("", "Europe/Berlin", "Europe/Berlin"),  # no choice: the site's own
        ("America/New_York", "Europe/Berlin", "America/New_York"),  # the viewer's choice wins
        ("", None, "UTC"),  # no site (the fleet's clock): UTC
    ],
)
def test_which_zone_a_time_is_shown_in(viewer, site, shown):
    assert display_zone(viewer, site) == shown


def test_times_carry_their_zone():
    assert time_text(WINTER, "Europe/Berlin") == "2026-11-30 13:00:05 CET"
    assert time_text(WINTER, "UTC", seconds=False) == "2026-11-30 12:00 UTC"
    assert time_text(None, "UTC") == ""




@pytest.mark.django_db
def test_the_site_page_shows_the_sites_zone_until_the_viewer_chooses_one(as_user, tenant_a):
    report_latest_state(tenant_a, meter_available=False)
    MeterState.objects.filter(meter=tenant_a.meter).update(lost_since=WINTER)
    client = as_user(tenant_a.viewer)
    url = reverse("dashboard:site", args=[tenant_a.site.pk])
    page = client.get(url).content.decode()
    assert 'data-time-zone="Europe/Berlin"' in page and "2026-11-30 13:00:05 CET" in page

    response = client.post(reverse("dashboard:profile"), {"time_zone": "America/New_York"})
    assert response.status_code == 302
    page = client.get(url).content.decode()
    assert "2026-11-30 07:00:05 EST" in page and "(the site is in Europe/Berlin)" in page


@pytest.mark.django_db
def test_the_incidents_and_overview_follow_the_same_rule(as_user, tenant_a):
    Incident.objects.create(organization=tenant_a.organization, site=tenant_a.site, meter=tenant_a.meter,
                            kind=IncidentKind.METER_LOST, started_at=WINTER, opened_at=WINTER, last_opened_at=WINTER)
    client = as_user(tenant_a.viewer)
    [row] = client.get(reverse("dashboard:incidents-live")).json()["incidents"]
    assert row["started_text"] == "2026-11-30 13:00 CET"
    assert 'data-time-zone="UTC"' in client.get(reverse("dashboard:overview")).content.decode()
    OperatorProfile.objects.create(user=tenant_a.viewer, time_zone="Asia/Tokyo")
    [row] = client.get(reverse("dashboard:incidents-live")).json()["incidents"]
    assert row["started_text"] == "2026-11-30 21:00 JST"
    assert 'data-time-zone="Asia/Tokyo"' in client.get(reverse("dashboard:overview")).content.decode()


@pytest.mark.django_db
def test_an_unknown_zone_is_refused_and_nothing_saved(as_user, tenant_a):
    response = as_user(tenant_a.viewer).post(reverse("dashboard:profile"), {"time_zone": "Mars/Olympus"})
    assert response.status_code == 400 and "Mars/Olympus" in response.content.decode()
    assert not OperatorProfile.objects.exists()
