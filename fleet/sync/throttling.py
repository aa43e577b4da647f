"""The sync API's rate limit: one counter per gateway and window, in the cache every web process shares.

DRF's `ScopedRateThrottle` keys its history by `request.user.pk`, which a
gateway principal does not have: every gateway of the fleet shared one bucket,
so ten thousand gateways had 36,000 requests an hour between them. It also
reads the whole request history (a list of timestamps) from the cache and
writes it back, so concurrent requests on several web processes overwrite each
other's entries and each request moves the whole list through Redis.

Here each gateway has its own counter per fixed window of the rate's period,
raised with the cache's atomic increment (Redis INCR, a locked dict in
LocMemCache for the demo): whatever the number of web processes, a gateway gets
at most the configured number of requests per window, and each request costs
one small counter.

On Redis the counter is created with its expiry and raised in one MULTI/EXEC
round trip, where the cache API's add and incr take three (incr asks whether
the key exists first): the throttle runs on every sync request.
"""

from __future__ import annotations

import time

from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache
from rest_framework.throttling import SimpleRateThrottle

# A counter outlives its window by this much, so a late increment never recreates an expired one.
_EXPIRY_MARGIN_S = 5


class GatewayRateThrottle(SimpleRateThrottle):
    """At most API_THROTTLE_GATEWAY requests per gateway and window, counted across all web processes."""

    scope = "gateway"
    cache = cache
    timer = time.time

    def get_cache_key(self, request, view) -> str | None:
        """The counter of the calling gateway in the current window; None (not throttled) without a gateway."""
        gateway = getattr(request, "auth", None)
        if getattr(gateway, "pk", None) is None:
            return None
        self.window_start = int(self.timer() // self.duration) * self.duration
        return f"throttle:{self.scope}:{gateway.pk}:{self.window_start}"

    def allow_request(self, request, view) -> bool:
        if self.rate is None:
            return True
        key = self.get_cache_key(request, view)
        if key is None:
            return True
        timeout_s = self.duration + _EXPIRY_MARGIN_S
        redis = _redis_client(self.cache, key)
        if redis is not None:
            self.count = _redis_count(redis, self.cache.make_and_validate_key(key), timeout_s)
            return self.count <= self.num_requests
        self.cache.add(key, 0, timeout_s)
        try:
            self.count = self.cache.incr(key)
        except ValueError:  # evicted between add and incr: this request opens the window again
            self.cache.add(key, 1, timeout_s)
            self.count = 1
        return self.count <= self.num_requests

    def wait(self) -> float:
        """Seconds until the window ends and the gateway may send again (the Retry-After header)."""
        return max(0.0, self.window_start + self.duration - self.timer())


def _redis_client(shared_cache, key: str):
    """The redis-py client behind the shared cache when it is Django's Redis cache, else None (LocMemCache)."""
    backend = caches["default"] if shared_cache is cache else shared_cache
    if not isinstance(backend, RedisCache):
        return None
    # Django's own client wrapper (`_cache`) picks the server for the key; its interface is stable since Django 4.0.
    return backend._cache.get_client(key, write=True)


def _redis_count(redis, full_key: str, timeout_s: int) -> int:
    """Create the window's counter with its expiry if absent and raise it, atomically and in one round trip."""
    pipe = redis.pipeline(transaction=True)
    pipe.set(full_key, 0, ex=timeout_s, nx=True)
    pipe.incr(full_key)
    return pipe.execute()[1]
