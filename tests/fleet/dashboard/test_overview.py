"""The fleet overview for many sites: counts per state, search, filters and pages, live as JSON, at a constant cost."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from fleet.dashboard import overview
from fleet.dashboard.selectors import site_detail
from fleet.models import ChargingNetwork, Gateway, Membership, Role, Site
from tests.fleet.dashboard.conftest import report_latest_state

pytestmark = pytest.mark.django_db

LIVE = "dashboard:overview-live"


def live(client, **params) -> dict:
    response = client.get(reverse(LIVE), params)
    assert response.status_code == 200, response.content
    assert response["Cache-Control"] == "no-store"
    return response.json()


# --- the state per site: the SQL rule agrees with the site page's rule ----------------------------


@pytest.mark.parametrize(
    "state",
    [
        {},
        {"mode": "fallback"},
        {"mode": "fallback", "meter_available": False},
        {"meter_available": False},
        {"gateway_seen_s_ago": 600},
        {"gateway_seen_s_ago": 600, "meter_available": False},
    ],
)
def test_the_overview_and_the_site_page_agree_on_every_state(as_user, tenant_a, state):
    report_latest_state(tenant_a, **state)
    [card] = live(as_user(tenant_a.viewer))["cards"]
    assert card["status"] == site_detail(tenant_a.site, timezone.now()).status


def test_a_site_without_gateway_and_a_silent_second_gateway_are_offline(as_user, tenant_a):
    report_latest_state(tenant_a)
    bare = Site.objects.create(organization=tenant_a.organization, name="bare")
    Gateway.objects.create(site=tenant_a.site, name="second")  # never reported
    states = {card["name"]: card["status"] for card in live(as_user(tenant_a.viewer))["cards"]}
    assert states == {"site-alpha": "gateway_offline", bare.name: "gateway_offline"}


# --- counts, search, filters --------------------------------------------------------------------


@pytest.fixture
def mixed_fleet(tenant_a):
    """Tenant alpha's site normal, plus a fallback site, a meter-lost site and an offline one."""
    report_latest_state(tenant_a)
    now = timezone.now()
    for name, mode, meter_ok, seen_s in (("Harbour fallback", "fallback", True, 5), ("Mill meter", "fallback", False, 5),
                                         ("Quay offline", "normal", True, 900)):
        site = Site.objects.create(organization=tenant_a.organization, name=name)
        site.gateways.create(name="gw", last_seen=now - timedelta(seconds=seen_s))
        network = ChargingNetwork.objects.create(site=site, name="n", max_current_per_phase_a=32)
        network_state = network.__class__.state.related.related_model
        network_state.objects.create(network=network, mode=mode)
        meter = network.__class__.meter.related.related_model.objects.create(network=network, model="carlo-gavazzi-em24", host="m.example")
        meter.__class__.state.related.related_model.objects.create(meter=meter, available=meter_ok)
    return tenant_a


def test_counts_per_state_sum_to_the_fleet(as_user, mixed_fleet):
    data = live(as_user(mixed_fleet.viewer))
    assert data["counts"] == {"normal": 1, "fallback": 1, "meter_lost": 1, "gateway_offline": 1}
    assert data["total"] == 4
    assert [card["status"] for card in data["cards"]] == ["gateway_offline", "meter_lost", "fallback", "normal"]


def test_filter_by_state_keeps_the_counts_of_every_state(as_user, mixed_fleet):
    data = live(as_user(mixed_fleet.viewer), status="meter_lost")
    assert [card["name"] for card in data["cards"]] == ["Mill meter"]
    assert data["total"] == 1 and data["counts"]["normal"] == 1


def test_search_by_name_ignores_case_and_narrows_the_counts(as_user, mixed_fleet):
    data = live(as_user(mixed_fleet.viewer), q="HARBOUR")
    assert [card["name"] for card in data["cards"]] == ["Harbour fallback"]
    assert data["counts"] == {"normal": 0, "fallback": 1, "meter_lost": 0, "gateway_offline": 0}


def test_filter_by_organisation_and_never_beyond_ones_own(as_user, tenant_a, tenant_b):
    Membership.objects.create(user=tenant_a.viewer, organization=tenant_b.organization, role=Role.VIEWER)
    client = as_user(tenant_a.viewer)
    assert [c["name"] for c in live(client, org=tenant_b.organization.pk)["cards"]] == ["site-bravo"]
    page = client.get(reverse("dashboard:overview")).content.decode()
    assert "Every organisation" in page and "Org bravo" in page
    # Another organisation's id filters to nothing rather than revealing anything.
    assert live(as_user(tenant_b.viewer), org=tenant_a.organization.pk)["total"] == 0


@pytest.mark.parametrize("params, field", [({"status": "broken"}, "status"), ({"page": "0"}, "page"), ({"org": "x"}, "org"),
                                           ({"q": "x" * 101}, "q")])
def test_bad_filters_are_refused_naming_the_parameter(as_user, tenant_a, params, field):
    client = as_user(tenant_a.viewer)
    response = client.get(reverse(LIVE), params)
    assert response.status_code == 400 and field in response.json()
    assert client.get(reverse("dashboard:overview"), params).status_code == 400


def test_the_page_renders_counts_and_filters_without_a_script(as_user, mixed_fleet):
    page = as_user(mixed_fleet.viewer).get(reverse("dashboard:overview"), {"status": "fallback"}).content.decode()
    assert 'data-count="meter_lost">1<' in page and 'data-count="all">4<' in page
    assert "Harbour fallback" in page and "Mill meter" not in page
    assert 'http-equiv="refresh"' not in page


# --- pages --------------------------------------------------------------------------------------


def test_a_large_fleet_comes_in_pages_worst_first(as_user, tenant_a):
    report_latest_state(tenant_a)
    Site.objects.bulk_create(Site(organization=tenant_a.organization, name=f"s{i:03}") for i in range(overview.PAGE_SIZE + 5))
    client = as_user(tenant_a.viewer)
    first = live(client)
    assert (first["page"], first["pages"], len(first["cards"])) == (1, 2, overview.PAGE_SIZE)
    second = live(client, page=2)
    assert len(second["cards"]) == 6 and second["cards"][-1]["name"] == "site-alpha"  # the one normal site last
    assert live(client, page=9)["page"] == 2  # past the end: the last page


def test_the_overview_costs_the_same_queries_for_a_page_of_sites_as_for_one(as_user, tenant_a):
    report_latest_state(tenant_a)
    client = as_user(tenant_a.viewer)
    with CaptureQueriesContext(connection) as one:
        live(client)
    sites = Site.objects.bulk_create(Site(organization=tenant_a.organization, name=f"z{i:03}") for i in range(2 * overview.PAGE_SIZE))
    Gateway.objects.bulk_create(Gateway(site=site, name="gw", last_seen=timezone.now()) for site in sites)
    with CaptureQueriesContext(connection) as many:
        assert len(live(client)["cards"]) == overview.PAGE_SIZE
    assert len(many) == len(one)


def test_every_page_names_its_icon_and_favicon_ico_leads_to_it(as_user, client, tenant_a):
    page = as_user(tenant_a.viewer).get(reverse("dashboard:overview")).content.decode()
    assert 'rel="icon" href="/static/fleet/favicon.svg"' in page
    response = client.get("/favicon.ico")
    assert response.status_code == 301 and response["Location"] == "/static/fleet/favicon.svg"
