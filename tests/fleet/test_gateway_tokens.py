"""Gateway tokens: shown once, stored hashed, revocable, each bound to its own gateway."""

import pytest

from fleet.services.gateway_tokens import gateway_authenticate, gateway_issue_token, gateway_revoke_token

pytestmark = pytest.mark.django_db


def test_an_issued_token_authenticates_its_gateway_and_is_not_stored(tenant_a):
    token = gateway_issue_token(tenant_a.gateway)
    tenant_a.gateway.refresh_from_db()
    assert token not in (tenant_a.gateway.token_hash, tenant_a.gateway.token_prefix)
    assert gateway_authenticate(token) == tenant_a.gateway


def test_each_token_reaches_only_its_own_gateway(tenant_a, tenant_b):
    token_a, token_b = gateway_issue_token(tenant_a.gateway), gateway_issue_token(tenant_b.gateway)
    assert gateway_authenticate(token_a).site.organization == tenant_a.organization
    assert gateway_authenticate(token_b).site.organization == tenant_b.organization


def test_a_revoked_token_no_longer_authenticates(tenant_a):
    token = gateway_issue_token(tenant_a.gateway)
    gateway_revoke_token(tenant_a.gateway)
    assert gateway_authenticate(token) is None
    assert not tenant_a.gateway.has_active_token


def test_issuing_a_new_token_retires_the_old_one(tenant_a):
    old = gateway_issue_token(tenant_a.gateway)
    new = gateway_issue_token(tenant_a.gateway)
    assert gateway_authenticate(old) is None
    assert gateway_authenticate(new) == tenant_a.gateway


@pytest.mark.parametrize("token", ["", "fgw_", "fgw_not-a-real-token", "Bearer something"])
def test_unknown_tokens_are_refused(tenant_a, token):
    gateway_issue_token(tenant_a.gateway)
    assert gateway_authenticate(token) is None
