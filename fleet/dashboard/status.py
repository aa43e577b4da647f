"""The state an operator sees for a site or network, derived from the latest facts by one pure rule.

Kept free of queries so that the rule can be read, and tested, as a table.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import models

DEFAULT_GATEWAY_GRACE_PERIOD_S = 120
"""Silence after which a gateway counts as offline where the alerts settings do not say otherwise."""


class SiteStatus(models.TextChoices):
    """What is wrong with a site, worst first in `SEVERITY`."""

    GATEWAY_OFFLINE = "gateway_offline", "Gateway offline"
    METER_LOST = "meter_lost", "Meter lost"
    FALLBACK = "fallback", "Fallback"
    NORMAL = "normal", "Normal"


SEVERITY: dict[str, int] = {status: rank for rank, status in enumerate(SiteStatus.values)}
"""Lower is worse: a silent gateway hides everything behind it, a lost meter explains a fallback."""


STALE_AFTER_S = 15
"""Age from which a reading is marked stale on the pages: a gateway polls every second and uploads every
2 s by default, so 15 s means several uploads missed, or the device stopped answering."""


def freshness_limit_s(poll_intervals_s: Iterable[float]) -> float:
    """How old a site's readings may be before they are marked stale: a slow-polling gateway gets three polls."""
    return max([float(STALE_AFTER_S), *(3 * interval for interval in poll_intervals_s)])


def reading_is_stale(read_at: datetime | None, now: datetime, limit_s: float, *, lost: bool = False) -> bool:
    """A reading is stale when older than the limit, or when its source is reported lost (it shows the last value)."""
    return lost or (read_at is not None and (now - read_at).total_seconds() > limit_s)


def gateway_grace_period_s() -> int:
    """The alerts' grace period for silent gateways, so the dashboard and the incidents agree."""
    return int(getattr(settings, "ALERTS_GATEWAY_GRACE_PERIOD_S", DEFAULT_GATEWAY_GRACE_PERIOD_S))


def gateway_is_offline(last_seen: datetime | None, now: datetime, grace_s: int) -> bool:
    """A gateway never heard from, or silent for longer than the grace period, is offline."""
    return last_seen is None or now - last_seen > timedelta(seconds=grace_s)


@dataclass(frozen=True)
class NetworkFacts:
    """The latest known facts about one charging network."""

    mode: str | None  # NetworkState.mode; None before the first sample
    meter_available: bool | None  # MeterState.available; None without meter or before the first reading


def network_status(facts: NetworkFacts) -> SiteStatus:
    """Meter lost beats fallback: the lost meter is the reason the network runs on its fallback power."""
    if facts.meter_available is False:
        return SiteStatus.METER_LOST
    if facts.mode == "fallback":
        return SiteStatus.FALLBACK
    return SiteStatus.NORMAL


def site_status(
    gateways_last_seen: Iterable[datetime | None], networks: Iterable[NetworkFacts], now: datetime, grace_s: int
) -> SiteStatus:
    """The worst state of a site's gateways and networks.

    A site without any gateway, or with one that is silent, is offline: what its
    networks last reported may no longer be true, so it must not look normal.
    """
    last_seen = list(gateways_last_seen)
    if not last_seen or any(gateway_is_offline(seen, now, grace_s) for seen in last_seen):
        return SiteStatus.GATEWAY_OFFLINE
    return worst(network_status(facts) for facts in networks)


def worst(statuses: Iterable[SiteStatus]) -> SiteStatus:
    """The most severe of several states; normal when there are none."""
    return min(statuses, key=SEVERITY.__getitem__, default=SiteStatus.NORMAL)
