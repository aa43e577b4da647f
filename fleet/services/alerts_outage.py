"""Connectivity outages: many gateways of one organisation falling silent together are one incident, not hundreds.

When at least `outage_min_gateways` gateways of an organisation, and at least
`outage_min_share_pct` of those that were online at the start of the window,
fell silent within `outage_window_s` (they crossed their grace period within
it), the cause is upstream of the sites (a mobile network, a VPN, the
server's own ingress), and the on-call needs one page, not one per gateway.
The outage incident opens once per organisation (the partial unique
constraint `incident_one_open_outage_per_organization`) and folds the gateway
incidents it explains, as a gateway incident folds its meters': they stay
visible as incidents, but quiet. It resolves when most of them are back; the
gateways still silent then are unfolded and notify on their own.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction

from fleet.models import Incident, IncidentKind, IncidentStatus, IncidentTransitionKind
from fleet.services.alerts_evaluate import AlertPolicy, EvaluationResult, _occurrences, _record

log = logging.getLogger(__name__)


def outages_converge(
    gateways: list[tuple[int, int, datetime]], now: datetime, policy: AlertPolicy, result: EvaluationResult
) -> None:
    """Open, fold into and resolve the organisations' outage incidents from the gateways' (id, organisation, last_seen)."""
    grace = timedelta(seconds=policy.gateway_grace_period_s)
    window = timedelta(seconds=policy.outage_window_s)
    # Gateways still silent when an outage resolved are stragglers on their own, not the start of a new outage.
    over_at = dict(
        Incident.objects.filter(
            kind=IncidentKind.CONNECTIVITY_OUTAGE, status=IncidentStatus.RESOLVED, resolved_at__gte=now - grace - window
        ).order_by("resolved_at").values_list("organization_id", "resolved_at")
    )
    online_at_start: dict[int, int] = defaultdict(int)
    went_silent: dict[int, list[datetime]] = defaultdict(list)
    for _, organization_id, last_seen in gateways:
        if last_seen >= now - grace - window:
            online_at_start[organization_id] += 1
            if last_seen < now - grace and last_seen >= over_at.get(organization_id, last_seen):
                went_silent[organization_id].append(last_seen)

    open_outages = dict(
        Incident.objects.filter(status=IncidentStatus.OPEN, kind=IncidentKind.CONNECTIVITY_OUTAGE).values_list(
            "organization_id", "pk"
        )
    )
    for organization_id, silent in sorted(went_silent.items()):
        if organization_id in open_outages:
            continue
        if len(silent) >= policy.outage_min_gateways and len(silent) * 100 >= policy.outage_min_share_pct * online_at_start[
            organization_id
        ]:
            detail = f"{len(silent)} of {online_at_start[organization_id]} gateways fell silent within {policy.outage_window_s} s"
            pk = _open(organization_id, min(silent), detail, now, result)
            if pk is not None:
                _fold(pk, organization_id, min(silent) - window, now, result)
    for organization_id, pk in open_outages.items():
        started_at = Incident.objects.filter(pk=pk).values_list("started_at", flat=True).first()
        if started_at is not None:
            _fold(pk, organization_id, started_at - window, now, result)
            _resolve_if_most_back(pk, now, result)


def _open(organization_id: int, started_at: datetime, detail: str, now: datetime, result: EvaluationResult) -> int | None:
    """Insert the organisation's outage with its transition; None if another worker's is already open."""
    try:
        with transaction.atomic():
            incident = Incident.objects.create(
                organization_id=organization_id, kind=IncidentKind.CONNECTIVITY_OUTAGE, status=IncidentStatus.OPEN,
                started_at=started_at, opened_at=now, last_opened_at=now, last_seen=now, detail=detail,
            )
            result.transition_ids += _record(IncidentTransitionKind.OPENED, [(incident.pk, 1)], now)
    except IntegrityError:
        return None
    log.warning("incident %s opened (connectivity outage of organisation %s): %s", incident.pk, organization_id, detail)
    result.opened.append(incident.pk)
    return incident.pk


def _fold(outage_id: int, organization_id: int, silent_since: datetime, now: datetime, result: EvaluationResult) -> None:
    """Fold the organisation's open gateway incidents of gateways silent since the outage's window into it."""
    candidates = list(
        Incident.objects.filter(
            organization_id=organization_id, kind=IncidentKind.GATEWAY_OFFLINE, status=IncidentStatus.OPEN,
            folded_into__isnull=True, gateway__last_seen__gte=silent_since,
        ).order_by("pk").values_list("pk", flat=True)
    )
    if not candidates:
        return
    with transaction.atomic():
        folded = [
            pk for pk in candidates
            if Incident.objects.filter(pk=pk, status=IncidentStatus.OPEN, folded_into__isnull=True).update(
                folded_into_id=outage_id
            )
        ]
        occurrences = _occurrences(folded)
        result.transition_ids += _record(IncidentTransitionKind.FOLDED, [(pk, occurrences[pk]) for pk in folded], now)
    Incident.objects.filter(pk=outage_id, status=IncidentStatus.OPEN).update(last_seen=now)
    result.folded += len(folded)


def _resolve_if_most_back(outage_id: int, now: datetime, result: EvaluationResult) -> None:
    """Resolve the outage once most of its gateways are back; unfold the stragglers so they speak for themselves."""
    explained = Incident.objects.filter(folded_into_id=outage_id, kind=IncidentKind.GATEWAY_OFFLINE)
    total = explained.count()
    still_open = list(explained.filter(status=IncidentStatus.OPEN).order_by("pk").values_list("pk", flat=True))
    if total and len(still_open) * 2 > total:
        Incident.objects.filter(pk=outage_id, status=IncidentStatus.OPEN).update(last_seen=now)
        return
    with transaction.atomic():
        if not Incident.objects.filter(pk=outage_id, status=IncidentStatus.OPEN).update(
            status=IncidentStatus.RESOLVED, resolved_at=now
        ):
            return  # another worker resolved it
        result.transition_ids += _record(IncidentTransitionKind.RESOLVED, [(outage_id, 1)], now)
        unfolded = [
            pk for pk in still_open
            if Incident.objects.filter(pk=pk, status=IncidentStatus.OPEN, folded_into_id=outage_id).update(folded_into=None)
        ]
        occurrences = _occurrences(unfolded)
        result.transition_ids += _record(
            IncidentTransitionKind.UNFOLDED, [(pk, occurrences[pk]) for pk in unfolded], now
        )
    log.info("incident %s resolved (connectivity outage): %s of %s gateways back, %s on their own now",
             outage_id, total - len(still_open), total, len(unfolded))
    result.resolved.append(outage_id)
