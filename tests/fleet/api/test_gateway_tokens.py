"""A gateway's token is shown exactly once: in the answer that issued it, never again."""

import pytest

from fleet.models import Gateway
from fleet.services.gateway_tokens import gateway_authenticate

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator(tenants, as_user):
    return as_user(tenants[0].operator)


def test_creating_a_gateway_answers_its_token_once(tenants, operator):
    created = operator.post("/api/v1/gateways/", {"site": tenants[0].site.pk, "name": "gw-new"}, format="json")
    assert created.status_code == 201
    token = created.json()["token"]
    gateway = Gateway.objects.get(pk=created.json()["id"])
    assert gateway_authenticate(token) == gateway
    assert created.json()["token_prefix"] == token[:10]
    assert created.json()["has_active_token"] is True
    # neither the detail nor the list shows it (or its hash) again
    for body in (operator.get(f"/api/v1/gateways/{gateway.pk}/").content, operator.get("/api/v1/gateways/").content):
        assert token.encode() not in body
        assert b"token_hash" not in body
        assert gateway.token_hash.encode() not in body


def test_a_token_sent_in_a_write_is_refused_and_nothing_is_created(tenants, operator):
    # A client cannot choose a token: neither field is part of a gateway's data, so both are unknown keys.
    refused = operator.post(
        "/api/v1/gateways/", {"site": tenants[0].site.pk, "name": "gw-new", "token": "fgw_chosen", "token_hash": "0" * 64},
        format="json",
    )
    assert refused.status_code == 400
    assert set(refused.json()) == {"token", "token_hash"}
    assert not Gateway.objects.filter(name="gw-new").exists()
    assert not Gateway.objects.filter(token_hash="0" * 64).exists()


def test_rotating_replaces_the_token(tenants, operator):
    gateway = tenants[0].gateway
    first = operator.post(f"/api/v1/gateways/{gateway.pk}/rotate-token/").json()["token"]
    second = operator.post(f"/api/v1/gateways/{gateway.pk}/rotate-token/")
    assert second.status_code == 200
    assert set(second.json()) == {"token", "token_prefix"}
    assert gateway_authenticate(first) is None
    assert gateway_authenticate(second.json()["token"]) == gateway


def test_revoking_stops_the_token(tenants, operator):
    gateway = tenants[0].gateway
    token = operator.post(f"/api/v1/gateways/{gateway.pk}/rotate-token/").json()["token"]
    revoked = operator.post(f"/api/v1/gateways/{gateway.pk}/revoke-token/")
    assert revoked.status_code == 200
    assert revoked.json()["has_active_token"] is False
    assert revoked.json()["token_revoked_at"] is not None
    assert gateway_authenticate(token) is None


@pytest.mark.parametrize("action", ["rotate-token", "revoke-token"])
def test_another_organisations_gateway_tokens_are_out_of_reach(tenants, operator, action):
    gateway = tenants[1].gateway
    gateway.token_hash = "0" * 64
    gateway.save()
    assert operator.post(f"/api/v1/gateways/{gateway.pk}/{action}/").status_code == 404
    gateway.refresh_from_db()
    assert (gateway.token_hash, gateway.token_revoked_at) == ("0" * 64, None)
