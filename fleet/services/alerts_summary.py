"""Rolling open incidents up per site and per organisation: how many sites have lost meters, and since when."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Count, Min, Q, QuerySet

from fleet.models import Incident, IncidentKind, IncidentStatus, Organization


@dataclass
class SiteRollup:
    """The open incidents of one site."""

    site_id: int
    site_name: str
    lost_meters: int
    gateways_offline: int
    open_incidents: int
    since: datetime


@dataclass
class OrganizationSummary:
    """One organisation's open problems at a glance, with its sites' rollups (longest-running first)."""

    organization_id: int
    organization_name: str
    open_incidents: int = 0
    lost_meters: int = 0
    gateways_offline: int = 0
    sites_with_lost_meters: int = 0
    sites_offline: int = 0
    since: datetime | None = None
    sites: list[SiteRollup] = field(default_factory=list)


def alerts_summary(incidents: QuerySet[Incident], organizations: QuerySet[Organization]) -> list[OrganizationSummary]:
    """Summaries of the given organisations from the given (already scoped) incidents; one GROUP BY query."""
    summaries = {
        pk: OrganizationSummary(pk, name) for pk, name in organizations.order_by("name").values_list("pk", "name")
    }
    rows = (
        # A connectivity outage spans sites: its gateways' own incidents show where it hurts.
        incidents.filter(status=IncidentStatus.OPEN, organization_id__in=summaries.keys(), site__isnull=False)
        .values("organization_id", "site_id", "site__name")
        .annotate(
            lost_meters=Count("pk", filter=Q(kind=IncidentKind.METER_LOST)),
            gateways_offline=Count("pk", filter=Q(kind=IncidentKind.GATEWAY_OFFLINE)),
            open_incidents=Count("pk"),
            since=Min("started_at"),
        )
        .order_by("since", "site__name")
    )
    for row in rows:
        summary = summaries[row["organization_id"]]
        summary.sites.append(
            SiteRollup(row["site_id"], row["site__name"], row["lost_meters"], row["gateways_offline"], row["open_incidents"],
                       row["since"])
        )
        summary.open_incidents += row["open_incidents"]
        summary.lost_meters += row["lost_meters"]
        summary.gateways_offline += row["gateways_offline"]
        summary.sites_with_lost_meters += 1 if row["lost_meters"] else 0
        summary.sites_offline += 1 if row["gateways_offline"] else 0
        summary.since = row["since"] if summary.since is None else min(summary.since, row["since"])
    return list(summaries.values())
