"""The dashboard pages and their JSON: operators see their organisations' sites, with state, chargers and reasons."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from balancing import describe
from fleet.models import Incident, IncidentKind, Membership, Site, TelemetrySample
from tests.fleet.dashboard.conftest import record_samples, report_latest_state

pytestmark = pytest.mark.django_db


def overview_site_names(client) -> list[str]:
    response = client.get(reverse("dashboard:overview"))
    assert response.status_code == 200
    return [card.site.name for card in response.context["cards"]]


# --- signing in ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["dashboard:overview", "dashboard:site"])
def test_pages_send_anonymous_visitors_to_sign_in(client, tenant_a, name):
    url = reverse(name) if name == "dashboard:overview" else reverse(name, args=[tenant_a.site.pk])
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("dashboard:login"))


def test_anonymous_polls_get_403_json_rather_than_a_login_page(client, tenant_a):
    response = client.get(reverse("dashboard:site-live", args=[tenant_a.site.pk]))
    assert response.status_code == 403
    assert response.json() == {"detail": "Not signed in."}


def test_an_operator_signs_in_with_a_password_and_lands_on_the_fleet(client, tenant_a):
    response = client.post(
        reverse("dashboard:login"), {"username": tenant_a.operator.username, "password": "pw-for-tests-only"}, follow=True
    )
    assert response.redirect_chain[-1][0] == reverse("dashboard:overview")
    assert "site-alpha" in response.content.decode()


# --- tenant isolation ---------------------------------------------------------------------------


def test_the_overview_shows_only_the_users_organisations(as_user, tenant_a, tenant_b):
    client = as_user(tenant_a.viewer)
    assert overview_site_names(client) == ["site-alpha"]
    assert "site-bravo" not in client.get(reverse("dashboard:overview")).content.decode()


def test_a_member_of_both_sees_both_and_a_superuser_sees_all(as_user, tenant_a, tenant_b):
    Membership.objects.create(user=tenant_a.operator, organization=tenant_b.organization)
    assert sorted(overview_site_names(as_user(tenant_a.operator))) == ["site-alpha", "site-bravo"]
    admin = get_user_model().objects.create_superuser("root", password="pw-for-tests-only")
    assert sorted(overview_site_names(as_user(admin))) == ["site-alpha", "site-bravo"]


def test_a_user_without_organisation_sees_no_sites(as_user, tenant_a):
    loner = get_user_model().objects.create_user("loner", password="pw-for-tests-only")
    client = as_user(loner)
    assert overview_site_names(client) == []
    assert "No sites yet" in client.get(reverse("dashboard:overview")).content.decode()


@pytest.mark.parametrize("name", ["dashboard:site", "dashboard:site-live"])
def test_another_organisations_site_is_not_found(as_user, tenant_a, tenant_b, name):
    client = as_user(tenant_a.operator)
    assert client.get(reverse(name, args=[tenant_b.site.pk])).status_code == 404
    assert client.get(reverse(name, args=[tenant_a.site.pk])).status_code == 200


def test_the_live_json_carries_only_the_sites_own_samples(as_user, tenant_a, tenant_b):
    record_samples(tenant_a, 5)
    record_samples(tenant_b, 9)
    data = as_user(tenant_a.operator).get(reverse("dashboard:site-live", args=[tenant_a.site.pk])).json()
    assert [n["name"] for n in data["networks"]] == ["net-alpha"]
    assert list(data["samples"]["networks"]) == [str(tenant_a.network.pk)]
    assert len(data["samples"]["networks"][str(tenant_a.network.pk)]["t"]) == 5
    assert "bravo" not in str(data)


# --- the overview -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        ({}, "normal"),
        ({"mode": "fallback"}, "fallback"),
        ({"mode": "fallback", "meter_available": False}, "meter_lost"),
        ({"gateway_seen_s_ago": 600}, "gateway_offline"),
    ],
)
def test_each_site_shows_its_state(as_user, tenant_a, state, expected):
    report_latest_state(tenant_a, **state)
    response = as_user(tenant_a.viewer).get(reverse("dashboard:overview"))
    [card] = response.context["cards"]
    assert card.status == expected
    assert f'badge-{expected}"' in response.content.decode()


def test_a_gateway_that_never_reported_is_offline(as_user, tenant_a):
    [card] = as_user(tenant_a.viewer).get(reverse("dashboard:overview")).context["cards"]
    assert card.status == "gateway_offline"


def test_sites_with_open_incidents_come_first_longest_running_first(as_user, tenant_a):
    organization = tenant_a.organization
    quiet = Site.objects.create(organization=organization, name="a-quiet")
    recent = Site.objects.create(organization=organization, name="b-recent")
    now = timezone.now()
    for site, minutes in ((recent, 5), (tenant_a.site, 90)):
        gateway = site.gateways.create(name=f"gw-{site.name}")
        Incident.objects.create(organization=organization, site=site, gateway=gateway, kind=IncidentKind.GATEWAY_OFFLINE,
                                started_at=now - timedelta(minutes=minutes))
    report_latest_state(tenant_a)
    client = as_user(tenant_a.viewer)
    assert overview_site_names(client) == ["site-alpha", "b-recent", "a-quiet"]
    page = client.get(reverse("dashboard:overview")).content.decode()
    assert "1 open incident for 1 h 30 min" in page
    assert quiet.name in page


# --- the site page ------------------------------------------------------------------------------


def test_the_site_page_lists_chargers_with_setpoint_current_and_the_reason_in_words(as_user, tenant_a):
    report_latest_state(tenant_a, reason="limited_by_phase_L2")
    response = as_user(tenant_a.viewer).get(reverse("dashboard:site", args=[tenant_a.site.pk]))
    page = response.content.decode()
    assert response.status_code == 200
    assert "cp-alpha" in page
    assert "13.0 A" in page
    assert "12.6 / 12.7 / 12.5 A" in page
    assert describe("limited_by_phase_L2") in page
    assert "Limit 32 A per phase" in page
    assert f'id="chart-{tenant_a.network.pk}"' in page
    assert "fleet/vendor/chart.umd.min.js" in page
    assert all(f"fleet/{script}.js" in page for script in ("live", "site_chart", "site_range", "site"))


def test_the_site_page_shows_a_lost_meter_and_the_open_incident(as_user, tenant_a):
    report_latest_state(tenant_a, mode="fallback", meter_available=False, reason="fallback")
    Incident.objects.create(organization=tenant_a.organization, site=tenant_a.site, meter=tenant_a.meter,
                            kind=IncidentKind.METER_LOST, started_at=timezone.now() - timedelta(minutes=3))
    page = as_user(tenant_a.viewer).get(reverse("dashboard:site", args=[tenant_a.site.pk])).content.decode()
    assert "Open incidents" in page and "meter of net-alpha" in page
    assert 'badge-meter_lost" id="site-status"' in page
    assert describe("fallback") in page


# --- the live JSON ------------------------------------------------------------------------------


def test_the_live_json_gives_columns_for_the_chart_and_a_cursor_for_the_next_poll(as_user, tenant_a):
    report_latest_state(tenant_a)
    record_samples(tenant_a, 6, fallback_from=4)
    client = as_user(tenant_a.viewer)
    url = reverse("dashboard:site-live", args=[tenant_a.site.pk])
    data = client.get(url).json()
    series = data["samples"]["networks"][str(tenant_a.network.pk)]
    assert series["t"] == sorted(series["t"]) and len(series["t"]) == 6
    assert series["grid_a"][0][:2] == [18.0, 19.0]
    assert series["grid_a"][0][4:] == [None, None]
    assert series["fallback"] == [False] * 4 + [True] * 2
    charger = series["chargers"][str(tenant_a.charger.pk)]
    assert charger["setpoint_a"] == [12.0, 13.0, 14.0, 15.0, 6.0, 6.0]
    assert charger["current_a"][0] == pytest.approx(11.7)  # the highest phase
    assert data["networks"][0]["chargers"][0]["reason_text"] == describe("limited_by_phase_L1")
    assert data["networks"][0]["limit_a"] == 32
    assert data["samples"]["last_id"] == TelemetrySample.objects.latest("id").pk

    later = record_samples(tenant_a, 2, first_seq=100)
    again = client.get(url, {"after": data["samples"]["last_id"]}).json()
    assert len(again["samples"]["networks"][str(tenant_a.network.pk)]["t"]) == len(later)
    nothing_new = client.get(url, {"after": again["samples"]["last_id"]}).json()
    assert nothing_new["samples"]["networks"][str(tenant_a.network.pk)]["t"] == []
    assert nothing_new["samples"]["last_id"] == again["samples"]["last_id"]


def test_samples_older_than_the_window_are_left_out(as_user, tenant_a):
    record_samples(tenant_a, 3, end=timezone.now() - timedelta(hours=2))
    record_samples(tenant_a, 2, first_seq=10)
    data = as_user(tenant_a.viewer).get(reverse("dashboard:site-live", args=[tenant_a.site.pk])).json()
    assert len(data["samples"]["networks"][str(tenant_a.network.pk)]["t"]) == 2


def test_a_malformed_cursor_is_refused(as_user, tenant_a):
    response = as_user(tenant_a.viewer).get(reverse("dashboard:site-live", args=[tenant_a.site.pk]), {"after": "x"})
    assert response.status_code == 400


# --- cost ---------------------------------------------------------------------------------------


def count_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


@pytest.mark.parametrize("name", ["dashboard:overview", "dashboard:overview-live", "dashboard:site", "dashboard:site-live"])
def test_pages_cost_the_same_queries_however_many_sites_networks_and_chargers(as_user, tenant_a, name):
    client = as_user(tenant_a.viewer)
    url = reverse(name, args=[] if name.startswith("dashboard:overview") else [tenant_a.site.pk])
    report_latest_state(tenant_a)
    baseline = count_queries(client, url)
    for i in range(3):
        site = Site.objects.create(organization=tenant_a.organization, name=f"more-{i}")
        site.gateways.create(name="gw")
        network = tenant_a.site.networks.create(name=f"more-net-{i}", max_current_per_phase_a=32)
        network.chargers.create(name="cp-more", driver="simulated")
        site.networks.create(name="n", max_current_per_phase_a=25)
    assert count_queries(client, url) == baseline


def test_the_live_json_carries_the_periods_a_power_cap_held_for_shading(as_user, tenant_a, tenant_b):
    from fleet.models import TelemetryEvent

    now = timezone.now()
    for tenant in (tenant_a, tenant_b):
        for seq, (seconds_ago, type_) in enumerate([(300, "power_cap_started"), (200, "power_cap_ended"), (60, "power_cap_started")]):
            TelemetryEvent.objects.create(gateway=tenant.gateway, network=tenant.network, seq=seq, type=type_,
                                          ts=now - timedelta(seconds=seconds_ago), subject="14a-control-box",
                                          detail="4200 W (grid_operator_cap)")
    data = as_user(tenant_a.viewer).get(reverse("dashboard:site-live", args=[tenant_a.site.pk])).json()
    [network] = data["networks"]
    spans = network["cap_spans"]
    assert len(spans) == 2 and spans[1][1] is None  # the second dimming still holds
    assert spans[0][1] - spans[0][0] == 100_000
