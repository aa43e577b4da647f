"""What the dashboard pages show, read from the latest-state tables and incidents, in a few queries each.

Every function takes sites that `scoping.visible_sites` already confined to
the user's organisations and reads only what hangs off them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Prefetch, QuerySet

from balancing import describe
from fleet.dashboard.formatting import age_text
from fleet.dashboard.status import (
    NetworkFacts,
    SiteStatus,
    freshness_limit_s,
    gateway_grace_period_s,
    gateway_is_offline,
    network_status,
    reading_is_stale,
    site_status,
)
from fleet.models import Charger, ChargingNetwork, Gateway, Site

def _one_to_one(obj, name: str):
    """The related object of a reverse one-to-one, or None where there is none (no meter, no state yet)."""
    # Django's "related object does not exist" is an AttributeError, so getattr's default covers it.
    return getattr(obj, name, None)


def _network_facts(network: ChargingNetwork) -> NetworkFacts:
    state = _one_to_one(network, "state")
    meter = _one_to_one(network, "meter")
    meter_state = _one_to_one(meter, "state") if meter is not None else None
    return NetworkFacts(
        mode=state.mode if state is not None else None,
        meter_available=meter_state.available if meter_state is not None else None,
    )


def _with_latest_state(sites: QuerySet[Site]) -> QuerySet[Site]:
    """Sites with their gateways, networks, meters and the latest states prefetched (one query per table)."""
    networks = ChargingNetwork.objects.select_related("state", "meter", "meter__state").prefetch_related(
        Prefetch("chargers", queryset=Charger.objects.select_related("state"))
    )
    return sites.prefetch_related(
        Prefetch("gateways", queryset=Gateway.objects.order_by("name")), Prefetch("networks", queryset=networks)
    )


# --- fleet overview -----------------------------------------------------------------------------


@dataclass
class SiteCard:
    """One site on the overview (`overview.fleet_overview_page`): its state, its open incidents and how long they have lasted."""

    site: Site
    status: SiteStatus
    network_count: int
    charger_count: int
    charging_count: int
    gateway_last_seen: datetime | None
    open_incidents: int = 0
    incidents_since: datetime | None = None
    gateway_seen_ago: str = ""
    incidents_for: str = ""

    @property
    def status_label(self) -> str:
        return self.status.label


def _is_charging(charger: Charger) -> bool:
    state = _one_to_one(charger, "state")
    return bool(state is not None and state.available and (state.setpoint_a or 0) > 0)


# --- one site -----------------------------------------------------------------------------------


@dataclass
class ChargerRow:
    """A charger's latest setpoint, measured current and the reason for the setpoint, in words."""

    id: int
    name: str
    phases: int
    max_current_a: int
    available: bool | None
    setpoint_a: float | None
    current_a: list[float | None] | None
    reason: str
    reason_text: str
    sample_ts: datetime | None
    stale: bool = False
    age: str = ""


@dataclass
class MeterInfo:
    """The network's grid meter and whether the gateway can read it."""

    model: str
    address: str
    available: bool | None
    last_reading_at: datetime | None
    lost_since: datetime | None
    detail: str
    last_reading_ago: str = ""


@dataclass
class NetworkPanel:
    """One charging network on the site page: limits, state, meter and chargers."""

    id: int
    name: str
    max_current_per_phase_a: int
    max_power_w: int | None
    fallback_power_w: int | None
    status: SiteStatus
    mode: str | None
    grid_current_a: list[float | None] | None
    sample_ts: datetime | None
    meter: MeterInfo | None
    chargers: list[ChargerRow] = field(default_factory=list)
    grid_stale: bool = False
    grid_age: str = ""


@dataclass
class SiteDetail:
    """Everything the site page shows besides the chart's history."""

    site: Site
    status: SiteStatus
    gateways: list[tuple[Gateway, bool, str]]  # each with whether it is offline and how long ago it spoke
    networks: list[NetworkPanel]


def site_detail(site: Site, now: datetime) -> SiteDetail:
    """The site's gateways, and its networks with meter and chargers as last reported (incidents: `incidents.site_incidents`)."""
    site = _with_latest_state(Site.objects.filter(pk=site.pk).select_related("organization")).get()
    grace_s = gateway_grace_period_s()
    gateways = list(site.gateways.all())
    networks = list(site.networks.all())
    return SiteDetail(
        site=site,
        status=site_status([g.last_seen for g in gateways], map(_network_facts, networks), now, grace_s),
        gateways=[(g, gateway_is_offline(g.last_seen, now, grace_s), age_text(g.last_seen, now)) for g in gateways],
        networks=[_network_panel(network, now, freshness_limit_s(g.poll_interval_s for g in gateways)) for network in networks],
    )


def _network_panel(network: ChargingNetwork, now: datetime, limit_s: float) -> NetworkPanel:
    state = _one_to_one(network, "state")
    meter = _one_to_one(network, "meter")
    meter_info = None
    if meter is not None:
        meter_state = _one_to_one(meter, "state")
        meter_info = MeterInfo(
            model=meter.model,
            address=f"{meter.host}:{meter.port} unit {meter.unit_id}",
            available=meter_state.available if meter_state else None,
            last_reading_at=meter_state.last_reading_at if meter_state else None,
            lost_since=meter_state.lost_since if meter_state else None,
            detail=meter_state.detail if meter_state else "",
            last_reading_ago=age_text(meter_state.last_reading_at if meter_state else None, now),
        )
    # "Grid now" is the meter's last reading: stale once the meter is lost, whatever its age.
    grid_read_at = meter_info.last_reading_at if meter_info else (state.sample_ts if state else None)
    return NetworkPanel(
        id=network.pk,
        name=network.name,
        max_current_per_phase_a=network.max_current_per_phase_a,
        max_power_w=network.max_power_w,
        fallback_power_w=network.fallback_power_w,
        status=network_status(_network_facts(network)),
        mode=state.mode if state else None,
        grid_current_a=state.grid_current_a if state else None,
        sample_ts=state.sample_ts if state else None,
        meter=meter_info,
        chargers=[_charger_row(charger, now, limit_s) for charger in network.chargers.all()],
        grid_stale=reading_is_stale(grid_read_at, now, limit_s, lost=bool(meter_info and meter_info.available is False)),
        grid_age=age_text(grid_read_at, now),
    )


def _charger_row(charger: Charger, now: datetime, limit_s: float) -> ChargerRow:
    state = _one_to_one(charger, "state")
    reason = state.reason if state else ""
    return ChargerRow(
        id=charger.pk,
        name=charger.name,
        phases=charger.phases,
        max_current_a=charger.max_current_a,
        available=state.available if state else None,
        setpoint_a=state.setpoint_a if state else None,
        current_a=state.current_a if state else None,
        reason=reason,
        reason_text=describe(reason) if reason else "",
        sample_ts=state.sample_ts if state else None,
        stale=reading_is_stale(state.sample_ts if state else None, now, limit_s),
        age=age_text(state.sample_ts if state else None, now),
    )
