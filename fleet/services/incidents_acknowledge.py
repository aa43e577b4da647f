"""Acknowledging an incident: someone has taken it on, so reminders stop; its resolution is still announced.

One conditional UPDATE records who, when and their note only where the
incident is open and its current occurrence not yet acknowledged, so two
operators pressing at once, or a retried API call, leave the first
acknowledgement in place (idempotent). A notification group repeats only
while one of its open incidents is unacknowledged
(`notifications_groups.group_flush`); openings and resolutions are told
whatever the acknowledgement.
"""

from __future__ import annotations

import enum
from datetime import datetime

from django.db.models import F, Q
from django.utils import timezone

from fleet.models import Incident, IncidentStatus

MAX_NOTE_LENGTH = 1000


class AckOutcome(enum.Enum):
    """What an acknowledgement did."""

    ACKNOWLEDGED = "acknowledged"
    ALREADY_ACKNOWLEDGED = "already_acknowledged"
    RESOLVED = "resolved"


def unacknowledged_q() -> Q:
    """Incidents whose current occurrence nobody has acknowledged (an earlier occurrence's acknowledgement does not count)."""
    return Q(acknowledged_at__isnull=True) | Q(acknowledged_at__lt=F("last_opened_at"))


def incident_acknowledge(incident: Incident, user, note: str = "", *, now: datetime | None = None) -> AckOutcome:
    """Record that `user` took the open `incident` on, with their note; refresh `incident` from the database."""
    now = now or timezone.now()
    changed = (
        Incident.objects.filter(pk=incident.pk, status=IncidentStatus.OPEN)
        .filter(unacknowledged_q())
        .update(acknowledged_at=now, acknowledged_by=user, acknowledgement_note=note.strip())
    )
    incident.refresh_from_db()
    if changed:
        return AckOutcome.ACKNOWLEDGED
    return AckOutcome.RESOLVED if incident.status == IncidentStatus.RESOLVED else AckOutcome.ALREADY_ACKNOWLEDGED
