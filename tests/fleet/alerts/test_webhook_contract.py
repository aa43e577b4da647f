"""The webhook contract of README.md: real bodies match docs/webhooks/notification.schema.json, and its snippet verifies."""

import json
import re
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from fleet.models import Delivery, Gateway, IncidentTransition, Site, Transition
from fleet.services.notifications_enqueue import delivery_key, notifications_due
from fleet.services.notifications_send import delivery_send
from tests.fleet.alerts.conftest import SECRET, add_meters, at, dispatch, evaluate, gateway_seen, meter_lost, meter_reading

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[3]
SCHEMA = json.loads((ROOT / "docs/webhooks/notification.schema.json").read_text())
VALIDATOR = Draft202012Validator(SCHEMA)


def send_all(seconds: float) -> None:
    for pk in notifications_due(now=at(seconds)):
        assert delivery_send(pk, now=at(seconds)) == "sent"


def test_the_schema_is_valid_json_schema_and_refuses_a_body_without_its_summary():
    Draft202012Validator.check_schema(SCHEMA)
    body = {"version": 2, "delivery": "group-1-n1-ch1", "transition": "opened", "status": "firing", "group": {},
            "counts": {}, "truncated": False, "incidents": [], "sent_at": "2026-11-24T12:00:00Z"}
    assert not VALIDATOR.is_valid(body)


def test_every_body_a_channel_receives_matches_the_schema(tenant_a, webhook_channel, webhook, settings):
    settings.NOTIFICATIONS_GROUP_MAX_LISTED = 3
    meters = add_meters(tenant_a, 5)
    gateway_seen(tenant_a.gateway, at(0))
    for meter in meters:
        meter_lost(meter, at(0))
    evaluate(10)
    dispatch(10)  # opened, 5 meters, truncated to 3
    send_all(10)
    for meter in meters[:2]:
        meter_reading(meter, at(15))
    gateway_seen(tenant_a.gateway, at(20))
    evaluate(20)
    dispatch(20)  # updated: 2 back, 3 open
    send_all(20)
    other = Site.objects.create(organization=tenant_a.organization, name="far")
    Gateway.objects.create(site=other, name="gw-far", last_seen=at(-200))
    evaluate(21)
    dispatch(21)  # a gateway alone in its group: the body carries `incident`
    send_all(21)
    # A single notification queued before the upgrade (version 1) is still sent as it was.
    [incident_id, occurrence] = IncidentTransition.objects.values_list("incident_id", "occurrence").first()
    Delivery.objects.create(channel=webhook_channel, incident_id=incident_id, transition=Transition.OPENED,
                            next_attempt_at=at(22), idempotency_key=delivery_key(incident_id, occurrence, "opened",
                                                                                 webhook_channel.pk))
    send_all(22)

    bodies = webhook.bodies()
    assert [body.get("transition") for body in bodies] == ["opened", "updated", "opened", "opened"]
    assert bodies[0]["truncated"] and "incident" in bodies[2] and "version" not in bodies[3]
    for body in bodies:
        errors = sorted(VALIDATOR.iter_errors(body), key=str)
        assert errors == [], (body, [error.message for error in errors])


def test_an_outage_body_with_no_site_matches_the_schema(tenant_a, webhook_channel, webhook):
    for index in range(11):
        site = Site.objects.create(organization=tenant_a.organization, name=f"s{index}")
        Gateway.objects.create(site=site, name=f"g{index}")
    Gateway.objects.update(last_seen=at(0))
    evaluate(125)
    dispatch(125)
    send_all(125)

    [body] = webhook.bodies()
    assert body["incident"]["kind"] == "connectivity_outage" and body["incident"]["site"] is None
    assert VALIDATOR.is_valid(body)


def test_the_readme_verification_snippet_accepts_a_real_delivery_and_refuses_a_changed_body(
    tenant_a, webhook_channel, webhook
):
    readme = (ROOT / "README.md").read_text()
    [snippet] = re.findall(r"```python\n(import hashlib, hmac\n.*?)```", readme, re.S)
    namespace: dict = {}
    exec(snippet, namespace)  # noqa: S102 (our own README's code, run as a receiver would)
    verified = namespace["fuseguard_verified"]
    gateway_seen(tenant_a.gateway, at(0))
    meter_lost(tenant_a.meter, at(0))
    evaluate(10)
    dispatch(10)
    send_all(10)

    [call] = webhook.calls
    signature = call["headers"]["X-FuseGuard-Signature"]
    assert verified(SECRET, call["body"], signature)
    assert not verified(SECRET, call["body"].replace(b"meter_lost", b"meter_lust"), signature)
    assert not verified("another secret", call["body"], signature)
    assert call["headers"]["X-FuseGuard-Delivery"] == json.loads(call["body"])["delivery"]
