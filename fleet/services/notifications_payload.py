"""What a notification says: the facts of each incident, and a group's summary with counts, as JSON-able data.

A group's notification is made once, when the dispatcher flushes the group,
and stored on its delivery, so every retry sends the same words; only
`sent_at` is added at sending. The e-mail text is made from the same data.
The schema is docs/webhooks/notification.schema.json.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from django.conf import settings

from fleet.models import Incident, IncidentKind, NotificationGroup

PAYLOAD_VERSION = 2
"""Version of the webhook body: 2 added groups (`group`, `summary`, `counts`, `incidents`); `incident` stays for one."""

FIRING, FOLDED, RESOLVED = "firing", "folded", "resolved"
"""An incident's state as a notification lists it: open, open but explained by another incident, or resolved."""

_NOUNS = {
    IncidentKind.METER_LOST: ("meter lost", "meters lost", "meter back", "meters back"),
    IncidentKind.GATEWAY_OFFLINE: ("gateway offline", "gateways offline", "gateway online again", "gateways online again"),
    IncidentKind.CONNECTIVITY_OUTAGE: (
        "connectivity outage", "connectivity outages", "connectivity outage over", "connectivity outages over"
    ),
}


def iso(value: datetime | None) -> str | None:
    """A timestamp as RFC 3339 UTC with a Z, as everywhere on the wire."""
    return None if value is None else value.isoformat().replace("+00:00", "Z")


def incident_facts(incident: Incident) -> dict[str, Any]:
    """One incident as a notification describes it (`select_related` its site, gateway and meter's network)."""
    meter = incident.meter
    return {
        "id": incident.pk,
        "kind": incident.kind,
        "status": incident.status,
        "organization": incident.organization.slug,
        "site": None if incident.site_id is None else {"id": incident.site_id, "name": incident.site.name},
        "gateway": None if incident.gateway_id is None else {"id": incident.gateway_id, "name": incident.gateway.name},
        "meter": None if meter is None else {"id": meter.pk, "network": meter.network.name, "host": meter.host},
        "started_at": iso(incident.started_at),
        "opened_at": iso(incident.opened_at),
        "last_seen": iso(incident.last_seen),
        "resolved_at": iso(incident.resolved_at),
        "duration_s": round(incident.duration_s, 1),
        "occurrences": incident.occurrences,
        "flapping": incident.flapping,
        "folded_into": incident.folded_into_id,
        "detail": incident.detail,
    }


def group_payload(
    group: NotificationGroup, listed: list[tuple[Incident, str, bool]], transition: str, key: str
) -> dict[str, Any]:
    """A group's notification: every incident listed as (incident, state, new since the last notification)."""
    counts = Counter(state for _, state, _ in listed)
    firing_sites = {incident.site_id for incident, state, _ in listed if state == FIRING and incident.site_id}
    limit = settings.NOTIFICATIONS_GROUP_MAX_LISTED
    # Open incidents first, new before known, so a cut list still shows what matters.
    ordered = sorted(listed, key=lambda row: ({FIRING: 0, RESOLVED: 1, FOLDED: 2}[row[1]], not row[2], row[0].pk))
    incidents = [{**incident_facts(incident), "state": state, "new": new} for incident, state, new in ordered[:limit]]
    payload = {
        "version": PAYLOAD_VERSION,
        "delivery": key,
        "transition": transition,
        "status": FIRING if counts[FIRING] else RESOLVED,
        "group": {
            "id": group.pk, "key": group.key, "labels": group.labels, "organization": group.organization.slug,
            "channel": group.channel.name, "number": group.notifications,
        },
        "summary": group_summary(listed, group.organization.name),
        "counts": {
            "firing": counts[FIRING], "resolved": counts[RESOLVED], "folded": counts[FOLDED],
            "new": sum(1 for _, state, new in listed if new and state == FIRING), "sites": len(firing_sites),
            "listed": len(incidents),
        },
        "truncated": len(listed) > limit,
        "incidents": incidents,
    }
    if len(listed) == 1:
        payload["incident"] = incidents[0]  # what a receiver of single notifications (version 1) reads
    return payload


def group_summary(listed: list[tuple[Incident, str, bool]], organization: str) -> str:
    """One line for a subject: "200 meters lost at 20 sites of Demo Energy", or "Org: a; b"."""
    parts = []
    for state in (FIRING, RESOLVED):
        by_kind: dict[str, set[int]] = {}
        count: Counter = Counter()
        for incident, incident_state, _ in listed:
            if incident_state == state:
                count[incident.kind] += 1
                by_kind.setdefault(incident.kind, set()).add(incident.site_id)
        for kind in sorted(count):
            singular, plural, back_one, back_many = _NOUNS.get(kind, (kind, kind, f"{kind} resolved", f"{kind} resolved"))
            noun = (singular if count[kind] == 1 else plural) if state == FIRING else (back_one if count[kind] == 1 else back_many)
            sites = len(by_kind[kind] - {None})
            where = f" at {sites} site{'' if sites == 1 else 's'}" if sites else ""
            parts.append(f"{count[kind]} {noun}{where}")
    folded = sum(1 for _, state, _ in listed if state == FOLDED)
    if folded:
        parts.append(f"{folded} explained by another incident")
    if len(parts) == 1:
        return f"{parts[0]} of {organization}"
    return f"{organization}: {'; '.join(parts) or 'no incidents'}"
