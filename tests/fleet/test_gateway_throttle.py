"""The sync API's rate limit counts per gateway, in the cache all web processes share, and never lets a burst through.

The throttles below stand for separate web processes: each is its own object
with nothing in common but the suite's real Redis (the production cache).
"""

from __future__ import annotations

import threading
from types import SimpleNamespace

import pytest
from django.core.cache import cache

from fleet.models import Gateway
from fleet.node_header import NODE_HEADER, node_name
from fleet.services.gateway_tokens import gateway_issue_token
from fleet.sync.throttling import GatewayRateThrottle

pytestmark = pytest.mark.django_db


class TenPerHour(GatewayRateThrottle):
    rate = "10/hour"


def request_of(gateway: Gateway) -> SimpleNamespace:
    """What the throttle reads of a request: the authenticated gateway."""
    return SimpleNamespace(auth=gateway)


@pytest.fixture(autouse=True)
def empty_cache(redis_server):
    cache.clear()
    yield
    cache.clear()


def test_the_cache_is_redis_when_redis_url_is_set(settings):
    assert settings.CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache"


def test_each_gateway_has_its_own_budget(tenant_a, tenant_b):
    throttle = TenPerHour()
    assert all(throttle.allow_request(request_of(tenant_a.gateway), None) for _ in range(10))
    assert not throttle.allow_request(request_of(tenant_a.gateway), None)
    assert throttle.allow_request(request_of(tenant_b.gateway), None), "gateway B paid for gateway A's requests"


def test_requests_to_different_web_processes_count_against_one_budget(tenant_a):
    first_process, second_process = TenPerHour(), TenPerHour()
    for _ in range(5):
        assert first_process.allow_request(request_of(tenant_a.gateway), None)
        assert second_process.allow_request(request_of(tenant_a.gateway), None)
    assert not first_process.allow_request(request_of(tenant_a.gateway), None)
    assert not second_process.allow_request(request_of(tenant_a.gateway), None)
    assert 0 < second_process.wait() <= 3600


def test_a_concurrent_burst_gets_exactly_the_budget(tenant_a):
    """Forty requests at once from one gateway: ten pass, whatever their interleaving (one atomic counter)."""
    start = threading.Barrier(40)
    allowed: list[bool] = []

    def one_request() -> None:
        throttle = TenPerHour()
        start.wait()
        allowed.append(throttle.allow_request(request_of(tenant_a.gateway), None))

    threads = [threading.Thread(target=one_request) for _ in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert allowed.count(True) == 10 and len(allowed) == 40


def test_a_request_without_a_gateway_is_left_to_authentication():
    assert TenPerHour().allow_request(SimpleNamespace(auth=None), None)


def test_the_sync_api_answers_429_with_retry_after_past_the_budget(client, tenant_a, monkeypatch):
    monkeypatch.setattr(GatewayRateThrottle, "rate", "3/hour", raising=False)
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {gateway_issue_token(tenant_a.gateway)}"
    statuses = [client.get("/api/gateway/v1/config").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    refused = client.get("/api/gateway/v1/config")
    assert 0 < int(refused["Retry-After"]) <= 3600


def test_every_answer_names_the_process_that_served_it(client):
    response = client.get("/api/schema/")
    assert response[NODE_HEADER] == node_name()
    host, _, pid = node_name().rpartition(":")
    assert host and int(pid) > 0


def test_each_windows_counter_expires_soon_after_its_window(tenant_a, settings):
    """A counter never outlives its window by much: ten thousand gateways leave no pile of old keys in Redis."""
    import redis

    throttle = TenPerHour()
    assert throttle.allow_request(request_of(tenant_a.gateway), None)
    key = cache.make_and_validate_key(throttle.get_cache_key(request_of(tenant_a.gateway), None))
    ttl_s = redis.Redis.from_url(settings.REDIS_URL).ttl(key)
    assert 3600 < ttl_s <= 3605 and cache.get(throttle.get_cache_key(request_of(tenant_a.gateway), None)) == 1
