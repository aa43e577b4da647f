"""Turning the latest state of meters and gateways into incidents: open once, refresh, fold, resolve.

One run reads two small tables (gateways' `last_seen`, meters' `MeterState`)
and makes the open incidents match what it finds. Every state change is a
conditional UPDATE (`... WHERE status = 'open'`) or an INSERT guarded by the
partial unique constraints `incident_one_open_per_meter_kind` and
`incident_one_open_per_gateway_kind`; a change counts only where this run
changed the row, and that run records the edge as an `IncidentTransition` in
the same transaction, so several workers evaluating at once open, resolve and
record each edge exactly once (the pattern of healthchecks' `sendalerts`).
Who hears about an edge is not decided here: the dispatcher
(fleet/services/notifications_dispatch.py) turns transitions into deliveries.

A meter counts as lost when its gateway reported it lost, or when the gateway
has kept talking for longer than the meter's grace period since the meter's
last reading. Meters of a site whose gateways are all silent are no separate
problem: the gateway's incident explains them, and their open incidents are
folded into it, so a dead gateway raises one alert, not one per meter. Many
gateways of one organisation falling silent together are one connectivity
outage (fleet/services/alerts_outage.py), which folds their incidents in turn.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, OuterRef, Q, Subquery
from django.utils import timezone

from fleet.models import (
    Gateway,
    Incident,
    IncidentKind,
    IncidentStatus,
    IncidentTransition,
    IncidentTransitionKind,
    MeterState,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AlertPolicy:
    """How long silence is tolerated and what counts as flapping."""

    meter_grace_period_s: int = 60
    gateway_grace_period_s: int = 120
    flap_window_s: int = 900
    flap_threshold: int = 3
    outage_min_gateways: int = 10
    outage_min_share_pct: int = 30
    outage_window_s: int = 120

    @classmethod
    def from_settings(cls) -> AlertPolicy:
        """The policy configured through the environment (see the alerts block of fleet/settings.py)."""
        return cls(
            meter_grace_period_s=settings.ALERTS_METER_GRACE_PERIOD_S,
            gateway_grace_period_s=settings.ALERTS_GATEWAY_GRACE_PERIOD_S,
            flap_window_s=settings.ALERTS_FLAP_WINDOW_S,
            flap_threshold=settings.ALERTS_FLAP_THRESHOLD,
            outage_min_gateways=settings.ALERTS_OUTAGE_MIN_GATEWAYS,
            outage_min_share_pct=settings.ALERTS_OUTAGE_MIN_SHARE_PCT,
            outage_window_s=settings.ALERTS_OUTAGE_WINDOW_S,
        )


@dataclass(frozen=True)
class Problem:
    """A meter or gateway found failing in this run."""

    site_id: int
    organization_id: int
    started_at: datetime
    detail: str


@dataclass
class EvaluationResult:
    """The edges one run caused (incident ids) and the transitions it recorded for them."""

    opened: list[int] = field(default_factory=list)
    reopened: list[int] = field(default_factory=list)
    resolved: list[int] = field(default_factory=list)
    folded: int = 0
    transition_ids: list[int] = field(default_factory=list)


def alerts_evaluate(*, now: datetime | None = None, policy: AlertPolicy | None = None) -> EvaluationResult:
    """Open, refresh, fold and resolve incidents so they match the fleet's state at `now`."""
    now = now or timezone.now()
    policy = policy or AlertPolicy.from_settings()
    result = EvaluationResult()
    gateway_cutoff = now - timedelta(seconds=policy.gateway_grace_period_s)

    silent_gateways: dict[int, Problem] = {}
    site_seen: dict[int, datetime] = {}
    rows = list(
        Gateway.objects.filter(last_seen__isnull=False).values_list("pk", "site_id", "site__organization_id", "last_seen")
    )
    for gateway_id, site_id, organization_id, last_seen in rows:
        site_seen[site_id] = max(last_seen, site_seen.get(site_id, last_seen))
        if last_seen < gateway_cutoff:
            silent_gateways[gateway_id] = Problem(
                site_id, organization_id, last_seen, f"no contact for {int((now - last_seen).total_seconds())} s"
            )
    silent_sites = {site_id for site_id, seen in site_seen.items() if seen < gateway_cutoff}

    _converge(IncidentKind.GATEWAY_OFFLINE, "gateway", silent_gateways, set(), now, policy, result)
    _converge(IncidentKind.METER_LOST, "meter", _lost_meters(now, policy, site_seen, silent_sites), silent_sites, now, policy,
              result)
    if silent_sites:
        _fold_meter_incidents(silent_sites, now, result)
    from fleet.services.alerts_outage import outages_converge  # it builds on this module's types

    outages_converge([(gateway_id, organization_id, last_seen) for gateway_id, _, organization_id, last_seen in rows],
                     now, policy, result)
    return result


def _record(kind: str, edges: list[tuple[int, int]], now: datetime) -> list[int]:
    """Write one transition per (incident id, occurrence); called inside the transaction that changed the incidents."""
    if not edges:
        return []
    rows = IncidentTransition.objects.bulk_create(
        [IncidentTransition(incident_id=pk, kind=kind, at=now, occurrence=occurrence) for pk, occurrence in edges]
    )
    return [row.pk for row in rows]


def _occurrences(incident_ids: list[int]) -> dict[int, int]:
    """The current occurrence of incidents this transaction has just changed (its UPDATE holds their rows)."""
    return dict(Incident.objects.filter(pk__in=incident_ids).values_list("pk", "occurrences")) if incident_ids else {}


def _lost_meters(now: datetime, policy: AlertPolicy, site_seen: dict[int, datetime], silent_sites: set[int]) -> dict[int, Problem]:
    """Meters reported lost, or without a reading for the grace period while their gateway kept talking."""
    grace = timedelta(seconds=policy.meter_grace_period_s)
    lost: dict[int, Problem] = {}
    # A gateway that has just come back delivers its buffered readings first; until a grace period
    # after its return, old readings are the outage's, not the meters'.
    back_at = dict(
        Incident.objects.filter(
            kind=IncidentKind.GATEWAY_OFFLINE, status=IncidentStatus.RESOLVED, resolved_at__gte=now - grace
        ).values_list("site_id", "resolved_at")
    )
    candidates = MeterState.objects.filter(Q(available=False) | Q(last_reading_at__lt=now - grace)).values_list(
        "meter_id", "meter__network__site_id", "meter__network__site__organization_id", "available", "last_reading_at",
        "lost_since", "detail",
    )
    for meter_id, site_id, organization_id, available, last_reading_at, lost_since, detail in candidates:
        if site_id in silent_sites:
            continue  # the gateway's incident covers it
        if not available:
            lost[meter_id] = Problem(site_id, organization_id, lost_since or now, detail or "reported lost by the gateway")
            continue
        seen = site_seen.get(site_id)
        # A gateway that is itself late is not yet a meter problem: within the gateway's grace
        # period its meters' readings are late too, and blaming each meter would be a storm.
        if last_reading_at is None or seen is None:
            continue
        if seen - max(last_reading_at, back_at.get(site_id, last_reading_at)) > grace:
            age_s = int((now - last_reading_at).total_seconds())
            lost[meter_id] = Problem(site_id, organization_id, last_reading_at, f"no reading for {age_s} s")
    return lost


def _converge(
    kind: str,
    object_field: str,
    present: dict[int, Problem],
    unknown_sites: set[int],
    now: datetime,
    policy: AlertPolicy,
    result: EvaluationResult,
) -> None:
    """Make the open incidents of one kind match the problems present; sites in `unknown_sites` keep theirs."""
    open_rows = Incident.objects.filter(status=IncidentStatus.OPEN, kind=kind).values_list(
        f"{object_field}_id", "pk", "site_id", "flapping", "cleared_at"
    )
    open_by_object = {row[0]: row[1:] for row in open_rows}

    still_open = [open_by_object[obj][0] for obj in present if obj in open_by_object]
    if still_open:
        Incident.objects.filter(pk__in=still_open, status=IncidentStatus.OPEN).update(last_seen=now)
        back = [open_by_object[obj][0] for obj in present if obj in open_by_object and open_by_object[obj][3] is not None]
        if back:
            # A flapping incident that had quieted down is failing again: one more occurrence, same incident.
            Incident.objects.filter(pk__in=back, status=IncidentStatus.OPEN, cleared_at__isnull=False).update(
                cleared_at=None, occurrences=F("occurrences") + 1
            )

    _open(kind, object_field, {obj: present[obj] for obj in present.keys() - open_by_object.keys()}, now, policy, result)

    quiet_since = now - timedelta(seconds=policy.flap_window_s)
    to_resolve = []
    for obj, (pk, site_id, flapping, cleared_at) in open_by_object.items():
        if obj in present or site_id in unknown_sites:
            continue
        if flapping:
            # Flapping incidents resolve only after a quiet window, so the flaps stop making noise.
            if cleared_at is None:
                Incident.objects.filter(pk=pk, status=IncidentStatus.OPEN, cleared_at__isnull=True).update(cleared_at=now)
                continue
            if cleared_at > quiet_since:
                continue
        to_resolve.append((pk, obj))
    _resolve(kind, sorted(to_resolve), now, result)


def _resolve(kind: str, candidates: list[tuple[int, int]], now: datetime, result: EvaluationResult) -> None:
    """Resolve open incidents and record their transitions in one transaction, so neither happens without the other.

    Only the run whose UPDATE changes a row has resolved it, and only that run
    records the edge. Rows are locked in id order, the same in every worker,
    so two runs resolving together wait for each other instead of deadlocking.
    """
    if not candidates:
        return
    with transaction.atomic():
        resolved = []
        for pk, obj in candidates:
            if Incident.objects.filter(pk=pk, status=IncidentStatus.OPEN).update(
                status=IncidentStatus.RESOLVED, resolved_at=now, cleared_at=None
            ):
                log.info("incident %s resolved (%s %s)", pk, kind, obj)
                resolved.append(pk)
        occurrences = _occurrences(resolved)
        transition_ids = _record(IncidentTransitionKind.RESOLVED, [(pk, occurrences[pk]) for pk in resolved], now)
    result.resolved += resolved
    result.transition_ids += transition_ids


def _open(kind: str, object_field: str, problems: dict[int, Problem], now: datetime, policy: AlertPolicy,
          result: EvaluationResult) -> None:
    """Reopen each object's incident that resolved within the flap window; open new ones for the rest."""
    if not problems:
        return
    recent: dict[int, tuple[int, int]] = {}
    for obj, pk, occurrences in (
        Incident.objects.filter(
            kind=kind, status=IncidentStatus.RESOLVED, resolved_at__gte=now - timedelta(seconds=policy.flap_window_s),
            **{f"{object_field}_id__in": list(problems)},
        )
        .order_by(f"{object_field}_id", "-resolved_at", "-pk")
        .values_list(f"{object_field}_id", "pk", "occurrences")
    ):
        recent.setdefault(obj, (pk, occurrences))

    for obj, (pk, occurrences) in sorted(recent.items()):
        transition_ids = _reopen(pk, occurrences, kind, problems[obj], now, policy)
        if transition_ids is not None:
            result.reopened.append(pk)
            result.transition_ids += transition_ids
    rows = [
        Incident(
            organization_id=problem.organization_id, site_id=problem.site_id, kind=kind, status=IncidentStatus.OPEN,
            started_at=problem.started_at, opened_at=now, last_opened_at=now, last_seen=now, detail=problem.detail,
            **{f"{object_field}_id": obj},
        )
        for obj, problem in problems.items()
        if obj not in recent
    ]
    if not rows:
        return
    # Each incident is inserted together with its transition, so an opening is never left unannounced.
    try:
        with transaction.atomic():
            created = Incident.objects.bulk_create(rows)
            transition_ids = _record(
                IncidentTransitionKind.OPENED, [(incident.pk, incident.occurrences) for incident in created], now
            )
    except IntegrityError:
        # Another worker opened some of these at the same moment: one by one, each guarded by the
        # constraint, and the worker whose INSERT succeeded is the one that records the opening.
        created, transition_ids = [], []
        for row in rows:
            recorded = _create_one(row, now)
            if recorded is not None:
                created.append(row)
                transition_ids += recorded
    for incident in created:
        log.warning("incident %s opened (%s %s): %s", incident.pk, kind, getattr(incident, f"{object_field}_id"),
                    incident.detail)
    result.opened += [incident.pk for incident in created]
    result.transition_ids += transition_ids


def _create_one(row: Incident, now: datetime) -> list[int] | None:
    """Insert one incident with its transition; None if another worker's open incident is already there."""
    try:
        with transaction.atomic():
            row.save(force_insert=True)
            return _record(IncidentTransitionKind.OPENED, [(row.pk, row.occurrences)], now)
    except IntegrityError:
        return None


def _reopen(pk: int, occurrences: int, kind: str, problem: Problem, now: datetime, policy: AlertPolicy) -> list[int] | None:
    """Reopen a recently resolved incident as one more occurrence; its transition's id, or None if another run did."""
    flapping = occurrences + 1 >= policy.flap_threshold
    try:
        with transaction.atomic():
            changed = Incident.objects.filter(pk=pk, status=IncidentStatus.RESOLVED, occurrences=occurrences).update(
                status=IncidentStatus.OPEN, resolved_at=None, cleared_at=None, last_seen=now, last_opened_at=now,
                occurrences=occurrences + 1, detail=problem.detail, **({"flapping": True} if flapping else {}),
            )
            if changed != 1:
                return None
            transition_ids = _record(IncidentTransitionKind.REOPENED, [(pk, occurrences + 1)], now)
    except IntegrityError:
        return None  # another worker opened a new incident for the object meanwhile
    log.warning("incident %s reopened (%s, occurrence %s%s): %s", pk, kind, occurrences + 1,
                ", flapping" if flapping else "", problem.detail)
    return transition_ids


def _fold_meter_incidents(silent_sites: set[int], now: datetime, result: EvaluationResult) -> None:
    """Point the open meter incidents of silent sites at their gateway's open incident, recording each fold once.

    One conditional UPDATE per incident, in id order, so that among workers
    folding at once exactly one changes each row and records its transition.
    """
    gateway_incident = Incident.objects.filter(
        status=IncidentStatus.OPEN, kind=IncidentKind.GATEWAY_OFFLINE, site_id=OuterRef("site_id")
    ).order_by("pk").values("pk")[:1]
    candidates = list(
        Incident.objects.filter(
            status=IncidentStatus.OPEN, kind=IncidentKind.METER_LOST, site_id__in=silent_sites, folded_into__isnull=True
        )
        .annotate(into=Subquery(gateway_incident))
        .filter(into__isnull=False)
        .order_by("pk")
        .values_list("pk", "into")
    )
    if not candidates:
        return
    with transaction.atomic():
        folded = [
            pk for pk, into in candidates
            if Incident.objects.filter(pk=pk, status=IncidentStatus.OPEN, folded_into__isnull=True).update(folded_into_id=into)
        ]
        occurrences = _occurrences(folded)
        transition_ids = _record(IncidentTransitionKind.FOLDED, [(pk, occurrences[pk]) for pk in folded], now)
    if folded:
        log.info("%s meter incident(s) folded into their gateway's incident", len(folded))
    result.folded += len(folded)
    result.transition_ids += transition_ids
