"""Sending one delivery: an e-mail through Django's backend or a signed JSON POST, with back-off on failure.

A worker first claims the delivery with a conditional UPDATE (pending ->
sending, naming its Celery node); only the worker whose UPDATE changed the
row sends, so a delivery queued twice on the broker still goes out once. The
claim's lease is the send timeout plus a margin: a worker that died mid-send
is noticed that much later by any worker, or at once when its node starts
again. A failed attempt goes back to pending with an exponentially growing
delay, until the last attempt marks it failed.

Webhooks: the body is compact JSON; `X-FuseGuard-Signature: sha256=<hex>` is
HMAC-SHA256 of the exact body bytes with the channel's secret, and
`X-FuseGuard-Delivery` carries the idempotency key, the same on every retry.
A group's notification sends the body fixed when it was made, plus `sent_at`.
The contract is documented in README.md ("Webhooks") and
docs/webhooks/notification.schema.json.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import smtplib
from datetime import datetime, timedelta
from typing import Any

import httpx
from django.conf import settings
from django.core.mail import EmailMessage
from django.db.models import F
from django.utils import timezone

from fleet.models import ChannelKind, Delivery, DeliveryStatus, Incident, IncidentKind, Transition
from fleet.services.notifications_payload import iso, incident_facts

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-FuseGuard-Signature"
DELIVERY_HEADER = "X-FuseGuard-Delivery"
EVENT_HEADER = "X-FuseGuard-Event"


class DeliveryFailed(Exception):
    """The receiver did not take the notification (an HTTP error status, a refused connection, an SMTP error)."""


def webhook_signature(secret: str, body: bytes) -> str:
    """The signature header's value for a body: `sha256=` and the hex HMAC-SHA256 with the channel's secret."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def retry_delay_s(attempts: int) -> float:
    """Seconds to wait after the given number of failed attempts: doubling from the base, capped."""
    return float(min(settings.NOTIFICATIONS_RETRY_BASE_S * 2 ** max(0, attempts - 1), settings.NOTIFICATIONS_RETRY_MAX_S))


def incident_payload(incident: Incident, transition: str, key: str) -> dict[str, Any]:
    """What a notification of one incident made before grouping says (version 1 of the body)."""
    return {"delivery": key, "transition": transition, "incident": incident_facts(incident), "sent_at": iso(timezone.now())}


def _subject(incident: Incident, transition: str) -> str:
    what = (
        f"meter of {incident.meter.network.name}" if incident.kind == IncidentKind.METER_LOST else f"gateway {incident.gateway.name}"
    )
    edge = {Transition.OPENED: "lost", Transition.REMINDER: "still lost", Transition.RESOLVED: "back"}[transition]
    if incident.kind == IncidentKind.GATEWAY_OFFLINE:
        edge = {Transition.OPENED: "offline", Transition.REMINDER: "still offline", Transition.RESOLVED: "online again"}[transition]
    flapping = " (flapping)" if incident.flapping else ""
    return f"[FuseGuard] {incident.site.name}: {what} {edge}{flapping}"


def _group_subject(payload: dict[str, Any]) -> str:
    edge = {"opened": "", "updated": "update: ", "reminder": "still open: ", "resolved": "resolved: "}[payload["transition"]]
    return f"[FuseGuard] {edge}{payload['summary']}"


def _group_text(payload: dict[str, Any]) -> str:
    """The e-mail of a group: the summary, then one line per incident, open ones first."""
    lines = [payload["summary"], ""]
    marks = {"firing": "OPEN", "resolved": "BACK", "folded": "EXPLAINED"}
    for facts in payload["incidents"]:
        if facts["meter"]:
            what = f"{facts['site']['name']}: meter {facts['meter']['network']} ({facts['meter']['host']})"
        elif facts["gateway"]:
            what = f"{facts['site']['name']}: gateway {facts['gateway']['name']}"
        else:
            what = f"{facts['organization']}: {facts['kind'].replace('_', ' ')}"
        new = " (new)" if facts["new"] else ""
        lines.append(f"{marks[facts['state']]:9} {what}{new} since {facts['started_at']} - {facts['detail']}")
    if payload["truncated"]:
        lines.append(f"... and {sum(payload['counts'][s] for s in ('firing', 'resolved', 'folded')) - payload['counts']['listed']} more")
    return "\n".join(lines) + "\n"


def _send_webhook(delivery: Delivery, payload: dict[str, Any]) -> None:
    channel = delivery.channel
    body = json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "FuseGuard-alerts/1",
        EVENT_HEADER: f"incident.{delivery.transition}",
        DELIVERY_HEADER: delivery.idempotency_key,
        SIGNATURE_HEADER: webhook_signature(channel.webhook_secret, body),
    }
    try:
        response = httpx.post(channel.webhook_url, content=body, headers=headers, timeout=settings.NOTIFICATIONS_TIMEOUT_S)
    except httpx.HTTPError as problem:
        raise DeliveryFailed(f"{type(problem).__name__}: {problem}") from None
    if not 200 <= response.status_code < 300:
        raise DeliveryFailed(f"HTTP {response.status_code}: {response.text[:200]}")


def _send_email(delivery: Delivery, payload: dict[str, Any]) -> None:
    if delivery.group_id is not None:
        _email(delivery, _group_subject(payload), _group_text(payload))
        return
    incident = delivery.incident
    facts = payload["incident"]
    lines = [
        _subject(incident, delivery.transition).removeprefix("[FuseGuard] "),
        "",
        f"Organisation: {incident.organization.name}",
        f"Site: {incident.site.name}",
        f"Problem: {incident.get_kind_display()} - {incident.detail}",
        f"Since: {facts['started_at']} (incident opened {facts['opened_at']}, lasted {int(incident.duration_s)} s)",
    ]
    if incident.resolved_at:
        lines.append(f"Resolved: {facts['resolved_at']}")
    if incident.flapping:
        lines.append(f"Flapping: lost and restored {incident.occurrences} times")
    _email(delivery, _subject(incident, delivery.transition), "\n".join(lines) + "\n")


def _email(delivery: Delivery, subject: str, body: str) -> None:
    message = EmailMessage(
        subject=subject,
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=delivery.channel.recipients,
        headers={DELIVERY_HEADER: delivery.idempotency_key},
    )
    try:
        message.send(fail_silently=False)
    except (smtplib.SMTPException, OSError) as problem:
        raise DeliveryFailed(f"{type(problem).__name__}: {problem}") from None


LEASE_MARGIN_S = 5
"""Beyond the send timeout, how long a claim outlives its worker: time to write the outcome after the receiver answers."""


def lease_s() -> float:
    """How long a claim holds: one attempt's timeout plus the margin (an attempt cannot take longer)."""
    return float(settings.NOTIFICATIONS_TIMEOUT_S + LEASE_MARGIN_S)


def delivery_send(delivery_id: int, *, now: datetime | None = None, node: str = "") -> str:
    """Attempt one delivery if it is due and no other worker holds it; return what became of it."""
    now = now or timezone.now()
    claimed = Delivery.objects.filter(pk=delivery_id, status=DeliveryStatus.PENDING, next_attempt_at__lte=now).update(
        status=DeliveryStatus.SENDING, attempts=F("attempts") + 1, lease_until=now + timedelta(seconds=lease_s()),
        claimed_by=node,
    )
    if claimed != 1:
        return "not_due"
    delivery = Delivery.objects.select_related(
        "channel", "incident__organization", "incident__site", "incident__gateway", "incident__meter__network"
    ).get(pk=delivery_id)
    if delivery.group_id is not None:
        payload = {**delivery.payload, "sent_at": iso(timezone.now())}
    else:
        payload = incident_payload(delivery.incident, delivery.transition, delivery.idempotency_key)
    try:
        if delivery.channel.kind == ChannelKind.WEBHOOK:
            _send_webhook(delivery, payload)
        else:
            _send_email(delivery, payload)
    except DeliveryFailed as problem:
        return _failed(delivery, str(problem), now)
    Delivery.objects.filter(pk=delivery_id, status=DeliveryStatus.SENDING).update(
        status=DeliveryStatus.SENT, sent_at=timezone.now(), lease_until=None, claimed_by="", last_error=""
    )
    return "sent"


def _failed(delivery: Delivery, error: str, now: datetime) -> str:
    if delivery.attempts >= settings.NOTIFICATIONS_MAX_ATTEMPTS:
        Delivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.SENDING).update(
            status=DeliveryStatus.FAILED, lease_until=None, claimed_by="", last_error=error
        )
        log.error("delivery %s given up after %s attempts: %s", delivery.idempotency_key, delivery.attempts, error)
        return "failed"
    delay_s = retry_delay_s(delivery.attempts)
    Delivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.SENDING).update(
        status=DeliveryStatus.PENDING, lease_until=None, claimed_by="", last_error=error, next_attempt_at=now + timedelta(seconds=delay_s)
    )
    log.warning("delivery %s attempt %s failed, retry in %.0f s: %s", delivery.idempotency_key, delivery.attempts, delay_s, error)
    return "retry"
