"""The fleet overview for many sites: state per site computed in SQL, counts per state, search, filter, pages.

A wall screen watching 10,000 sites must not load 10,000 sites to draw 48
cards, so the site state (`status.site_status`, the rule the site page uses)
is restated here as annotations: one query counts the sites per state, one
selects the page, and only the page's sites are loaded with their devices.
`tests/fleet/dashboard/test_overview.py` holds the two rules to the same table.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    IntegerField,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Lower

from fleet.dashboard.formatting import age_text
from fleet.dashboard.selectors import SiteCard, _is_charging, _with_latest_state
from fleet.dashboard.status import SEVERITY, SiteStatus, gateway_grace_period_s
from fleet.models import Gateway, Incident, IncidentStatus, MeterState, NetworkState, Organization, Site

PAGE_SIZE = 48
"""Cards per page: a wall screen's worth; the worst sites come first, so page 1 is the one to watch."""
MAX_QUERY_LENGTH = 100
STATUS_ORDER = [SiteStatus.NORMAL, SiteStatus.FALLBACK, SiteStatus.METER_LOST, SiteStatus.GATEWAY_OFFLINE]
"""The counts' order at the top of the overview: from all well to the worst."""


class OverviewQueryError(ValueError):
    """A filter parameter the overview cannot use; `field` names it."""

    def __init__(self, field_name: str, message: str):
        super().__init__(f"{field_name}: {message}")
        self.field = field_name


@dataclass(frozen=True)
class OverviewQuery:
    """What the operator asked for: a name search, a state, an organisation and a page."""

    search: str = ""
    status: str = ""
    organization_id: int | None = None
    page: int = 1

    @classmethod
    def from_params(cls, params) -> OverviewQuery:
        """Read `q`, `status`, `org` and `page` from a request's GET; a bad value raises `OverviewQueryError` naming it."""
        search = (params.get("q") or "").strip()
        if len(search) > MAX_QUERY_LENGTH:
            raise OverviewQueryError("q", f"at most {MAX_QUERY_LENGTH} characters")
        status = params.get("status") or ""
        if status and status not in SiteStatus.values:
            raise OverviewQueryError("status", f"one of {', '.join(SiteStatus.values)}")
        return cls(search=search, status=status, organization_id=positive_param(params, "org"), page=positive_param(params, "page") or 1)


def positive_param(params, name: str) -> int | None:
    """A whole number from 1 in GET parameter `name`, or None when absent; anything else raises `OverviewQueryError`."""
    raw = params.get(name) or ""
    if not raw:
        return None
    if not raw.isdigit() or int(raw) < 1:
        raise OverviewQueryError(name, "a whole number from 1")
    return int(raw)


@dataclass
class OverviewPage:
    """One page of site cards, the count of sites per state, and the organisations to filter by."""

    cards: list[SiteCard]
    counts: dict[str, int]
    total: int
    page: int
    pages: int
    organizations: list[tuple[int, str]] = field(default_factory=list)


def with_status(sites: QuerySet[Site], now: datetime, grace_s: int) -> QuerySet[Site]:
    """Sites annotated with the `severity` rank of their state (as `status.site_status` decides it), in SQL.

    Only the rank is computed in the database, once per site; the state's name
    is the rank's (`SiteStatus` by `SEVERITY`), so filters, counts and the
    order use one expression instead of restating it.
    """
    cutoff = now - timedelta(seconds=grace_s)
    gateways = Gateway.objects.filter(site=OuterRef("pk"))
    silent = gateways.filter(Q(last_seen__isnull=True) | Q(last_seen__lt=cutoff))
    meter_lost = MeterState.objects.filter(meter__network__site=OuterRef("pk"), available=False)
    fallback = NetworkState.objects.filter(network__site=OuterRef("pk"), mode="fallback")
    severity = Case(
        When(~Exists(gateways) | Exists(silent), then=Value(SEVERITY[SiteStatus.GATEWAY_OFFLINE])),
        When(Exists(meter_lost), then=Value(SEVERITY[SiteStatus.METER_LOST])),
        When(Exists(fallback), then=Value(SEVERITY[SiteStatus.FALLBACK])),
        default=Value(SEVERITY[SiteStatus.NORMAL]),
        output_field=IntegerField(),
    )
    return sites.annotate(severity=severity)


STATUS_BY_SEVERITY = {rank: SiteStatus(status) for status, rank in SEVERITY.items()}


def _filtered(sites: QuerySet[Site], query: OverviewQuery) -> QuerySet[Site]:
    if query.search:
        sites = sites.filter(name__icontains=query.search)
    if query.organization_id is not None:
        sites = sites.filter(organization_id=query.organization_id)
    return sites


def fleet_overview_page(sites: QuerySet[Site], now: datetime, query: OverviewQuery = OverviewQuery()) -> OverviewPage:
    """The page of sites the query selects, worst first, with counts per state; the same few queries for any fleet."""
    grace_s = gateway_grace_period_s()
    scoped = with_status(_filtered(sites, query), now, grace_s)
    counts = dict.fromkeys(SiteStatus.values, 0)
    counts.update(
        {STATUS_BY_SEVERITY[row["severity"]].value: row["n"] for row in scoped.order_by().values("severity").annotate(n=Count("pk"))}
    )
    selected = scoped.filter(severity=SEVERITY[query.status]) if query.status else scoped
    total = counts[query.status] if query.status else sum(counts.values())
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(query.page, pages)
    open_incidents = Incident.objects.filter(site=OuterRef("pk"), status=IncidentStatus.OPEN).order_by().values("site")
    ordered = selected.annotate(
        incidents_since=Subquery(open_incidents.annotate(since=Min("started_at")).values("since")),
        open_count=Subquery(open_incidents.annotate(n=Count("pk")).values("n")),
    ).order_by(F("incidents_since").asc(nulls_last=True), "severity", Lower("name"), "pk")
    window = list(_with_latest_state(ordered)[(page - 1) * PAGE_SIZE : page * PAGE_SIZE])
    organizations = list(
        Organization.objects.filter(pk__in=sites.order_by().values("organization_id")).order_by("name").values_list("pk", "name")
    )
    return OverviewPage(
        cards=[_card(site, now) for site in window],
        counts=counts,
        total=total,
        page=page,
        pages=pages,
        organizations=organizations,
    )


def _card(site: Site, now: datetime) -> SiteCard:
    gateways = list(site.gateways.all())
    networks = list(site.networks.all())
    chargers = [charger for network in networks for charger in network.chargers.all()]
    seen = [gateway.last_seen for gateway in gateways if gateway.last_seen is not None]
    card = SiteCard(
        site=site,
        status=STATUS_BY_SEVERITY[site.severity],
        network_count=len(networks),
        charger_count=len(chargers),
        charging_count=sum(1 for charger in chargers if _is_charging(charger)),
        gateway_last_seen=max(seen, default=None),
        open_incidents=site.open_count or 0,
        incidents_since=site.incidents_since,
    )
    card.gateway_seen_ago = age_text(card.gateway_last_seen, now)
    card.incidents_for = age_text(card.incidents_since, now)
    return card


def overview_json(result: OverviewPage, now: datetime, site_url) -> dict:
    """The JSON the overview polls; `site_url(pk)` gives each card's link."""
    return {
        "now": now.isoformat(),
        "counts": result.counts,
        "total": result.total,
        "page": result.page,
        "pages": result.pages,
        "page_size": PAGE_SIZE,
        "cards": [
            {
                "id": card.site.pk,
                "name": card.site.name,
                "organization": card.site.organization.name,
                "url": site_url(card.site.pk),
                "status": card.status.value,
                "status_label": card.status.label,
                "open_incidents": card.open_incidents,
                "incidents_for": card.incidents_for,
                "network_count": card.network_count,
                "charger_count": card.charger_count,
                "charging_count": card.charging_count,
                "gateway_seen_ago": card.gateway_seen_ago,
            }
            for card in result.cards
        ],
    }
