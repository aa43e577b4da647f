"""The incidents page: open and recent incidents of the user's sites, filtered, sorted, live as JSON.

Incidents hang off sites (`Incident.site`), so the sites `scoping.visible_sites`
allows are the whole scoping rule here too. Who may acknowledge is the API's
rule (`services.tenancy.user_may_edit`: operators and admins of the incident's
organisation).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Case, IntegerField, QuerySet, Value, When
from django.urls import reverse

from fleet.dashboard.formatting import duration_text
from fleet.dashboard.overview import OverviewQueryError, positive_param
from fleet.dashboard.times import display_zone, time_text, viewer_time_zone
from fleet.models import Incident, IncidentKind, IncidentStatus, Site
from fleet.models.tenancy import EDITING_ROLES
from fleet.services.incidents_acknowledge import unacknowledged_q
from fleet.services.tenancy import user_organization_ids

RECENT_DAYS = 7
"""Resolved incidents stay on the page this long: long enough to look back over a week-end."""
MAX_ROWS = 200
"""Rows per answer: a wall screen shows far fewer, and open incidents always come first."""

SORTS = {
    "": ("open_first", "-started_at", "-pk"),
    "started": ("started_at", "pk"),
    "-started": ("-started_at", "-pk"),
    "site": ("site__name", "-started_at", "pk"),
    "-site": ("-site__name", "-started_at", "pk"),
    "kind": ("kind", "-started_at", "pk"),
    "-kind": ("-kind", "-started_at", "pk"),
    "state": ("open_first", "-started_at", "pk"),
    "-state": ("-open_first", "-started_at", "pk"),
}
"""The columns one may sort by, each with a tie-break; the default puts open incidents first, newest first."""
STATES = ("open", "resolved", "unacknowledged", "acknowledged")


@dataclass(frozen=True)
class IncidentQuery:
    """Filters and order of the incidents page."""

    site_id: int | None = None
    kind: str = ""
    state: str = ""
    sort: str = ""

    @classmethod
    def from_params(cls, params) -> IncidentQuery:
        """Read `site`, `kind`, `state` and `sort` from GET parameters; a bad value raises `OverviewQueryError` naming it."""
        kind, state, sort = params.get("kind") or "", params.get("state") or "", params.get("sort") or ""
        if kind and kind not in IncidentKind.values:
            raise OverviewQueryError("kind", f"one of {', '.join(IncidentKind.values)}")
        if state and state not in STATES:
            raise OverviewQueryError("state", f"one of {', '.join(STATES)}")
        if sort not in SORTS:
            raise OverviewQueryError("sort", f"one of {', '.join(key for key in SORTS if key)}")
        return cls(site_id=positive_param(params, "site"), kind=kind, state=state, sort=sort)


@dataclass
class IncidentRow:
    """One incident as the page shows it."""

    incident: Incident
    subject: str
    lasted: str
    may_acknowledge: bool
    zone: str = "UTC"

    def as_json(self) -> dict:
        """The row for the page's script."""
        incident = self.incident
        return {
            "id": incident.pk,
            "site": {"id": incident.site_id, "name": incident.site.name, "url": reverse("dashboard:site", args=[incident.site_id])},
            "organization": incident.organization.name,
            "kind": incident.kind,
            "kind_label": incident.get_kind_display(),
            "subject": self.subject,
            "status": incident.status,
            "started_at": incident.started_at.isoformat(),
            "started_text": time_text(incident.started_at, self.zone, seconds=False),
            "acknowledged_text": time_text(incident.acknowledged_at, self.zone, seconds=False) if incident.is_acknowledged else "",
            "resolved_at": incident.resolved_at.isoformat() if incident.resolved_at else None,
            "lasted": self.lasted,
            "occurrences": incident.occurrences,
            "flapping": incident.flapping,
            "folded": incident.folded_into_id is not None,
            "acknowledged": incident.is_acknowledged,
            "acknowledged_at": incident.acknowledged_at.isoformat() if incident.is_acknowledged else None,
            "acknowledged_by": incident.acknowledged_by.get_username() if incident.is_acknowledged and incident.acknowledged_by else "",
            "acknowledgement_note": incident.acknowledgement_note if incident.is_acknowledged else "",
            "may_acknowledge": self.may_acknowledge,
            "acknowledge_url": reverse("dashboard:incident-acknowledge", args=[incident.pk]),
        }


def incident_subject(incident: Incident) -> str:
    """What the incident concerns, in words: the meter of a network, or a gateway."""
    if incident.meter_id:
        return f"meter of {incident.meter.network.name}"
    return f"gateway {incident.gateway.name}"


def incidents_of(sites: QuerySet[Site]) -> QuerySet[Incident]:
    """The incidents of the given sites with everything a row shows, in one query."""
    return Incident.objects.filter(site__in=sites).select_related(
        "site", "organization", "gateway", "meter__network", "acknowledged_by"
    ).annotate(open_first=Case(When(status=IncidentStatus.OPEN, then=Value(0)), default=Value(1), output_field=IntegerField()))


def incident_rows(incidents: QuerySet[Incident], user, now: datetime) -> list[IncidentRow]:
    """Rows for the given incidents; whether the user may acknowledge each is read once for all."""
    editable = None if user.is_superuser else user_organization_ids(user, EDITING_ROLES)
    viewer_zone = viewer_time_zone(user)
    return [
        IncidentRow(
            incident=incident,
            subject=incident_subject(incident),
            lasted=duration_text(((incident.resolved_at or now) - incident.started_at).total_seconds()),
            may_acknowledge=incident.status == IncidentStatus.OPEN
            and not incident.is_acknowledged
            and (editable is None or incident.organization_id in editable),
            zone=display_zone(viewer_zone, incident.site.time_zone),
        )
        for incident in incidents
    ]


def incidents_page(sites: QuerySet[Site], user, now: datetime, query: IncidentQuery = IncidentQuery()) -> list[IncidentRow]:
    """Open incidents and those resolved in the last `RECENT_DAYS`, filtered and sorted as asked."""
    incidents = incidents_of(sites).exclude(status=IncidentStatus.RESOLVED, resolved_at__lt=now - timedelta(days=RECENT_DAYS))
    if query.site_id is not None:
        incidents = incidents.filter(site_id=query.site_id)
    if query.kind:
        incidents = incidents.filter(kind=query.kind)
    if query.state in ("open", "resolved"):
        incidents = incidents.filter(status=query.state)
    elif query.state == "unacknowledged":
        incidents = incidents.filter(unacknowledged_q(), status=IncidentStatus.OPEN)
    elif query.state == "acknowledged":
        incidents = incidents.exclude(unacknowledged_q()).filter(status=IncidentStatus.OPEN)
    return incident_rows(incidents.order_by(*SORTS[query.sort])[:MAX_ROWS], user, now)


def site_incidents(site: Site, user, now: datetime) -> list[IncidentRow]:
    """The site's open incidents, oldest first, for its page."""
    incidents = incidents_of(Site.objects.filter(pk=site.pk)).filter(status=IncidentStatus.OPEN).order_by("started_at", "pk")
    return incident_rows(incidents, user, now)

