"""Turning incident transitions into grouped notifications: who hears about what, and when (the Alertmanager's model).

The evaluation (fleet/services/alerts_evaluate.py) only records what changed,
as `IncidentTransition` rows; this dispatcher decides who is told. A run has
two steps:

1. Absorb: every unprocessed transition puts its incident into one group per
   active channel of its organisation (the channel's `group_by` labels: site,
   kind, severity) and marks the group as changed. A new group is looked at
   `group_wait` later, to collect the burst; a group that has notified before
   waits until `group_interval` after its last notification.
2. Flush (fleet/services/notifications_groups.py): every group whose time has
   come becomes at most one delivery that lists all its incidents with counts,
   opened and resolved alike; a group with open incidents and no change repeats
   after `repeat_interval`.

A fold is quiet: the incident that explains the folded one speaks for it, and
a group whose changes are all folds sends nothing.

Several workers may dispatch at once. Transitions are claimed with SELECT ...
FOR UPDATE SKIP LOCKED and marked processed in the transaction that files
them into groups; groups are locked while they are changed or flushed, and
each notification's key carries the group's notification number, so every
notification is made once. SQLite (the demo) has no row locks; it serialises
writers, and the unique keys keep every delivery single.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from fleet.models import (
    SEVERITY_OF_KIND,
    Incident,
    IncidentTransition,
    IncidentTransitionKind,
    NotificationChannel,
    NotificationGroup,
    NotificationGroupMember,
)
from fleet.services.notifications_groups import group_timers_s, groups_flush_due

BATCH_SIZE = 500
"""Transitions claimed per transaction: a mass outage is handed out in a few short transactions, not one long one."""

QUIET_KINDS = {IncidentTransitionKind.FOLDED}
"""Edges that file their incident into its groups without making the group tell anyone."""


@dataclass
class DispatchResult:
    """What one dispatcher run did: the transitions it processed and the pending deliveries it made."""

    transition_ids: list[int] = field(default_factory=list)
    delivery_ids: list[int] = field(default_factory=list)


def notifications_dispatch(*, now: datetime | None = None, batch_size: int = BATCH_SIZE) -> DispatchResult:
    """File every unprocessed transition into its groups, then make the notifications of the groups that are due."""
    now = now or timezone.now()
    result = DispatchResult()
    while _absorb_batch(now, batch_size, result) == batch_size:
        pass  # a full batch: more may be waiting
    result.delivery_ids += groups_flush_due(now=now)
    return result


def group_labels(channel: NotificationChannel, site_id: int | None, kind: str) -> dict[str, str]:
    """The labels that name an incident's group on a channel (an outage, spanning sites, has an empty site)."""
    values = {"site": "" if site_id is None else str(site_id), "kind": kind, "severity": SEVERITY_OF_KIND.get(kind, "warning")}
    return {label: values[label] for label in channel.group_labels}


def _absorb_batch(now: datetime, batch_size: int, result: DispatchResult) -> int:
    """Claim up to `batch_size` transitions no other run holds, file them into groups, mark them; how many were claimed."""
    with transaction.atomic():
        batch = list(
            IncidentTransition.objects.select_for_update(skip_locked=True)
            .filter(processed_at__isnull=True)
            .order_by("pk")
            .values_list("pk", "incident_id", "kind")[:batch_size]
        )
        if not batch:
            return 0
        _file_into_groups(batch, now)
        claimed = [pk for pk, _, _ in batch]
        IncidentTransition.objects.filter(pk__in=claimed).update(processed_at=now)
    result.transition_ids += claimed
    return len(batch)


def _file_into_groups(batch: list[tuple[int, int, str]], now: datetime) -> None:
    """Make each transition's incident a member of its group on every active channel; schedule changed groups."""
    loud = {incident_id for _, incident_id, kind in batch if kind not in QUIET_KINDS}
    incidents = {
        pk: (organization_id, site_id, kind)
        for pk, organization_id, site_id, kind in Incident.objects.filter(
            pk__in={incident_id for _, incident_id, _ in batch}
        ).values_list("pk", "organization_id", "site_id", "kind")
    }  # a deleted incident: nobody hears of it
    channels: dict[int, list[NotificationChannel]] = {}
    for channel in NotificationChannel.objects.filter(
        is_active=True, organization_id__in={row[0] for row in incidents.values()}
    ):
        channels.setdefault(channel.organization_id, []).append(channel)

    wanted: dict[tuple[int, str], NotificationGroup] = {}
    membership: list[tuple[tuple[int, str], int]] = []
    for incident_id, (organization_id, site_id, kind) in incidents.items():
        for channel in channels.get(organization_id, []):
            labels = group_labels(channel, site_id, kind)
            key = ",".join(f"{label}={value}" for label, value in labels.items())
            wanted.setdefault(
                (channel.pk, key),
                NotificationGroup(channel=channel, organization_id=organization_id, key=key, labels=labels, created_at=now),
            )
            membership.append(((channel.pk, key), incident_id))
    if not wanted:
        return
    NotificationGroup.objects.bulk_create(wanted.values(), ignore_conflicts=True)
    # Locked in id order, as every dispatcher does, so a flush of the same groups waits instead of interleaving.
    groups = {
        (group.channel_id, group.key): group
        for group in NotificationGroup.objects.select_for_update()
        .filter(channel_id__in={channel_id for channel_id, _ in wanted}, key__in={key for _, key in wanted})
        .order_by("pk")
        if (group.channel_id, group.key) in wanted
    }
    NotificationGroupMember.objects.bulk_create(
        [NotificationGroupMember(group=groups[group_key], incident_id=incident_id) for group_key, incident_id in membership],
        ignore_conflicts=True,
    )
    changed = {group_key for group_key, incident_id in membership if incident_id in loud}
    for group_key in sorted(changed, key=lambda group_key: groups[group_key].pk):
        _schedule(groups[group_key], wanted[group_key].channel, now)


def _schedule(group: NotificationGroup, channel: NotificationChannel, now: datetime) -> None:
    """Mark a group changed and bring its next look forward: group_wait when it starts, group_interval after a notification."""
    if group.pending_since is not None:
        return  # already waiting; this change goes out with the others
    wait_s, interval_s, _ = group_timers_s(channel)
    if group.last_notified_at is None:
        soon = now + timedelta(seconds=wait_s)
    else:
        soon = max(now, group.last_notified_at + timedelta(seconds=interval_s))
    next_flush_at = soon if group.next_flush_at is None else min(group.next_flush_at, soon)
    NotificationGroup.objects.filter(pk=group.pk).update(pending_since=now, next_flush_at=next_flush_at)
