"""How often a sync call writes the gateway's last contact time when nothing else about it changed.

`Gateway.last_seen` feeds the "gateway silent" alert and the dashboard's
offline badge, both with the grace period ALERTS_GATEWAY_GRACE_PERIOD_S
(120 s by default: minutes, not seconds). A gateway polls its config every
few seconds, so writing the time on every 304 answer is an UPDATE (and a dead
row for vacuum) per poll that tells nobody anything. Written at most once a
refresh interval, the stored time lags the truth by less than that interval,
which is kept to a quarter of the grace period (at most 60 s): a gateway
never looks silent while it is polling.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings

MAX_REFRESH_S = 60


def last_seen_refresh_s() -> float:
    """Seconds a stored last contact time may lag: a quarter of the alerts' grace period, at most a minute."""
    return min(MAX_REFRESH_S, settings.ALERTS_GATEWAY_GRACE_PERIOD_S / 4)


def last_seen_is_fresh(last_seen: datetime | None, now: datetime) -> bool:
    """Whether the stored time is recent enough that writing `now` over it can wait (never for a time ahead of now)."""
    return last_seen is not None and timedelta(0) <= now - last_seen < timedelta(seconds=last_seen_refresh_s())
