"""Fixtures for alerts: a fixed clock, helpers that set the latest state, and a real webhook receiver."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.db import connection

from fleet.models import ChannelKind, ChargingNetwork, Delivery, Gateway, Meter, MeterState, NotificationChannel
from fleet.services.alerts_evaluate import AlertPolicy, EvaluationResult, alerts_evaluate
from fleet.services.notifications_dispatch import DispatchResult, notifications_dispatch

T0 = datetime(2026, 11, 24, 12, 0, 0, tzinfo=UTC)
"""A fixed moment the scenarios count from."""

POLICY = AlertPolicy(meter_grace_period_s=60, gateway_grace_period_s=120, flap_window_s=900, flap_threshold=3)
"""The defaults, spelled out so the scenarios read against known numbers."""

SECRET = "webhook-secret-for-tests"


def at(seconds: float) -> datetime:
    """T0 plus some seconds."""
    return T0 + timedelta(seconds=seconds)


def gateway_seen(gateway: Gateway, when: datetime) -> None:
    Gateway.objects.filter(pk=gateway.pk).update(last_seen=when)


def meter_reading(meter: Meter, when: datetime) -> None:
    """The meter delivered a reading at `when` (what ingestion records for a sample with grid values)."""
    MeterState.objects.update_or_create(
        meter=meter, defaults={"available": True, "last_reading_at": when, "lost_since": None, "detail": ""}
    )


def meter_lost(meter: Meter, when: datetime, detail: str = "MeterTransportError: timed out") -> None:
    """The gateway reported `meter_lost` at `when`."""
    MeterState.objects.update_or_create(meter=meter, defaults={"available": False, "lost_since": when, "detail": detail})


def evaluate(seconds: float, policy: AlertPolicy = POLICY) -> EvaluationResult:
    """One evaluation run at T0 + seconds: incidents and their transitions, no deliveries."""
    return alerts_evaluate(now=at(seconds), policy=policy)


def dispatch(seconds: float) -> DispatchResult:
    """One dispatcher run at T0 + seconds: unprocessed transitions become deliveries."""
    return notifications_dispatch(now=at(seconds))


def evaluate_and_dispatch(seconds: float, policy: AlertPolicy = POLICY) -> EvaluationResult:
    """What the evaluation task does: evaluate, then dispatch at once."""
    result = evaluate(seconds, policy)
    dispatch(seconds)
    return result


def at_once(work, workers: int, join_s: float = 30) -> list:
    """`work()` in `workers` threads released together, each on its own database connection: their results.

    Fails the test if any of them raised or did not finish within `join_s`.
    """
    barrier = threading.Barrier(workers)
    results, errors = [], []

    def worker():
        try:
            barrier.wait()
            results.append(work())
        except Exception as problem:  # noqa: BLE001 (collected and asserted on below)
            errors.append(problem)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(join_s)
    assert errors == [] and len(results) == workers
    return results


def told_incidents() -> list[int]:
    """Ids of the incidents the notifications made so far announced as newly open, on any channel, with repeats."""
    return [
        facts["id"] for payload in Delivery.objects.order_by("pk").values_list("payload", flat=True)
        for facts in payload.get("incidents", []) if facts["new"]
    ]


def add_meters(tenant, count: int) -> list[Meter]:
    """More networks with a meter each on the tenant's site (the fixture's own meter comes first)."""
    meters = [tenant.meter]
    for index in range(count - 1):
        network = ChargingNetwork.objects.create(site=tenant.site, name=f"extra-{index}", max_current_per_phase_a=32)
        meters.append(Meter.objects.create(network=network, model="carlo-gavazzi-em24", host=f"10.0.0.{index + 2}"))
    return meters


@dataclass
class WebhookReceiver:
    """A real HTTP server on a loopback port that records each POST; answers can be scripted."""

    url: str = ""
    calls: list[dict] = field(default_factory=list)
    answers: list[int | None] = field(default_factory=list)
    cut_off: list[dict] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def bodies(self) -> list[dict]:
        with self.lock:
            return [json.loads(call["body"]) for call in self.calls]


def start_receiver() -> tuple[WebhookReceiver, ThreadingHTTPServer]:
    receiver = WebhookReceiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            with receiver.lock:
                status = receiver.answers.pop(0) if receiver.answers else 200
                # None scripts a receiver that hangs (until `release`): the sender's attempt is cut off, not answered.
                (receiver.calls if status is not None else receiver.cut_off).append(
                    {"headers": dict(self.headers), "body": body}
                )
            if status is None:
                receiver.release.wait(60)
                return
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/fuseguard"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return receiver, server


@pytest.fixture
def webhook():
    receiver, server = start_receiver()
    yield receiver
    receiver.release.set()
    server.shutdown()
    server.server_close()


@pytest.fixture
def webhook_channel(tenant_a, webhook) -> NotificationChannel:
    return NotificationChannel.objects.create(
        organization=tenant_a.organization, name="ops webhook", kind=ChannelKind.WEBHOOK, webhook_url=webhook.url,
        webhook_secret=SECRET,
    )


@pytest.fixture
def email_channel(tenant_a) -> NotificationChannel:
    return NotificationChannel.objects.create(
        organization=tenant_a.organization, name="ops mail", kind=ChannelKind.EMAIL,
        email_recipients="ops@alpha.example, oncall@alpha.example",
    )


@pytest.fixture(autouse=True)
def groups_at_once(settings):
    """Groups notify in the run that changed them (no group_wait, a 1 s group_interval), so the scenarios of single
    incidents read edge by edge; tests/fleet/alerts/test_groups.py specifies the timers with their real meaning."""
    settings.NOTIFICATIONS_GROUP_WAIT_S = 0
    settings.NOTIFICATIONS_GROUP_INTERVAL_S = 1


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Tenants create users; the production hasher would dominate these tests' time."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
