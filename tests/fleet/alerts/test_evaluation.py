"""Evaluation: lost and silent meters open one incident each, silent gateways one for the site, data resolves them."""

import pytest
from django.db import IntegrityError, transaction

from fleet.models import Delivery, Incident, IncidentKind, IncidentStatus, IncidentTransition
from fleet.services.alerts_evaluate import alerts_evaluate
from tests.fleet.alerts.conftest import (
    POLICY,
    add_meters,
    told_incidents,
    at,
    at_once,
    dispatch,
    evaluate,
    gateway_seen,
    meter_lost,
    meter_reading,
)

pytestmark = pytest.mark.django_db


def open_incidents(kind=None):
    incidents = Incident.objects.filter(status=IncidentStatus.OPEN)
    return list(incidents.filter(kind=kind) if kind else incidents)


# --- a meter reported lost ------------------------------------------------------------


def test_a_meter_reported_lost_opens_one_incident_that_later_runs_only_refresh(tenant_a):
    gateway_seen(tenant_a.gateway, at(0))
    meter_reading(tenant_a.meter, at(0))
    meter_lost(tenant_a.meter, at(5))

    first = evaluate(10)
    gateway_seen(tenant_a.gateway, at(18))
    second = evaluate(20)

    [incident] = open_incidents()
    assert first.opened == [incident.pk] and second.opened == []
    assert incident.kind == IncidentKind.METER_LOST and incident.meter == tenant_a.meter
    assert incident.organization == tenant_a.organization and incident.site == tenant_a.site
    assert (incident.started_at, incident.opened_at, incident.last_seen) == (at(5), at(10), at(20))
    assert incident.occurrences == 1 and not incident.flapping
    assert "timed out" in incident.detail


def test_the_incident_resolves_when_readings_flow_again(tenant_a):
    gateway_seen(tenant_a.gateway, at(0))
    meter_lost(tenant_a.meter, at(0))
    evaluate(10)
    meter_reading(tenant_a.meter, at(25))
    gateway_seen(tenant_a.gateway, at(25))

    result = evaluate(30)

    incident = Incident.objects.get()
    assert result.resolved == [incident.pk]
    assert incident.status == IncidentStatus.RESOLVED and incident.resolved_at == at(30)
    assert incident.duration_s == 20
    assert evaluate(40).resolved == []


# --- a meter without fresh readings ----------------------------------------------------


def test_a_meter_without_a_reading_for_its_grace_period_while_the_gateway_talks_opens_an_incident(tenant_a):
    meter_reading(tenant_a.meter, at(0))
    gateway_seen(tenant_a.gateway, at(59))
    assert evaluate(59).opened == []

    gateway_seen(tenant_a.gateway, at(61))
    [opened] = evaluate(62).opened

    incident = Incident.objects.get(pk=opened)
    assert incident.meter == tenant_a.meter and incident.started_at == at(0)
    assert "no reading for 62 s" in incident.detail


def test_a_gateway_that_is_late_itself_does_not_make_its_meters_stale(tenant_a):
    add_meters(tenant_a, 3)
    for meter in tenant_a.network.site.networks.all():
        meter_reading(meter.meter, at(0))
    gateway_seen(tenant_a.gateway, at(0))

    # Between the meters' grace (60 s) and the gateway's (120 s) nothing is blamed yet.
    assert evaluate(100).opened == []
    assert open_incidents() == []


# --- a gateway that goes silent --------------------------------------------------------


def test_a_silent_gateway_opens_one_incident_not_one_per_meter(tenant_a):
    meters = add_meters(tenant_a, 5)
    for meter in meters:
        meter_reading(meter, at(0))
    gateway_seen(tenant_a.gateway, at(0))

    result = evaluate(121)

    [incident] = open_incidents()
    assert result.opened == [incident.pk]
    assert incident.kind == IncidentKind.GATEWAY_OFFLINE and incident.gateway == tenant_a.gateway
    assert incident.started_at == at(0)
    assert evaluate(300).opened == []
    assert len(open_incidents()) == 1


def test_meter_incidents_fold_into_their_gateways_incident_and_wait_for_data(tenant_a):
    meters = add_meters(tenant_a, 2)
    meter_reading(meters[1], at(0))
    meter_lost(meters[0], at(0))
    gateway_seen(tenant_a.gateway, at(0))
    [meter_incident] = evaluate(10).opened

    [gateway_incident] = evaluate(130).opened
    assert Incident.objects.get(pk=meter_incident).folded_into_id == gateway_incident
    assert open_incidents(IncidentKind.METER_LOST)[0].pk == meter_incident

    # The gateway is back but the meter has not delivered yet: the gateway resolves, the meter stays.
    gateway_seen(tenant_a.gateway, at(200))
    result = evaluate(201)
    assert result.resolved == [gateway_incident] and result.opened == []
    meter_reading(meters[0], at(205))
    assert evaluate(210).resolved == [meter_incident]


def test_a_site_with_one_live_gateway_of_two_is_not_silent(tenant_a):
    from fleet.models import Gateway

    spare = Gateway.objects.create(site=tenant_a.site, name="gw-spare")
    gateway_seen(spare, at(0))
    gateway_seen(tenant_a.gateway, at(200))
    meter_lost(tenant_a.meter, at(150))

    result = evaluate(201)

    kinds = sorted(Incident.objects.filter(pk__in=result.opened).values_list("kind", flat=True))
    assert kinds == [IncidentKind.GATEWAY_OFFLINE, IncidentKind.METER_LOST]


def test_a_gateway_never_seen_is_not_offline(tenant_a):
    assert evaluate(10_000).opened == []


# --- flapping --------------------------------------------------------------------------


def test_lost_and_restored_repeatedly_within_the_window_is_one_incident_marked_flapping(tenant_a):
    gateway_seen(tenant_a.gateway, at(0))
    opened = []
    for cycle in range(3):
        start = cycle * 60
        meter_lost(tenant_a.meter, at(start + 1))
        gateway_seen(tenant_a.gateway, at(start + 5))
        result = evaluate(start + 10)
        opened += result.opened + result.reopened
        meter_reading(tenant_a.meter, at(start + 20))
        gateway_seen(tenant_a.gateway, at(start + 25))
        evaluate(start + 30)

    [incident] = Incident.objects.all()
    assert opened == [incident.pk] * 3
    assert incident.occurrences == 3 and incident.flapping
    # A flapping incident stays open until the meter has been quiet for the whole window.
    assert incident.status == IncidentStatus.OPEN and incident.cleared_at == at(150)
    gateway_seen(tenant_a.gateway, at(1000))
    meter_reading(tenant_a.meter, at(1000))
    assert evaluate(1000).resolved == []
    assert evaluate(1051).resolved == [incident.pk]


def test_a_loss_after_the_flap_window_is_a_new_incident(tenant_a):
    gateway_seen(tenant_a.gateway, at(0))
    meter_lost(tenant_a.meter, at(0))
    evaluate(10)
    meter_reading(tenant_a.meter, at(20))
    evaluate(20)

    gateway_seen(tenant_a.gateway, at(2000))
    meter_lost(tenant_a.meter, at(2000))
    result = evaluate(2001)

    assert len(result.opened) == 1 and result.reopened == []
    assert Incident.objects.count() == 2


# --- one open incident per (object, kind) ------------------------------------------------


def test_the_database_refuses_a_second_open_incident_for_the_same_meter(tenant_a):
    fields = {"organization": tenant_a.organization, "site": tenant_a.site, "meter": tenant_a.meter,
              "kind": IncidentKind.METER_LOST, "started_at": at(0)}
    Incident.objects.create(**fields)
    with pytest.raises(IntegrityError, match="incident_one_open_per_meter_kind"), transaction.atomic():
        Incident.objects.create(**fields)
    Incident.objects.filter(meter=tenant_a.meter).update(status=IncidentStatus.RESOLVED, resolved_at=at(1))
    Incident.objects.create(**fields)  # resolved ones do not count


def test_the_database_refuses_a_second_open_incident_for_the_same_gateway(tenant_a):
    fields = {"organization": tenant_a.organization, "site": tenant_a.site, "gateway": tenant_a.gateway,
              "kind": IncidentKind.GATEWAY_OFFLINE, "started_at": at(0)}
    Incident.objects.create(**fields)
    with pytest.raises(IntegrityError, match="incident_one_open_per_gateway_kind"), transaction.atomic():
        Incident.objects.create(**fields)


@pytest.mark.django_db(transaction=True)
def test_workers_evaluating_at_the_same_moment_open_and_notify_once(tenant_a, webhook_channel):
    meters = add_meters(tenant_a, 3)
    gateway_seen(tenant_a.gateway, at(0))
    for meter in meters:
        meter_lost(meter, at(0))
    results = at_once(lambda: alerts_evaluate(now=at(10), policy=POLICY), workers=8)
    opened = [pk for result in results for pk in result.opened]
    assert sorted(opened) == sorted(Incident.objects.values_list("pk", flat=True))
    assert len(opened) == 3
    assert sorted(IncidentTransition.objects.values_list("incident_id", "kind")) == [(pk, "opened") for pk in sorted(opened)]
    assert sorted(pk for result in results for pk in result.transition_ids) == sorted(
        IncidentTransition.objects.values_list("pk", flat=True)
    )
    assert sorted(dispatch(10).delivery_ids) == sorted(Delivery.objects.values_list("pk", flat=True))
    assert sorted(told_incidents()) == sorted(opened)


def test_when_another_worker_opened_one_of_a_batch_first_the_rest_still_open_and_only_they_notify(tenant_a, webhook_channel):
    from fleet.services.alerts_evaluate import EvaluationResult, Problem, _open

    meters = add_meters(tenant_a, 3)
    taken = Incident.objects.create(organization=tenant_a.organization, site=tenant_a.site, meter=meters[1],
                                    kind=IncidentKind.METER_LOST, started_at=at(0))
    problems = {m.pk: Problem(tenant_a.site.pk, tenant_a.organization.pk, at(0), "lost") for m in meters}
    result = EvaluationResult()

    _open(IncidentKind.METER_LOST, "meter", problems, at(10), POLICY, result)

    assert len(result.opened) == 2 and taken.pk not in result.opened
    assert sorted(IncidentTransition.objects.values_list("incident_id", flat=True)) == sorted(result.opened)
    dispatch(10)
    assert sorted(told_incidents()) == sorted(result.opened)
    assert len(open_incidents()) == 3
