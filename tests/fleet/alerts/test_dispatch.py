"""The dispatcher: unprocessed transitions become the deliveries evaluation used to queue, once, whoever runs it."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from fleet import celery_app
from fleet.celery import beat_table
from fleet.models import (
    ChannelKind,
    Delivery,
    Gateway,
    Incident,
    IncidentKind,
    IncidentTransition,
    MeterState,
    NotificationChannel,
)
from fleet.services.alerts_evaluate import alerts_evaluate
from fleet.services.notifications_dispatch import notifications_dispatch
from fleet.services.notifications_enqueue import notifications_due
from fleet.services.notifications_send import delivery_send
from fleet.tasks import notifications_dispatch as notifications_dispatch_task
from tests.fleet.alerts.conftest import add_meters, at, dispatch, evaluate, gateway_seen, meter_lost, meter_reading

pytestmark = pytest.mark.django_db


def keys() -> list[str]:
    return sorted(Delivery.objects.values_list("idempotency_key", flat=True))


def every_edge(tenant) -> tuple[int, int]:
    """A meter incident opened, resolved, reopened and folded into its gateway's new incident; (meter, gateway) ids."""
    gateway_seen(tenant.gateway, at(0))
    meter_lost(tenant.meter, at(0))
    [meter_incident] = evaluate(10).opened
    meter_reading(tenant.meter, at(25))
    evaluate(30)
    meter_lost(tenant.meter, at(35))
    evaluate(40)
    [gateway_incident] = evaluate(200).opened  # the gateway, last seen at 0, is silent: the meter's incident folds
    assert Incident.objects.get(pk=meter_incident).folded_into_id == gateway_incident
    return meter_incident, gateway_incident


# --- the same deliveries as before -------------------------------------------------------------


def test_each_transition_becomes_one_delivery_per_active_channel_with_the_keys_of_before(
    tenant_a, tenant_b, webhook_channel, email_channel
):
    NotificationChannel.objects.create(organization=tenant_a.organization, name="paused", kind=ChannelKind.EMAIL,
                                       email_recipients="x@alpha.example", is_active=False)
    NotificationChannel.objects.create(organization=tenant_b.organization, name="bravo", kind=ChannelKind.EMAIL,
                                       email_recipients="x@bravo.example")
    meter, gateway = every_edge(tenant_a)

    result = dispatch(210)

    expected = [
        f"incident-{incident}-o{occurrence}-{transition}-ch{channel.pk}"
        for incident, occurrence, transition in [
            (meter, 1, "opened"), (meter, 1, "resolved"), (meter, 2, "opened"),  # a reopening announces its occurrence
            (gateway, 1, "opened"),  # the fold is quiet: the gateway's incident speaks for the meter
        ]
        for channel in (webhook_channel, email_channel)
    ]
    assert keys() == sorted(expected)
    assert sorted(result.delivery_ids) == sorted(Delivery.objects.values_list("pk", flat=True))
    assert sorted(result.transition_ids) == sorted(IncidentTransition.objects.values_list("pk", flat=True))
    assert set(IncidentTransition.objects.values_list("processed_at", flat=True)) == {at(210)}
    assert set(Delivery.objects.values_list("status", "next_attempt_at", "created_at")) == {("pending", at(210), at(210))}
    assert sorted(Delivery.objects.values_list("transition", flat=True)) == ["opened"] * 6 + ["resolved"] * 2


def test_an_organisation_without_active_channels_gets_its_transitions_processed_quietly(tenant_a):
    every_edge(tenant_a)

    result = dispatch(210)

    assert len(result.transition_ids) == 5 and result.delivery_ids == []
    assert not IncidentTransition.objects.filter(processed_at__isnull=True).exists()
    assert not Delivery.objects.exists()


# --- idempotent ------------------------------------------------------------------------------------


def test_a_second_run_finds_nothing_and_changes_nothing(tenant_a, webhook_channel):
    every_edge(tenant_a)
    first = dispatch(210)
    before = list(Delivery.objects.order_by("pk").values_list("pk", "idempotency_key", "created_at"))

    second = dispatch(220)

    assert len(first.transition_ids) == 5 and len(first.delivery_ids) == 4
    assert (second.transition_ids, second.delivery_ids) == ([], [])
    assert list(Delivery.objects.order_by("pk").values_list("pk", "idempotency_key", "created_at")) == before
    assert set(IncidentTransition.objects.values_list("processed_at", flat=True)) == {at(210)}


def test_many_transitions_are_handed_out_in_batches_without_losing_one(tenant_a, webhook_channel):
    gateway_seen(tenant_a.gateway, at(0))
    for meter in add_meters(tenant_a, 7):
        meter_lost(meter, at(0))
    opened = evaluate(10).opened

    result = notifications_dispatch(now=at(10), batch_size=3)

    assert len(result.transition_ids) == 7 == len(set(result.transition_ids))
    assert sorted(Delivery.objects.values_list("incident_id", flat=True)) == sorted(opened)
    assert not IncidentTransition.objects.filter(processed_at__isnull=True).exists()


# --- nothing lost when the dispatcher has not run yet -------------------------------------------


def test_transitions_of_runs_whose_dispatcher_never_ran_go_out_with_the_next_run_in_order(tenant_a, webhook_channel, webhook):
    gateway_seen(tenant_a.gateway, at(0))
    meter_lost(tenant_a.meter, at(0))
    [incident] = evaluate(10).opened
    meter_reading(tenant_a.meter, at(25))
    evaluate(30)  # neither run's dispatcher ran (the worker died after each evaluation)
    assert not Delivery.objects.exists()

    dispatch(40)
    for delivery_id in notifications_due(now=at(40)):
        assert delivery_send(delivery_id, now=at(40)) == "sent"

    assert [(body["transition"], body["incident"]["status"]) for body in webhook.bodies()] == [
        ("opened", "resolved"), ("resolved", "resolved"),  # told late, so the opening already shows the outcome
    ]
    assert [call["headers"]["X-FuseGuard-Delivery"] for call in webhook.calls] == [
        f"incident-{incident}-o1-opened-ch{webhook_channel.pk}", f"incident-{incident}-o1-resolved-ch{webhook_channel.pk}",
    ]


def test_a_transition_keeps_the_occurrence_it_happened_in_even_if_the_incident_moved_on(tenant_a, webhook_channel):
    gateway_seen(tenant_a.gateway, at(0))
    meter_lost(tenant_a.meter, at(0))
    [incident] = evaluate(10).opened
    meter_reading(tenant_a.meter, at(25))
    evaluate(30)
    meter_lost(tenant_a.meter, at(35))
    evaluate(40)  # occurrence 2 by now; nothing dispatched yet

    dispatch(50)

    assert keys() == sorted(
        f"incident-{incident}-{edge}-ch{webhook_channel.pk}" for edge in ("o1-opened", "o1-resolved", "o2-opened")
    )


# --- several dispatchers at once (PostgreSQL row locks) -------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_dispatchers_running_at_once_process_each_transition_exactly_once(tenant_a, webhook_channel, email_channel):
    gateway_seen(tenant_a.gateway, at(0))
    meters = add_meters(tenant_a, 30)
    for meter in meters:
        meter_lost(meter, at(0))
    assert len(evaluate(10).opened) == 30
    workers = 6
    barrier = threading.Barrier(workers)
    results, errors = [], []

    def worker():
        try:
            barrier.wait()
            # Small batches, so that the workers meet on the same rows many times.
            results.append(notifications_dispatch(now=at(11), batch_size=2))
        except Exception as problem:  # noqa: BLE001 (collected and asserted on below)
            errors.append(problem)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert errors == [] and len(results) == workers
    processed = [pk for result in results for pk in result.transition_ids]
    assert sorted(processed) == sorted(IncidentTransition.objects.values_list("pk", flat=True))  # each once, none missed
    queued = [pk for result in results for pk in result.delivery_ids]
    assert sorted(queued) == sorted(Delivery.objects.values_list("pk", flat=True))
    assert Delivery.objects.count() == 60  # 30 openings on 2 channels


# --- wired into the tasks --------------------------------------------------------------------------


def test_the_dispatcher_has_its_own_place_in_the_beat_table(settings):
    assert ("notifications-dispatch", "fleet.tasks.notifications_dispatch", float(settings.ALERTS_EVALUATION_INTERVAL_S)) in (
        beat_table()
    )


@pytest.mark.django_db(transaction=True)
def test_the_dispatch_task_delivers_what_an_evaluation_left_behind(tenant_a, webhook_channel, webhook):
    now = timezone.now()
    Gateway.objects.filter(pk=tenant_a.gateway.pk).update(last_seen=now)
    MeterState.objects.create(meter=tenant_a.meter, available=False, lost_since=now - timedelta(seconds=5))
    alerts_evaluate()  # the evaluation task's process died before its own dispatch
    assert webhook.calls == []

    celery_app.conf.task_always_eager = True  # what settings choose when REDIS_URL is empty
    try:
        assert notifications_dispatch_task.apply().get() == 1
        assert notifications_dispatch_task.apply().get() == 0
    finally:
        celery_app.conf.task_always_eager = False

    assert [(body["transition"], body["incident"]["kind"]) for body in webhook.bodies()] == [("opened", IncidentKind.METER_LOST)]
