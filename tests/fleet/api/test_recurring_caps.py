"""Recurring caps from the fleet: weekly windows in the site's local time, set by API or admin, sent to the gateway."""

from __future__ import annotations

from datetime import time

import pytest
from django.urls import reverse

from fleet.models import NetworkRecurringCap
from fleet.services.gateway_tokens import gateway_issue_token
from gateways.protocol import parse_site_config

pytestmark = pytest.mark.django_db

EVENINGS = {"source": "operator", "power_w": 11000, "days": ["fri", "mon", "tue", "wed", "thu"],
            "start_time": "17:00", "end_time": "20:00", "reason": "peak tariff"}


def recurring_url(network, cap_id=None) -> str:
    return f"/api/v1/networks/{network.pk}/limits/recurring/" + (f"{cap_id}/" if cap_id else "")


def make_window(tenant, **fields) -> NetworkRecurringCap:
    return NetworkRecurringCap.objects.create(network=tenant.network, source="schedule", power_w=6900, days=["sat", "sun"],
                                              start_time=time(22), end_time=time(6), **fields)


def test_a_weekday_window_reaches_the_gateway_in_the_sites_time_zone(client, as_user, tenant_a):
    auth = {"HTTP_AUTHORIZATION": f"Bearer {gateway_issue_token(tenant_a.gateway)}"}
    before = client.get("/api/gateway/v1/config", **auth)

    response = as_user(tenant_a.operator).post(recurring_url(tenant_a.network), EVENINGS, format="json")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["days"], body["start_time"], body["end_time"]) == (["mon", "tue", "wed", "thu", "fri"], "17:00", "20:00")
    after = client.get("/api/gateway/v1/config", HTTP_IF_NONE_MATCH=before.headers["ETag"], **auth)
    assert after.status_code == 200
    [window] = parse_site_config(after.json()).networks[0].recurring_caps
    assert (window.id, window.source, window.power_w, window.days, window.start_time, window.end_time, window.time_zone) == (
        str(body["id"]), "operator", 11000, ("mon", "tue", "wed", "thu", "fri"), "17:00", "20:00", "Europe/Berlin")


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"days": []}, "days", "cannot be blank"),
        ({"days": ["monday"]}, "days", "must name days as mon"),
        ({"days": ["mon", "mon"]}, "days", "names a day twice"),
        ({"end_time": "17:00"}, "end_time", "must differ from start_time"),
        ({"start_time": "17:00:30"}, "start_time", "whole minutes"),
        ({"start_time": "teatime"}, "start_time", "Time has wrong format"),
        ({"source": "dso"}, "source", "not a valid choice"),
        ({"power_w": -1}, "power_w", "greater than or equal to 0"),
        ({"weekdays": ["mon"]}, "weekdays", "Unknown field"),
    ],
)
def test_bad_windows_are_refused_naming_the_field(as_user, tenant_a, change, field, words):
    response = as_user(tenant_a.operator).post(recurring_url(tenant_a.network), {**EVENINGS, **change}, format="json")
    assert response.status_code == 400
    assert field in response.json(), response.json()
    assert words.lower() in " ".join(map(str, response.json()[field])).lower(), response.json()
    assert not NetworkRecurringCap.objects.exists()


def test_a_network_holds_at_most_fifty_windows(as_user, tenant_a):
    for _ in range(50):
        make_window(tenant_a)
    response = as_user(tenant_a.operator).post(recurring_url(tenant_a.network), EVENINGS, format="json")
    assert response.status_code == 400 and "at most 50" in str(response.json())


def test_windows_are_listed_read_and_removed_and_a_removed_one_leaves_the_config(client, as_user, tenant_a):
    night = make_window(tenant_a, reason="weekend nights")
    operator = as_user(tenant_a.operator)
    assert [w["reason"] for w in operator.get(recurring_url(tenant_a.network)).json()] == ["weekend nights"]
    assert operator.get(recurring_url(tenant_a.network, night.pk)).json()["end_time"] == "06:00"

    assert operator.delete(recurring_url(tenant_a.network, night.pk)).status_code == 204

    config = client.get("/api/gateway/v1/config", HTTP_AUTHORIZATION=f"Bearer {gateway_issue_token(tenant_a.gateway)}")
    assert parse_site_config(config.json()).networks[0].recurring_caps == ()


def test_tenants_neither_see_nor_change_each_others_windows(as_user, tenant_a, tenant_b):
    theirs = make_window(tenant_b)
    intruder = as_user(tenant_a.operator)
    assert intruder.get(recurring_url(tenant_b.network)).status_code == 404
    assert intruder.post(recurring_url(tenant_b.network), EVENINGS, format="json").status_code == 404
    assert intruder.get(recurring_url(tenant_b.network, theirs.pk)).status_code == 404
    assert intruder.delete(recurring_url(tenant_a.network, theirs.pk)).status_code == 404
    assert NetworkRecurringCap.objects.filter(pk=theirs.pk).exists()


def test_a_viewer_may_read_windows_but_not_set_or_remove_them(as_user, tenant_a):
    window = make_window(tenant_a)
    viewer = as_user(tenant_a.viewer)
    assert viewer.get(recurring_url(tenant_a.network)).status_code == 200
    assert viewer.post(recurring_url(tenant_a.network), EVENINGS, format="json").status_code == 403
    assert viewer.delete(recurring_url(tenant_a.network, window.pk)).status_code == 403


def test_an_operator_sets_a_window_in_the_admin_with_tick_boxes_and_only_on_their_networks(client, tenant_a, tenant_b):
    client.force_login(tenant_a.operator)
    add = reverse("admin:fleet_networkrecurringcap_add")
    form = {"network": tenant_a.network.pk, "source": "schedule", "power_w": 6900, "days": ["sat", "mon"],
            "start_time": "22:00", "end_time": "22:00", "reason": ""}
    refused = client.post(add, form)
    assert refused.status_code == 200 and "end_time" in refused.context["adminform"].form.errors
    assert client.post(add, {**form, "end_time": "06:00"}).status_code == 302
    assert NetworkRecurringCap.objects.get(network=tenant_a.network).days == ["mon", "sat"]
    other = client.post(add, {**form, "end_time": "06:00", "network": tenant_b.network.pk})
    assert "network" in other.context["adminform"].form.errors
    listing = client.get(reverse("admin:fleet_networkrecurringcap_changelist"))
    assert listing.status_code == 200 and "net-bravo" not in listing.content.decode()
