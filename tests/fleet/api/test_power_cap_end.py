"""Ending a cap early (API and admin) and withdrawing one not yet started: the gateway hears at its next config poll."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from fleet.models import NetworkPowerCap
from fleet.services.gateway_tokens import gateway_issue_token
from gateways.protocol import parse_site_config

pytestmark = pytest.mark.django_db


def cap_url(cap, network=None) -> str:
    return f"/api/v1/networks/{(network or cap.network).pk}/limits/{cap.pk}/"


def end_url(cap, network=None) -> str:
    return cap_url(cap, network) + "end/"


def make_cap(tenant, *, start_in: timedelta, end_in: timedelta | None = None, power_w: int = 11000) -> NetworkPowerCap:
    now = timezone.now()
    return NetworkPowerCap.objects.create(network=tenant.network, source="operator", power_w=power_w, start=now + start_in,
                                          end=None if end_in is None else now + end_in, reason="demand peak")


def test_ending_a_cap_in_force_takes_it_out_of_the_config_so_the_next_poll_lifts_it(client, as_user, tenant_a):
    cap = make_cap(tenant_a, start_in=-timedelta(hours=1))
    auth = {"HTTP_AUTHORIZATION": f"Bearer {gateway_issue_token(tenant_a.gateway)}"}
    before = client.get("/api/gateway/v1/config", **auth)
    assert [c.id for c in parse_site_config(before.json()).networks[0].power_caps] == [str(cap.pk)]

    response = as_user(tenant_a.operator).post(end_url(cap))

    assert response.status_code == 200, response.json()
    assert abs(datetime.fromisoformat(response.json()["end"]) - timezone.now()) < timedelta(seconds=10)
    after = client.get("/api/gateway/v1/config", HTTP_IF_NONE_MATCH=before.headers["ETag"], **auth)
    assert after.status_code == 200 and after.headers["ETag"] != before.headers["ETag"]
    assert parse_site_config(after.json()).networks[0].power_caps == ()
    assert as_user(tenant_a.viewer).get(f"/api/v1/networks/{tenant_a.network.pk}/limits/").json() == []


def test_a_cap_already_ended_is_refused_and_keeps_its_end(as_user, tenant_a):
    cap = make_cap(tenant_a, start_in=-timedelta(hours=2), end_in=-timedelta(hours=1))
    ended_at = cap.end

    response = as_user(tenant_a.operator).post(end_url(cap))

    assert response.status_code == 409
    assert response.json()["state"] == "ended" and "ended at" in response.json()["detail"]
    cap.refresh_from_db()
    assert cap.end == ended_at


def test_ending_twice_ends_once(as_user, tenant_a):
    cap = make_cap(tenant_a, start_in=-timedelta(minutes=5), end_in=timedelta(hours=1))
    operator = as_user(tenant_a.operator)
    first = operator.post(end_url(cap))
    second = operator.post(end_url(cap))
    assert (first.status_code, second.status_code) == (200, 409)
    cap.refresh_from_db()
    assert abs(cap.end - datetime.fromisoformat(first.json()["end"])) < timedelta(seconds=1)


def test_a_scheduled_cap_is_withdrawn_rather_than_ended(as_user, tenant_a):
    scheduled = make_cap(tenant_a, start_in=timedelta(hours=2), end_in=timedelta(hours=3))
    in_force = make_cap(tenant_a, start_in=-timedelta(hours=1), power_w=6900)
    operator = as_user(tenant_a.operator)

    not_started = operator.post(end_url(scheduled))
    assert not_started.status_code == 409 and not_started.json()["state"] == "scheduled"
    assert operator.get(cap_url(scheduled)).json()["power_w"] == 11000

    assert operator.delete(cap_url(scheduled)).status_code == 204
    assert not NetworkPowerCap.objects.filter(pk=scheduled.pk).exists()
    on_record = operator.delete(cap_url(in_force))
    assert on_record.status_code == 409 and on_record.json()["state"] == "in_force"
    assert NetworkPowerCap.objects.filter(pk=in_force.pk, end__isnull=True).exists()


def test_tenants_can_neither_end_nor_withdraw_each_others_caps(as_user, tenant_a, tenant_b):
    theirs = make_cap(tenant_b, start_in=-timedelta(hours=1))
    their_scheduled = make_cap(tenant_b, start_in=timedelta(hours=1))
    intruder = as_user(tenant_a.operator)

    assert intruder.post(end_url(theirs)).status_code == 404
    assert intruder.get(cap_url(theirs)).status_code == 404
    assert intruder.delete(cap_url(their_scheduled)).status_code == 404
    # Nor through their own network with the other tenant's cap id.
    assert intruder.post(end_url(theirs, network=tenant_a.network)).status_code == 404
    assert intruder.delete(cap_url(their_scheduled, network=tenant_a.network)).status_code == 404
    assert NetworkPowerCap.objects.filter(network=tenant_b.network, end__isnull=True).count() == 2


def test_a_viewer_may_look_at_a_cap_but_not_end_it(as_user, tenant_a):
    cap = make_cap(tenant_a, start_in=-timedelta(hours=1))
    viewer = as_user(tenant_a.viewer)
    assert viewer.get(cap_url(cap)).status_code == 200
    assert viewer.post(end_url(cap)).status_code == 403
    assert viewer.delete(cap_url(cap)).status_code == 403
    cap.refresh_from_db()
    assert cap.end is None


def admin_end_now(client, caps):
    return client.post(reverse("admin:fleet_networkpowercap_changelist"),
                       {"action": "end_now", "_selected_action": [cap.pk for cap in caps]}, follow=True)


def test_the_admin_ends_the_selected_caps_in_force_and_says_which_it_left(client, tenant_a, tenant_b):
    in_force = make_cap(tenant_a, start_in=-timedelta(hours=1))
    over = make_cap(tenant_a, start_in=-timedelta(hours=2), end_in=-timedelta(hours=1), power_w=4200)
    theirs = make_cap(tenant_b, start_in=-timedelta(hours=1))
    client.force_login(tenant_a.operator)

    response = admin_end_now(client, [in_force, over, theirs])

    said = [str(m) for m in response.context["messages"]]
    assert "Ended 1 cap(s)." in said
    assert any(line.startswith("Not ended: ") and "ended at" in line for line in said), said
    in_force.refresh_from_db()
    theirs.refresh_from_db()
    assert in_force.end is not None and theirs.end is None


def test_a_viewer_cannot_end_caps_in_the_admin(client, tenant_a):
    cap = make_cap(tenant_a, start_in=-timedelta(hours=1))
    client.force_login(tenant_a.viewer)
    response = admin_end_now(client, [cap])
    cap.refresh_from_db()
    assert cap.end is None
    assert response.status_code == 200 and any("may only view" in str(m) for m in response.context["messages"])
