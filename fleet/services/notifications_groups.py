"""Flushing notification groups: what is new in a group since its last notification, and the one delivery that says so.

Each member remembers what its channel was last told (`announced`). When a
group's time comes, its incidents are read as they are now: open, folded
into an open incident (explained by it, so quiet), or resolved. An incident
newly open, or one announced open that has since resolved, is news: the
group makes one delivery listing all of its incidents. Without news, a group
with open incidents repeats after repeat_interval; otherwise nothing is sent.
A notification lists what is open, what is explained by another incident,
and what it had told as open that has since resolved; an incident opened and
resolved before anyone was told stays quiet altogether. Resolved members
leave the group after the flush; an empty group starts afresh, with
group_wait, the next time.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction

from fleet.models import (
    Announced,
    Delivery,
    IncidentStatus,
    NotificationChannel,
    NotificationGroup,
    NotificationGroupMember,
    Transition,
)
from fleet.services.notifications_enqueue import deliveries_queue
from fleet.services.notifications_payload import FIRING, FOLDED, RESOLVED, group_payload

log = logging.getLogger(__name__)

FLUSH_BATCH_SIZE = 50
"""Groups flushed per transaction: each may list thousands of incidents."""


def group_key(group: NotificationGroup, number: int) -> str:
    """The idempotency key of a group's n-th notification on its channel."""
    return f"group-{group.pk}-n{number}-ch{group.channel_id}"


def group_timers_s(channel: NotificationChannel) -> tuple[int, int, int]:
    """A channel's (group_wait, group_interval, repeat_interval) in seconds, its own or the server's defaults."""
    return (
        settings.NOTIFICATIONS_GROUP_WAIT_S if channel.group_wait_s is None else channel.group_wait_s,
        channel.group_interval_s or settings.NOTIFICATIONS_GROUP_INTERVAL_S,
        channel.repeat_interval_s or settings.ALERTS_REPEAT_INTERVAL_S,
    )


def groups_flush_due(*, now: datetime, batch_size: int = FLUSH_BATCH_SIZE) -> list[int]:
    """Flush every group whose time has come; the ids of the pending deliveries made."""
    delivery_ids: list[int] = []
    while True:
        with transaction.atomic():
            groups = list(
                NotificationGroup.objects.select_for_update(skip_locked=True, of=("self",))
                .filter(next_flush_at__lte=now)
                .select_related("channel", "organization")
                .order_by("next_flush_at", "pk")[:batch_size]
            )
            deliveries = [delivery for delivery in (group_flush(group, now) for group in groups) if delivery is not None]
            delivery_ids += deliveries_queue(deliveries)
        if len(groups) < batch_size:
            return delivery_ids


def _state(member: NotificationGroupMember) -> str:
    incident = member.incident
    if incident.status == IncidentStatus.RESOLVED:
        return RESOLVED
    if incident.folded_into_id is not None and incident.folded_into.status == IncidentStatus.OPEN:
        return FOLDED
    return FIRING


def group_flush(group: NotificationGroup, now: datetime) -> Delivery | None:
    """Decide what a due group says now (called with its row locked): its delivery, or None; reschedule it."""
    members = list(
        group.members.select_related(
            "incident__organization", "incident__site", "incident__gateway", "incident__meter__network",
            "incident__folded_into",
        )
    )
    states = [(member, _state(member)) for member in members]
    new_firing = [member for member, state in states if state == FIRING and member.announced != Announced.FIRING]
    newly_resolved = [member for member, state in states if state == RESOLVED and member.announced == Announced.FIRING]
    firing = [member for member, state in states if state == FIRING]
    # Someone acknowledged them: no more reminders for these (their resolution is still told).
    unacknowledged = [member for member in firing if not member.incident.is_acknowledged]
    _, _, repeat_s = group_timers_s(group.channel)
    repeat_due = group.last_notified_at is not None and now >= group.last_notified_at + timedelta(seconds=repeat_s)

    if new_firing:
        transition = Transition.OPENED
    elif newly_resolved:
        transition = Transition.UPDATED if firing else Transition.RESOLVED
    elif unacknowledged and repeat_due:
        transition = Transition.REMINDER
    else:
        transition = None

    delivery = None
    if transition is not None:
        group.notifications += 1
        key = group_key(group, group.notifications)
        listed = [
            (member.incident, state, state == FIRING and member.announced != Announced.FIRING)
            for member, state in states
            if state != RESOLVED or member.announced == Announced.FIRING
        ]
        payload = group_payload(group, listed, transition, key)
        delivery = Delivery(
            channel_id=group.channel_id, group=group, transition=transition, payload=payload, idempotency_key=key,
            next_attempt_at=now, created_at=now,
        )
        group.last_notified_at = now
        log.info("group %s: %s (%s)", group.pk, transition, payload["summary"])

    resolved = [member.pk for member, state in states if state == RESOLVED]
    if resolved:
        NotificationGroupMember.objects.filter(pk__in=resolved).delete()
    for state, announced in ((FIRING, Announced.FIRING), (FOLDED, Announced.FOLDED)):
        stale = [member.pk for member, member_state in states if member_state == state and member.announced != announced]
        if stale:
            NotificationGroupMember.objects.filter(pk__in=stale).update(announced=announced)

    remaining = len(states) - len(resolved)
    if firing and group.last_notified_at is not None:
        next_flush_at = group.last_notified_at + timedelta(seconds=repeat_s)
    else:
        next_flush_at = None  # nothing open to repeat; the next change schedules the group again
    NotificationGroup.objects.filter(pk=group.pk).update(
        pending_since=None, next_flush_at=next_flush_at, notifications=group.notifications,
        last_notified_at=group.last_notified_at if remaining else None,
    )
    return delivery
