"""Turning incident transitions into deliveries: who hears about each edge the evaluation recorded.

The evaluation (fleet/services/alerts_evaluate.py) only records what changed,
as `IncidentTransition` rows; this dispatcher decides who is told. Today that
is one delivery per notifying transition on each active channel of the
incident's organisation, keyed by `delivery_key` (a reopening is announced as
an opening of its occurrence); a fold is quiet, since the gateway's incident
speaks for its meters. Grouping per channel (group_wait, group_interval,
inhibition by fleet-wide outages) is meant to be a change of this module
alone: it sees every unprocessed edge, in order, before anyone is told.

Several workers may dispatch at once. Each claims a batch of unprocessed
transitions with SELECT ... FOR UPDATE SKIP LOCKED, queues their deliveries
and marks them processed in one transaction, so every transition is handled
by exactly one run, and one whose worker died before committing is handled by
the next. SQLite (the demo) has no row locks; it serialises writers, and the
unique delivery keys keep every delivery single even if two runs overlap.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from fleet.models import Delivery, Incident, IncidentTransition, IncidentTransitionKind, NotificationChannel, Transition
from fleet.services.notifications_enqueue import deliveries_queue, delivery_key

BATCH_SIZE = 500
"""Transitions claimed per transaction: a mass outage is handed out in a few short transactions, not one long one."""

ANNOUNCED_AS = {
    IncidentTransitionKind.OPENED: Transition.OPENED,
    IncidentTransitionKind.REOPENED: Transition.OPENED,
    IncidentTransitionKind.RESOLVED: Transition.RESOLVED,
}
"""What a channel is told for each kind of edge; kinds missing here (a fold) are processed without a delivery."""


@dataclass
class DispatchResult:
    """What one dispatcher run did: the transitions it processed and the pending deliveries they queued."""

    transition_ids: list[int] = field(default_factory=list)
    delivery_ids: list[int] = field(default_factory=list)


def notifications_dispatch(*, now: datetime | None = None, batch_size: int = BATCH_SIZE) -> DispatchResult:
    """Turn every unprocessed incident transition into its deliveries and mark it processed, one batch per transaction."""
    now = now or timezone.now()
    result = DispatchResult()
    while _dispatch_batch(now, batch_size, result) == batch_size:
        pass  # a full batch: more may be waiting
    return result


def _dispatch_batch(now: datetime, batch_size: int, result: DispatchResult) -> int:
    """Claim up to `batch_size` transitions no other run holds, queue their deliveries, mark them; how many were claimed."""
    with transaction.atomic():
        batch = list(
            IncidentTransition.objects.select_for_update(skip_locked=True)
            .filter(processed_at__isnull=True)
            .order_by("pk")
            .values_list("pk", "incident_id", "kind", "occurrence")[:batch_size]
        )
        if not batch:
            return 0
        delivery_ids = deliveries_queue(_deliveries(batch, now))
        claimed = [pk for pk, *_ in batch]
        IncidentTransition.objects.filter(pk__in=claimed).update(processed_at=now)
    result.transition_ids += claimed
    result.delivery_ids += delivery_ids
    return len(batch)


def _deliveries(batch: list[tuple[int, int, str, int]], now: datetime) -> list[Delivery]:
    """One delivery per notifying transition and active channel of the incident's organisation."""
    announced = [
        (incident_id, ANNOUNCED_AS[kind], occurrence) for _, incident_id, kind, occurrence in batch if kind in ANNOUNCED_AS
    ]
    if not announced:
        return []
    organization_of = dict(
        Incident.objects.filter(pk__in={incident_id for incident_id, _, _ in announced}).values_list("pk", "organization_id")
    )
    channels: dict[int, list[int]] = {}
    for channel_id, organization_id in NotificationChannel.objects.filter(
        is_active=True, organization_id__in=set(organization_of.values())
    ).values_list("pk", "organization_id"):
        channels.setdefault(organization_id, []).append(channel_id)
    return [
        Delivery(
            channel_id=channel_id, incident_id=incident_id, transition=transition, next_attempt_at=now, created_at=now,
            idempotency_key=delivery_key(incident_id, occurrence, transition, channel_id),
        )
        for incident_id, transition, occurrence in announced
        for channel_id in channels.get(organization_of.get(incident_id), [])  # a deleted incident: nobody
    ]
