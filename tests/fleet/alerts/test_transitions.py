"""Transitions: every edge of an incident is recorded once, by the run that changed it, together with the change."""

import pytest
from django.db import DatabaseError, connection, transaction

from fleet.models import Incident, IncidentKind, IncidentTransition
from fleet.services.alerts_evaluate import alerts_evaluate
from tests.fleet.alerts.conftest import POLICY, add_meters, at, at_once, evaluate, gateway_seen, meter_lost, meter_reading

pytestmark = pytest.mark.django_db


def recorded() -> list[tuple[int, str, int, object]]:
    """(incident, kind, occurrence, at) of every transition, in the order written."""
    return list(IncidentTransition.objects.order_by("pk").values_list("incident_id", "kind", "occurrence", "at"))


# --- what is recorded ---------------------------------------------------------------------


def test_each_edge_is_recorded_once_with_its_occurrence_and_refreshes_record_nothing(tenant_a):
    meters = add_meters(tenant_a, 2)
    gateway_seen(tenant_a.gateway, at(0))
    meter_reading(meters[1], at(0))
    meter_lost(meters[0], at(0))
    [meter_incident] = evaluate(10).opened
    evaluate(20)  # still lost: a refresh is no edge
    meter_reading(meters[0], at(25))
    assert evaluate(30).resolved == [meter_incident]
    meter_lost(meters[0], at(35))
    assert evaluate(40).reopened == [meter_incident]
    # The gateway (last seen at 0) falls silent: its incident opens and the meter's folds into it.
    gateway_result = evaluate(200)
    [gateway_incident] = gateway_result.opened
    evaluate(210)

    assert recorded() == [
        (meter_incident, "opened", 1, at(10)),
        (meter_incident, "resolved", 1, at(30)),
        (meter_incident, "reopened", 2, at(40)),
        (gateway_incident, "opened", 1, at(200)),
        (meter_incident, "folded", 2, at(200)),
    ]
    assert gateway_result.folded == 1
    assert not IncidentTransition.objects.filter(processed_at__isnull=False).exists()  # evaluation tells nobody


def test_a_run_reports_the_transitions_it_wrote(tenant_a):
    gateway_seen(tenant_a.gateway, at(0))
    for meter in add_meters(tenant_a, 3):
        meter_lost(meter, at(0))

    result = evaluate(10)

    assert len(result.opened) == 3
    assert sorted(result.transition_ids) == sorted(IncidentTransition.objects.values_list("pk", flat=True))


# --- written with the change, or not at all -------------------------------------------------


class TransitionWrites:
    """Switches a PostgreSQL trigger that makes every INSERT of a transition fail, as a full disk would."""

    def refuse(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                "CREATE TRIGGER refuse_transition BEFORE INSERT ON fleet_incidenttransition "
                "FOR EACH ROW EXECUTE FUNCTION refuse_transition()"
            )

    def allow(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute("DROP TRIGGER refuse_transition ON fleet_incidenttransition")


@pytest.fixture
def transition_writes() -> TransitionWrites:
    # The test's own transaction rolls the function back afterwards.
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE FUNCTION refuse_transition() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'transitions refused by the test'; END $$"
        )
    return TransitionWrites()


# No atomic block around the failing run: only the evaluation's own transaction may undo its change
# (a change committed apart from its transition would stay, and a failure outside any transaction
# would leave the connection unusable; either fails these tests).


def test_an_opening_whose_transition_cannot_be_written_does_not_happen(tenant_a, transition_writes):
    gateway_seen(tenant_a.gateway, at(0))
    meter_lost(tenant_a.meter, at(0))
    transition_writes.refuse()

    with pytest.raises(DatabaseError, match="transitions refused"):
        evaluate(10)
    assert not Incident.objects.exists()

    transition_writes.allow()
    [opened] = evaluate(20).opened
    assert recorded() == [(opened, "opened", 1, at(20))]


def test_a_resolution_whose_transition_cannot_be_written_does_not_happen(tenant_a, transition_writes):
    gateway_seen(tenant_a.gateway, at(0))
    meter_lost(tenant_a.meter, at(0))
    [opened] = evaluate(10).opened
    meter_reading(tenant_a.meter, at(25))
    transition_writes.refuse()

    with pytest.raises(DatabaseError, match="transitions refused"):
        evaluate(30)
    assert Incident.objects.get().status == "open"

    transition_writes.allow()
    assert evaluate(40).resolved == [opened]
    assert [row[1:3] for row in recorded()] == [("opened", 1), ("resolved", 1)]


def test_the_database_refuses_a_second_record_of_the_same_edge(tenant_a):
    gateway_seen(tenant_a.gateway, at(0))
    meter_lost(tenant_a.meter, at(0))
    [opened] = evaluate(10).opened

    with pytest.raises(Exception, match="incident_transition_once_per_occurrence"), transaction.atomic():
        IncidentTransition.objects.create(incident_id=opened, kind="opened", occurrence=1, at=at(11))


# --- several workers at once ---------------------------------------------------------------


def evaluate_concurrently(seconds: float, workers: int = 8) -> list:
    """`workers` threads, each with its own database connection, evaluating at the same moment."""
    return at_once(lambda: alerts_evaluate(now=at(seconds), policy=POLICY), workers)


@pytest.mark.django_db(transaction=True)
def test_workers_evaluating_at_once_record_every_edge_exactly_once(tenant_a):
    meters = add_meters(tenant_a, 3)
    gateway_seen(tenant_a.gateway, at(0))
    steps = []  # (seconds, what changed before the step)
    for meter in meters:
        meter_lost(meter, at(0))
    steps.append(evaluate_concurrently(10))  # three openings
    for meter in meters:
        meter_reading(meter, at(25))
    steps.append(evaluate_concurrently(30))  # three resolutions
    for meter in meters:
        meter_lost(meter, at(35))
    steps.append(evaluate_concurrently(40))  # three reopenings
    steps.append(evaluate_concurrently(200))  # the gateway falls silent: one opening, three folds

    meter_incidents = sorted(Incident.objects.filter(kind=IncidentKind.METER_LOST).values_list("pk", flat=True))
    [gateway_incident] = Incident.objects.filter(kind=IncidentKind.GATEWAY_OFFLINE).values_list("pk", flat=True)
    assert sorted(row[:3] for row in recorded()) == sorted(
        [(pk, "opened", 1) for pk in meter_incidents]
        + [(pk, "resolved", 1) for pk in meter_incidents]
        + [(pk, "reopened", 2) for pk in meter_incidents]
        + [(gateway_incident, "opened", 1)]
        + [(pk, "folded", 2) for pk in meter_incidents]
    )
    # Each row was written by exactly one run, and that run says so.
    reported = [pk for results in steps for result in results for pk in result.transition_ids]
    assert sorted(reported) == sorted(IncidentTransition.objects.values_list("pk", flat=True))
    assert sum(result.folded for result in steps[3]) == 3
