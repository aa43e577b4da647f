"""Queueing deliveries: one row per (incident edge, channel), never two; reminders; what is due.

The idempotency key names the incident, which occurrence of it, the
transition and the channel; `delivery_unique_idempotency_key` makes a second
insert of the same key a no-op, so a transition dispatched twice, or a
reminder computed twice, queues one delivery. Which transitions become
deliveries is the dispatcher's business (fleet/services/notifications_dispatch.py).
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from fleet.models import Delivery, DeliveryStatus, Incident, IncidentStatus, NotificationChannel, Transition
from fleet.services.incidents_acknowledge import unacknowledged_q


def delivery_key(incident_id: int, occurrence: int, transition: str, channel_id: int, reminder: int = 0) -> str:
    """The idempotency key of one transition on one channel."""
    suffix = f"-{reminder}" if transition == Transition.REMINDER else ""
    return f"incident-{incident_id}-o{occurrence}-{transition}{suffix}-ch{channel_id}"


def deliveries_queue(rows: list[Delivery]) -> list[int]:
    """Insert the deliveries not yet known by key; return the ids of those still pending."""
    if not rows:
        return []
    Delivery.objects.bulk_create(rows, ignore_conflicts=True)
    keys = [row.idempotency_key for row in rows]
    return list(Delivery.objects.filter(idempotency_key__in=keys, status=DeliveryStatus.PENDING).values_list("pk", flat=True))


def notifications_enqueue_reminders(*, now: datetime | None = None) -> list[int]:
    """Queue a reminder on each channel for every open incident that has been open another repeat interval.

    Reminders are numbered by how many whole intervals the current occurrence
    has lasted, so re-running this at any moment queues each one once. Meter
    incidents folded into an open gateway incident stay quiet: the gateway's
    reminders speak for them. So do incidents someone acknowledged in their
    current occurrence (fleet/services/incidents_acknowledge.py).
    """
    now = now or timezone.now()
    default_interval_s = settings.ALERTS_REPEAT_INTERVAL_S
    incidents = list(
        Incident.objects.filter(status=IncidentStatus.OPEN)
        .filter(Q(folded_into__isnull=True) | ~Q(folded_into__status=IncidentStatus.OPEN))
        .filter(unacknowledged_q())
        .values_list("pk", "organization_id", "occurrences", "last_opened_at")
    )
    if not incidents:
        return []
    channels: dict[int, list[tuple[int, int]]] = {}
    for channel_id, organization_id, interval_s in NotificationChannel.objects.filter(
        is_active=True, organization_id__in={row[1] for row in incidents}
    ).values_list("pk", "organization_id", "repeat_interval_s"):
        channels.setdefault(organization_id, []).append((channel_id, interval_s or default_interval_s))
    rows = []
    for incident_id, organization_id, occurrences, last_opened_at in incidents:
        open_s = (now - last_opened_at).total_seconds()
        for channel_id, interval_s in channels.get(organization_id, []):
            number = int(open_s // interval_s)
            if number >= 1:
                rows.append(
                    Delivery(
                        channel_id=channel_id, incident_id=incident_id, transition=Transition.REMINDER,
                        next_attempt_at=now, created_at=now,
                        idempotency_key=delivery_key(incident_id, occurrences, Transition.REMINDER, channel_id, number),
                    )
                )
    return deliveries_queue(rows)


def notifications_due(*, now: datetime | None = None) -> list[int]:
    """Ids of deliveries to attempt now: pending ones whose time has come, and ones a dead worker left behind."""
    now = now or timezone.now()
    # A worker that died mid-send leaves its claim; after the lease the delivery is tried again
    # (the receiver can tell by the unchanged X-FuseGuard-Delivery key).
    Delivery.objects.filter(status=DeliveryStatus.SENDING, lease_until__lt=now).update(
        status=DeliveryStatus.PENDING, lease_until=None, next_attempt_at=now
    )
    return list(
        Delivery.objects.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[:1000]
    )
