"""Notifications: signed webhooks and e-mails on open and resolve, reminders while open, retries, never twice.

Each incident here is alone in its group, so each notification is about one
incident (the body's `incident`); test_groups.py specifies bursts.
"""

import hashlib
import hmac
import json

import pytest
from django.core import mail

from fleet.models import (
    ChannelKind,
    Delivery,
    DeliveryStatus,
    Incident,
    IncidentTransition,
    NotificationChannel,
    NotificationGroup,
    Transition,
)
from fleet.services.incidents_acknowledge import AckOutcome, incident_acknowledge
from fleet.services.notifications_enqueue import deliveries_release_node, notifications_due
from fleet.services import notifications_send
from fleet.services.notifications_send import delivery_send
from tests.fleet.alerts.conftest import (
    SECRET,
    add_meters,
    at,
    dispatch,
    evaluate_and_dispatch,
    gateway_seen,
    meter_lost,
    meter_reading,
)

pytestmark = pytest.mark.django_db

HOUR_S = 3600


def send_all(seconds: float) -> list[str]:
    """What a worker does with everything due at that moment."""
    return [delivery_send(pk, now=at(seconds)) for pk in notifications_due(now=at(seconds))]


def open_meter_incident(tenant, seconds: float = 10) -> Incident:
    gateway_seen(tenant.gateway, at(0))
    meter_lost(tenant.meter, at(0))
    [pk] = evaluate_and_dispatch(seconds).opened
    return Incident.objects.get(pk=pk)


# --- webhook ----------------------------------------------------------------------------


def test_an_opened_incident_is_posted_once_as_json_signed_with_hmac_sha256(tenant_a, webhook_channel, webhook):
    incident = open_meter_incident(tenant_a)

    assert send_all(10) == ["sent"]
    assert send_all(11) == []

    [call] = webhook.calls
    body, headers = call["body"], call["headers"]
    expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(headers["X-FuseGuard-Signature"], expected)
    assert headers["Content-Type"] == "application/json"
    assert headers["X-FuseGuard-Event"] == "incident.opened"
    payload = json.loads(body)
    [group] = NotificationGroup.objects.all()
    assert headers["X-FuseGuard-Delivery"] == payload["delivery"] == f"group-{group.pk}-n1-ch{webhook_channel.pk}"
    assert payload["transition"] == "opened" and payload["status"] == "firing"
    assert payload["summary"] == "1 meter lost at 1 site of Org alpha"
    assert payload["incidents"] == [payload["incident"]] and payload["incident"]["state"] == "firing"
    assert payload["incident"] | {"duration_s": None} == payload["incident"] | {
        "id": incident.pk, "kind": "meter_lost", "status": "open", "organization": "alpha",
        "site": {"id": tenant_a.site.pk, "name": "site-alpha"}, "gateway": None,
        "meter": {"id": tenant_a.meter.pk, "network": "net-alpha", "host": "meter-alpha.example"},
        "started_at": "2026-11-24T12:00:00Z", "opened_at": "2026-11-24T12:00:10Z", "occurrences": 1, "flapping": False,
        "duration_s": None,
    }
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.transition) == (DeliveryStatus.SENT, 1, Transition.OPENED)


def dispatch_again(seconds: float) -> list[int]:
    """Dispatch every transition once more, as if its processed mark had been lost."""
    IncidentTransition.objects.update(processed_at=None)
    return dispatch(seconds).delivery_ids


def test_the_same_transition_is_never_queued_twice(tenant_a, webhook_channel, webhook):
    open_meter_incident(tenant_a)
    assert dispatch_again(12) == []  # the group already holds the incident as told: nothing new to say
    send_all(12)
    assert dispatch_again(13) == []
    assert send_all(13) == []
    assert len(webhook.calls) == 1 and Delivery.objects.count() == 1


def test_a_resolved_meter_sends_one_resolve_notification(tenant_a, webhook_channel, webhook):
    open_meter_incident(tenant_a)
    send_all(10)
    meter_reading(tenant_a.meter, at(20))
    evaluate_and_dispatch(30)
    evaluate_and_dispatch(40)
    send_all(40)
    send_all(50)

    assert [body["transition"] for body in webhook.bodies()] == ["opened", "resolved"]
    resolved = webhook.bodies()[1]["incident"]
    assert resolved["status"] == "resolved" and resolved["resolved_at"] == "2026-11-24T12:00:30Z"
    assert resolved["duration_s"] == 20.0


def test_a_silent_gateway_notifies_once_for_the_site_not_per_meter(tenant_a, webhook_channel, webhook):
    for meter in add_meters(tenant_a, 4):
        meter_reading(meter, at(0))
    gateway_seen(tenant_a.gateway, at(0))
    for seconds in (30, 60, 90, 121, 131, 141):
        evaluate_and_dispatch(seconds)
        send_all(seconds)

    [body] = webhook.bodies()
    assert body["incident"]["kind"] == "gateway_offline" and body["incident"]["gateway"]["name"] == "gw-alpha"


# --- retries ----------------------------------------------------------------------------


def test_a_failed_webhook_is_retried_with_growing_delays_and_keeps_its_key(tenant_a, webhook_channel, webhook, settings):
    settings.NOTIFICATIONS_RETRY_BASE_S = 30
    webhook.answers = [500, 503]
    open_meter_incident(tenant_a)

    assert send_all(10) == ["retry"]
    delivery = Delivery.objects.get()
    assert delivery.next_attempt_at == at(40) and "HTTP 500" in delivery.last_error
    assert send_all(39) == []
    assert send_all(40) == ["retry"]
    assert Delivery.objects.get().next_attempt_at == at(100)
    assert send_all(100) == ["sent"]

    keys = {call["headers"]["X-FuseGuard-Delivery"] for call in webhook.calls}
    assert len(webhook.calls) == 3 and len(keys) == 1
    assert Delivery.objects.get().attempts == 3


def test_an_unreachable_webhook_is_given_up_after_the_last_attempt(tenant_a, settings):
    settings.NOTIFICATIONS_MAX_ATTEMPTS = 2
    NotificationChannel.objects.create(
        organization=tenant_a.organization, name="dead", kind=ChannelKind.WEBHOOK, webhook_url="http://127.0.0.1:9/x",
        webhook_secret=SECRET,
    )
    open_meter_incident(tenant_a)

    assert send_all(10) == ["retry"]
    assert send_all(10 + 30) == ["failed"]
    delivery = Delivery.objects.get()
    assert delivery.status == DeliveryStatus.FAILED and "ConnectError" in delivery.last_error
    assert send_all(10_000) == []


def test_a_delivery_left_by_a_dead_worker_is_tried_again_after_its_lease(tenant_a, webhook_channel, webhook):
    open_meter_incident(tenant_a)
    Delivery.objects.update(status=DeliveryStatus.SENDING, lease_until=at(40), attempts=1, claimed_by="celery@gone")

    assert send_all(30) == []
    assert send_all(41) == ["sent"]
    assert len(webhook.calls) == 1
    assert Delivery.objects.get().attempts == 1  # the attempt the crash cut off did not count


def test_a_claim_lasts_one_send_timeout_and_names_the_node_sending(tenant_a, webhook_channel, settings, monkeypatch):
    settings.NOTIFICATIONS_TIMEOUT_S = 10
    webhook_channel.webhook_url = "http://127.0.0.1:9/refused"
    webhook_channel.save()
    open_meter_incident(tenant_a)
    seen = []
    send = notifications_send._send_webhook

    def spying(delivery, payload):  # what another worker reads while this one sends
        seen.extend(Delivery.objects.values_list("status", "lease_until", "claimed_by"))
        send(delivery, payload)

    monkeypatch.setattr(notifications_send, "_send_webhook", spying)
    [pk] = notifications_due(now=at(10))
    assert delivery_send(pk, now=at(10), node="celery@worker-1") == "retry"

    assert seen == [(DeliveryStatus.SENDING, at(10 + 10 + notifications_send.LEASE_MARGIN_S), "celery@worker-1")]
    assert Delivery.objects.get().claimed_by == ""


def test_a_starting_node_voids_the_claims_of_its_former_process_at_once_and_the_cut_attempt_does_not_count(
    tenant_a, webhook_channel, webhook, settings
):
    settings.NOTIFICATIONS_RETRY_BASE_S = 30
    open_meter_incident(tenant_a)
    webhook.answers = [500]
    assert send_all(10) == ["retry"]  # one real failure: attempt 1, retry at 40
    Delivery.objects.update(status=DeliveryStatus.SENDING, attempts=2, lease_until=at(40 + 15), claimed_by="celery@a")

    assert deliveries_release_node("celery@b", now=at(41)) == 0
    assert deliveries_release_node("celery@a", now=at(41)) == 1
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.next_attempt_at) == (DeliveryStatus.PENDING, 1, at(41))
    webhook.answers = [503]
    assert send_all(41) == ["retry"]
    assert Delivery.objects.get().next_attempt_at == at(41 + 60)  # the second failure, not the third


# --- e-mail -----------------------------------------------------------------------------


def test_an_email_channel_gets_a_message_through_djangos_backend(tenant_a, email_channel):
    incident = open_meter_incident(tenant_a)
    send_all(10)

    [message] = mail.outbox
    assert message.to == ["ops@alpha.example", "oncall@alpha.example"]
    assert message.subject == "[FuseGuard] 1 meter lost at 1 site of Org alpha"
    assert "MeterTransportError: timed out" in message.body and "site-alpha: meter net-alpha" in message.body
    [group] = NotificationGroup.objects.filter(members__incident=incident)
    assert message.extra_headers["X-FuseGuard-Delivery"] == f"group-{group.pk}-n1-ch{email_channel.pk}"


# --- reminders --------------------------------------------------------------------------


def test_reminders_repeat_every_interval_while_open_once_each(tenant_a, webhook_channel, webhook, settings):
    settings.ALERTS_REPEAT_INTERVAL_S = 4 * HOUR_S
    incident = open_meter_incident(tenant_a, seconds=0)
    send_all(0)

    for seconds in (HOUR_S, 4 * HOUR_S - 1, 4 * HOUR_S, 4 * HOUR_S, 6 * HOUR_S, 8 * HOUR_S, 8 * HOUR_S + 1):
        dispatch(seconds)
        send_all(seconds)

    assert [body["transition"] for body in webhook.bodies()] == ["opened", "reminder", "reminder"]
    [group] = NotificationGroup.objects.filter(members__incident=incident)
    assert [call["headers"]["X-FuseGuard-Delivery"] for call in webhook.calls[1:]] == [
        f"group-{group.pk}-n2-ch{webhook_channel.pk}", f"group-{group.pk}-n3-ch{webhook_channel.pk}",
    ]


def test_a_channel_may_remind_more_often_and_folded_meter_incidents_stay_quiet(tenant_a, webhook_channel, webhook):
    webhook_channel.repeat_interval_s = 600
    webhook_channel.save()
    open_meter_incident(tenant_a, seconds=0)
    evaluate_and_dispatch(200)  # the gateway (last seen at 0) is now silent too: its incident folds the meter's
    send_all(200)
    for seconds in (600, 800, 1400):  # the meter's group is 600 s old, the gateway's 600 s and 1200 s
        dispatch(seconds)
        send_all(seconds)

    kinds = [(body["transition"], body["incident"]["kind"]) for body in webhook.bodies()]
    assert kinds == [
        ("opened", "meter_lost"), ("opened", "gateway_offline"), ("reminder", "gateway_offline"), ("reminder", "gateway_offline"),
    ]


def test_an_acknowledged_incident_is_not_reminded_but_its_resolution_is_sent(tenant_a, webhook_channel, webhook, settings):
    settings.ALERTS_REPEAT_INTERVAL_S = HOUR_S
    incident = open_meter_incident(tenant_a, seconds=0)
    send_all(0)
    dispatch(HOUR_S)
    send_all(HOUR_S)
    assert incident_acknowledge(incident, tenant_a.operator, "on it", now=at(HOUR_S + 60)) is AckOutcome.ACKNOWLEDGED
    for seconds in (2 * HOUR_S, 3 * HOUR_S):
        dispatch(seconds)
        send_all(seconds)
    meter_reading(tenant_a.meter, at(3 * HOUR_S + 10))
    gateway_seen(tenant_a.gateway, at(3 * HOUR_S + 10))
    evaluate_and_dispatch(3 * HOUR_S + 20)
    send_all(3 * HOUR_S + 20)

    assert [body["transition"] for body in webhook.bodies()] == ["opened", "reminder", "resolved"]


def test_channels_of_other_organisations_and_inactive_ones_hear_nothing(tenant_a, tenant_b, webhook, webhook_channel):
    NotificationChannel.objects.create(
        organization=tenant_b.organization, name="bravo hook", kind=ChannelKind.WEBHOOK, webhook_url=webhook.url,
    )
    NotificationChannel.objects.create(
        organization=tenant_a.organization, name="paused", kind=ChannelKind.WEBHOOK, webhook_url=webhook.url,
        is_active=False,
    )
    open_meter_incident(tenant_a)
    send_all(10)

    assert [call["headers"]["X-FuseGuard-Delivery"].rsplit("-", 1)[1] for call in webhook.calls] == [f"ch{webhook_channel.pk}"]
