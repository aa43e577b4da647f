"""Prometheus metrics of the fleet, read from the database at scrape time (a custom collector, no counters in RAM).

Every worker and web process sees the same database, so any of them can
answer a scrape with the whole fleet's figures; nothing has to be summed
across processes. Each scrape runs a handful of aggregate queries over small
tables (gateways, incidents, deliveries, network states) and one range count
over the last minute of telemetry.

Labels stay bounded: `organization` is the slug of each of the
METRICS_MAX_ORGANIZATIONS largest organisations (by gateways), the rest are
summed under `_other`; `kind`, `severity`, `status` and `state` are small
fixed sets.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, Max, Min
from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector, CollectorRegistry

from fleet.models import (
    SEVERITY_OF_KIND,
    Delivery,
    DeliveryStatus,
    Gateway,
    Incident,
    IncidentKind,
    IncidentStatus,
    IncidentTransition,
    NetworkState,
    Organization,
    TelemetrySample,
)

OTHER = "_other"
INGEST_WINDOW_S = 60
"""The telemetry ingest rate is the samples of the last minute (by the gateways' clocks), per second."""


class FleetCollector(Collector):
    """Yields the fleet's gauges from the database each time Prometheus scrapes."""

    def __init__(self, now=timezone.now):
        self.now = now

    def collect(self) -> Iterator[GaugeMetricFamily]:
        now = self.now()
        label_of = _organization_labels()
        yield from _gateways(now, label_of)
        yield from _incidents(label_of)
        yield from _notifications(now, label_of)
        yield from _telemetry(now, label_of)


def metrics_registry() -> CollectorRegistry:
    """A registry holding only the fleet's collector (the process's own metrics are not the fleet's)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(FleetCollector())
    return registry


def _organization_labels() -> defaultdict[int, str]:
    """Organisation id -> label: the slug of the largest ones, `_other` for the rest and for any unknown id."""
    limit = settings.METRICS_MAX_ORGANIZATIONS
    rows = Organization.objects.annotate(gateways=Count("sites__gateways")).order_by("-gateways", "slug").values_list(
        "pk", "slug"
    )
    labels: defaultdict[int, str] = defaultdict(lambda: OTHER)
    labels.update({pk: slug for pk, slug in rows[:limit]})
    return labels


def _gateways(now: datetime, label_of) -> Iterator[GaugeMetricFamily]:
    family = GaugeMetricFamily(
        "fuseguard_gateways", "Gateways by state: online (seen within the grace period), silent, never seen.",
        labels=["organization", "state"],
    )
    cutoff = now - timedelta(seconds=settings.ALERTS_GATEWAY_GRACE_PERIOD_S)
    counts: Counter = Counter()
    for organization_id, last_seen in Gateway.objects.values_list("site__organization_id", "last_seen"):
        state = "never_seen" if last_seen is None else "online" if last_seen >= cutoff else "silent"
        counts[(label_of[organization_id], state)] += 1
    for label in set(label_of.values()):
        for state in ("online", "silent", "never_seen"):
            counts.setdefault((label, state), 0)
    for (label, state), value in sorted(counts.items()):
        family.add_metric([label, state], value)
    yield family


def _incidents(label_of) -> Iterator[GaugeMetricFamily]:
    incidents = GaugeMetricFamily(
        "fuseguard_incidents_open", "Open incidents by kind and severity (folded ones included).",
        labels=["organization", "kind", "severity"],
    )
    lost = GaugeMetricFamily("fuseguard_meters_lost", "Meters with an open meter_lost incident.", labels=["organization"])
    counts: Counter = Counter()
    for organization_id, kind, count in (
        Incident.objects.filter(status=IncidentStatus.OPEN).values_list("organization_id", "kind").annotate(n=Count("pk"))
    ):
        counts[(label_of[organization_id], kind)] += count
    labels = set(label_of.values())
    for label in labels:
        for kind in IncidentKind.values:
            counts.setdefault((label, kind), 0)
    for (label, kind), value in sorted(counts.items()):
        incidents.add_metric([label, kind, SEVERITY_OF_KIND.get(kind, "warning")], value)
        if kind == IncidentKind.METER_LOST:
            lost.add_metric([label], value)
    yield incidents
    yield lost


def _notifications(now: datetime, label_of) -> Iterator[GaugeMetricFamily]:
    deliveries = GaugeMetricFamily(
        "fuseguard_notifications", "Notifications (deliveries) by status: pending, sending, sent, failed.",
        labels=["organization", "status"],
    )
    counts: Counter = Counter()
    for organization_id, status, count in Delivery.objects.values_list("channel__organization_id", "status").annotate(
        n=Count("pk")
    ):
        counts[(label_of[organization_id], status)] += count
    for label in set(label_of.values()):
        for status in DeliveryStatus.values:
            counts.setdefault((label, status), 0)
    for (label, status), value in sorted(counts.items()):
        deliveries.add_metric([label, status], value)
    yield deliveries
    oldest = Delivery.objects.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=now).aggregate(
        oldest=Min("next_attempt_at")
    )["oldest"]
    yield GaugeMetricFamily(
        "fuseguard_notifications_due_age_seconds", "How long the oldest due delivery has waited (0: none waits).",
        value=0.0 if oldest is None else (now - oldest).total_seconds(),
    )
    yield GaugeMetricFamily(
        "fuseguard_transitions_unprocessed", "Incident transitions the dispatcher has not handled yet.",
        value=IncidentTransition.objects.filter(processed_at__isnull=True).count(),
    )


def _telemetry(now: datetime, label_of) -> Iterator[GaugeMetricFamily]:
    rate = GaugeMetricFamily(
        "fuseguard_telemetry_ingest_samples_per_second",
        f"Raw samples of the last {INGEST_WINDOW_S} s (gateway clocks) per second.", labels=["organization"],
    )
    lag = GaugeMetricFamily(
        "fuseguard_telemetry_lag_seconds", "Age of the newest sample of the organisation's networks.",
        labels=["organization"],
    )
    samples: Counter = Counter()
    for organization_id, count in (
        TelemetrySample.objects.filter(ts__gte=now - timedelta(seconds=INGEST_WINDOW_S))
        .values_list("gateway__site__organization_id")
        .annotate(n=Count("pk"))
    ):
        samples[label_of[organization_id]] += count
    newest: dict[str, datetime] = {}
    for organization_id, latest in NetworkState.objects.filter(sample_ts__isnull=False).values_list(
        "network__site__organization_id"
    ).annotate(latest=Max("sample_ts")):
        label = label_of[organization_id]
        newest[label] = max(latest, newest.get(label, latest))
    for label in sorted(set(label_of.values())):
        rate.add_metric([label], samples[label] / INGEST_WINDOW_S)
    for label, latest in sorted(newest.items()):
        lag.add_metric([label], max(0.0, (now - latest).total_seconds()))
    yield rate
    yield lag
