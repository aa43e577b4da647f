"""The sync API's rate limit holds for each gateway on its own: one busy gateway never throttles the fleet."""

import pytest
from django.core.cache import cache

from fleet.services.gateway_tokens import gateway_issue_token
from fleet.sync.views import GatewayRateThrottle

pytestmark = pytest.mark.django_db

CONFIG_URL = "/api/gateway/v1/config"


@pytest.fixture
def three_a_minute(monkeypatch):
    monkeypatch.setattr(GatewayRateThrottle, "THROTTLE_RATES", {"gateway": "3/min"})
    cache.clear()
    yield
    cache.clear()


def fetch(client, token):
    return client.get(CONFIG_URL, HTTP_AUTHORIZATION=f"Bearer {token}").status_code


def test_a_gateway_past_its_rate_is_throttled_and_another_gateway_is_not(client, tenant_a, tenant_b, three_a_minute):
    busy, quiet = gateway_issue_token(tenant_a.gateway), gateway_issue_token(tenant_b.gateway)

    assert [fetch(client, busy) for _ in range(4)] == [200, 200, 200, 429]
    assert fetch(client, quiet) == 200
