"""Queueing deliveries: one row per notification, never two; which are due; reclaiming a dead worker's.

The idempotency key names what the notification is about and its number (a
group's n-th notification, fleet/services/notifications_groups.py) and the
channel; `delivery_unique_idempotency_key` makes a second insert of the same
key a no-op. Which notifications are made is the dispatcher's business
(fleet/services/notifications_dispatch.py).
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.db.models import F
from django.utils import timezone

from fleet.models import Delivery, DeliveryStatus

log = logging.getLogger(__name__)


def delivery_key(incident_id: int, occurrence: int, transition: str, channel_id: int) -> str:
    """The idempotency key of one incident's transition on one channel (notifications made before grouping)."""
    return f"incident-{incident_id}-o{occurrence}-{transition}-ch{channel_id}"


def deliveries_queue(rows: list[Delivery]) -> list[int]:
    """Insert the deliveries not yet known by key; return the ids of those still pending."""
    if not rows:
        return []
    Delivery.objects.bulk_create(rows, ignore_conflicts=True)
    keys = [row.idempotency_key for row in rows]
    return list(Delivery.objects.filter(idempotency_key__in=keys, status=DeliveryStatus.PENDING).values_list("pk", flat=True))


def notifications_due(*, now: datetime | None = None) -> list[int]:
    """Ids of deliveries to attempt now: pending ones whose time has come, and ones a dead worker left behind."""
    now = now or timezone.now()
    # A worker that died mid-send leaves its claim; after the lease the delivery is tried again
    # (the receiver can tell by the unchanged X-FuseGuard-Delivery key).
    _release(Delivery.objects.filter(status=DeliveryStatus.SENDING, lease_until__lt=now), now)
    return list(
        Delivery.objects.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[:1000]
    )


def deliveries_release_node(node: str, *, now: datetime | None = None) -> int:
    """Void the claims of a Celery node that has just started: its former process died mid-send; how many were freed.

    Node names are unique among running workers (Celery warns of a clash),
    so a claim under this node's name belongs to a process that no longer
    runs, and waiting out its lease would only delay the notification.
    """
    now = now or timezone.now()
    released = _release(Delivery.objects.filter(status=DeliveryStatus.SENDING, claimed_by=node), now)
    if released:
        log.warning("%s delivery(ies) claimed by the previous run of %s released for another attempt", released, node)
    return released


def _release(claims, now: datetime) -> int:
    # The attempt was cut off, not refused by the receiver: it does not count toward the back-off.
    return claims.update(
        status=DeliveryStatus.PENDING, lease_until=None, claimed_by="", next_attempt_at=now, attempts=F("attempts") - 1
    )
