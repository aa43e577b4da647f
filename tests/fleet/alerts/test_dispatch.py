"""The dispatcher: unprocessed transitions are filed into notification groups and told once, whoever runs it."""

from datetime import timedelta

import pytest
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
    NotificationGroup,
)
from fleet.services.alerts_evaluate import alerts_evaluate
from fleet.services.notifications_dispatch import notifications_dispatch
from fleet.services.notifications_enqueue import notifications_due
from fleet.services.notifications_send import delivery_send
from fleet.tasks import notifications_dispatch as notifications_dispatch_task
from tests.fleet.alerts.conftest import add_meters, at, at_once, dispatch, evaluate, gateway_seen, meter_lost, meter_reading

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


# --- who is told what ------------------------------------------------------------------------------


def test_each_edge_files_its_incident_into_a_group_per_active_channel_and_the_fold_stays_quiet(
    tenant_a, tenant_b, webhook_channel, email_channel
):
    NotificationChannel.objects.create(organization=tenant_a.organization, name="paused", kind=ChannelKind.EMAIL,
                                       email_recipients="x@alpha.example", is_active=False)
    NotificationChannel.objects.create(organization=tenant_b.organization, name="bravo", kind=ChannelKind.EMAIL,
                                       email_recipients="x@bravo.example")
    meter, gateway = every_edge(tenant_a)

    result = dispatch(210)

    for channel in (webhook_channel, email_channel):
        assert sorted(NotificationGroup.objects.filter(channel=channel).values_list("key", flat=True)) == [
            "kind=gateway_offline", "kind=meter_lost",
        ]
    assert NotificationGroup.objects.count() == 4  # nothing for the paused channel or the other organisation
    # Told as things stand at the flush: the meter's incident is folded into the gateway's, which speaks for it.
    deliveries = list(Delivery.objects.order_by("channel_id"))
    assert [(d.channel_id, d.transition, d.payload["group"]["key"]) for d in deliveries] == [
        (pk, "opened", "kind=gateway_offline") for pk in sorted((webhook_channel.pk, email_channel.pk))
    ]
    assert [facts["id"] for facts in deliveries[0].payload["incidents"]] == [gateway] != [meter]
    assert sorted(result.delivery_ids) == sorted(d.pk for d in deliveries)
    assert sorted(result.transition_ids) == sorted(IncidentTransition.objects.values_list("pk", flat=True))
    assert set(IncidentTransition.objects.values_list("processed_at", flat=True)) == {at(210)}
    assert set(Delivery.objects.values_list("status", "next_attempt_at", "created_at")) == {("pending", at(210), at(210))}


def test_dispatched_edge_by_edge_each_change_is_told_once_under_the_groups_numbered_keys(tenant_a, webhook_channel):
    gateway_seen(tenant_a.gateway, at(0))
    meter_lost(tenant_a.meter, at(0))
    for seconds, change in ((10, None), (30, lambda: meter_reading(tenant_a.meter, at(25))),
                            (40, lambda: meter_lost(tenant_a.meter, at(35)))):
        if change:
            change()
        evaluate(seconds)
        dispatch(seconds)

    [group] = NotificationGroup.objects.filter(key="kind=meter_lost")
    assert list(Delivery.objects.order_by("pk").values_list("idempotency_key", "transition")) == [
        (f"group-{group.pk}-n1-ch{webhook_channel.pk}", "opened"),
        (f"group-{group.pk}-n2-ch{webhook_channel.pk}", "resolved"),
        (f"group-{group.pk}-n3-ch{webhook_channel.pk}", "opened"),  # a reopening is news again
    ]


def test_an_organisation_without_active_channels_gets_its_transitions_processed_quietly(tenant_a):
    every_edge(tenant_a)

    result = dispatch(210)

    assert len(result.transition_ids) == 5 and result.delivery_ids == []
    assert not IncidentTransition.objects.filter(processed_at__isnull=True).exists()
    assert not Delivery.objects.exists() and not NotificationGroup.objects.exists()


# --- idempotent ------------------------------------------------------------------------------------


def test_a_second_run_finds_nothing_and_changes_nothing(tenant_a, webhook_channel):
    every_edge(tenant_a)
    first = dispatch(210)
    before = list(Delivery.objects.order_by("pk").values_list("pk", "idempotency_key", "created_at"))

    second = dispatch(220)

    assert len(first.transition_ids) == 5 and len(first.delivery_ids) == 1
    assert (second.transition_ids, second.delivery_ids) == ([], [])
    assert list(Delivery.objects.order_by("pk").values_list("pk", "idempotency_key", "created_at")) == before
    assert set(IncidentTransition.objects.values_list("processed_at", flat=True)) == {at(210)}


def test_many_transitions_are_filed_in_batches_without_losing_one(tenant_a, webhook_channel):
    gateway_seen(tenant_a.gateway, at(0))
    for meter in add_meters(tenant_a, 7):
        meter_lost(meter, at(0))
    opened = evaluate(10).opened

    result = notifications_dispatch(now=at(10), batch_size=3)

    assert len(result.transition_ids) == 7 == len(set(result.transition_ids))
    [delivery] = Delivery.objects.all()
    assert sorted(facts["id"] for facts in delivery.payload["incidents"]) == sorted(opened)
    assert not IncidentTransition.objects.filter(processed_at__isnull=True).exists()


# --- nothing lost when the dispatcher has not run yet -------------------------------------------


def test_transitions_of_runs_whose_dispatcher_never_ran_are_told_as_things_stand(tenant_a, webhook_channel, webhook):
    gateway_seen(tenant_a.gateway, at(0))
    meter_lost(tenant_a.meter, at(0))
    evaluate(10)
    dispatch(10)
    for delivery_id in notifications_due(now=at(10)):
        delivery_send(delivery_id, now=at(10))
    meter_reading(tenant_a.meter, at(25))
    evaluate(30)
    meter_lost(tenant_a.meter, at(35))
    evaluate(40)  # resolved and lost again; neither run's dispatcher ran (the worker died after each evaluation)

    dispatch(50)
    for delivery_id in notifications_due(now=at(50)):
        assert delivery_send(delivery_id, now=at(50)) == "sent"

    # The channel heard of the loss and hears nothing of a blink it was never told about.
    assert [(body["transition"], body["incident"]["occurrences"]) for body in webhook.bodies()] == [("opened", 1)]


def test_an_incident_opened_and_resolved_before_anyone_was_told_stays_quiet(tenant_a, webhook_channel, settings):
    settings.NOTIFICATIONS_GROUP_WAIT_S = 30
    gateway_seen(tenant_a.gateway, at(0))
    meter_lost(tenant_a.meter, at(0))
    evaluate(10)
    dispatch(10)
    meter_reading(tenant_a.meter, at(15))
    evaluate(20)
    dispatch(20)

    assert dispatch(40).delivery_ids == [] and not Delivery.objects.exists()
    assert not NotificationGroup.objects.get().members.exists()


# --- several dispatchers at once (PostgreSQL row locks) -------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_dispatchers_running_at_once_process_each_transition_and_make_each_notification_exactly_once(
    tenant_a, webhook_channel, email_channel
):
    gateway_seen(tenant_a.gateway, at(0))
    meters = add_meters(tenant_a, 30)
    for meter in meters:
        meter_lost(meter, at(0))
    assert len(evaluate(10).opened) == 30
    # Six dispatchers in small batches, so that they meet on the same rows many times.
    results = at_once(lambda: notifications_dispatch(now=at(11), batch_size=2), workers=6, join_s=60)
    processed = [pk for result in results for pk in result.transition_ids]
    assert sorted(processed) == sorted(IncidentTransition.objects.values_list("pk", flat=True))  # each once, none missed
    queued = [pk for result in results for pk in result.delivery_ids]
    assert sorted(queued) == sorted(Delivery.objects.values_list("pk", flat=True))
    # A run may flush a group before the others filed the rest: those wait for the group interval (1 s here).
    later = dispatch(12).delivery_ids
    assert sorted(queued + later) == sorted(Delivery.objects.values_list("pk", flat=True))
    # Every incident announced as new exactly once on each channel.
    for channel in (webhook_channel, email_channel):
        deliveries = Delivery.objects.filter(channel=channel)
        new = [facts["id"] for d in deliveries for facts in d.payload["incidents"] if facts["new"]]
        assert sorted(new) == sorted(Incident.objects.values_list("pk", flat=True))


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
