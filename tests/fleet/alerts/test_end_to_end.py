"""End to end with a real Celery worker and beat on the suite's Redis: gateway events in, webhooks out, once each.

The worker runs as its own process against the test database (committed rows,
hence `transaction=True`) with a 1 s evaluation interval and short grace
periods. Gateway A reports through the sync API as a real agent would: a
sample every half second, `meter_lost`, then `meter_restored`. Gateway B
reports its three meters once and falls silent. A second test starts a worker
over transitions recorded while no worker ran.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from fleet.models import (
    ChannelKind,
    ChargingNetwork,
    Gateway,
    Incident,
    IncidentKind,
    IncidentTransition,
    Meter,
    MeterState,
    NotificationChannel,
    Organization,
    Site,
)
from fleet.services.alerts_evaluate import alerts_evaluate
from fleet.services.gateway_tokens import gateway_issue_token
from tests.fleet.alerts.conftest import SECRET
from tests.processes import test_database_url, wait_until

ROOT = Path(__file__).resolve().parents[3]
BIN = Path(sys.executable).parent
TELEMETRY_URL = "/api/gateway/v1/telemetry"


def now_iso() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


class Agent:
    """Speaks the sync protocol for one gateway, as the real agent does: numbered samples and events."""

    def __init__(self, gateway: Gateway, networks: list[ChargingNetwork]):
        self.client = Client()
        self.client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {gateway_issue_token(gateway)}"
        self.name = gateway.name
        self.networks = networks
        self.seq = 0
        self.meter_ok = True

    def post(self, items: list[dict]) -> None:
        response = self.client.post(TELEMETRY_URL, {"gateway": self.name, "items": items}, content_type="application/json")
        assert response.status_code == 200, response.content

    def _next(self) -> int:
        self.seq += 1
        return self.seq

    def samples(self) -> None:
        grid = [10.0, 8.0, 6.0] if self.meter_ok else None
        self.post([
            {"seq": self._next(), "kind": "sample", "ts": now_iso(), "network": str(network.pk),
             "mode": "normal" if self.meter_ok else "fallback", "grid_current_a": grid, "headroom_a": grid, "chargers": {}}
            for network in self.networks
        ])

    def event(self, type_: str) -> float:
        self.meter_ok = type_ == "meter_restored"
        self.post([{"seq": self._next(), "kind": "event", "ts": now_iso(), "network": str(self.networks[0].pk),
                    "type": type_, "subject": "meter", "detail": "MeterTransportError: timed out"}])
        return time.monotonic()


class Feeder(threading.Thread):
    """Keeps gateway A talking: a sample every half second, in its own thread and database connection."""

    def __init__(self, agent: Agent):
        super().__init__(daemon=True)
        self.agent = agent
        self.lock = threading.Lock()
        self.stop = threading.Event()

    def run(self) -> None:
        try:
            while not self.stop.wait(0.5):
                with self.lock:
                    self.agent.samples()
        finally:
            connection.close()


def site_with_meters(organization: Organization, name: str, count: int) -> tuple[Gateway, list[ChargingNetwork]]:
    site = Site.objects.create(organization=organization, name=name)
    gateway = Gateway.objects.create(site=site, name=f"gw-{name}")
    networks = []
    for index in range(count):
        network = ChargingNetwork.objects.create(site=site, name=f"net-{index}", max_current_per_phase_a=32)
        Meter.objects.create(network=network, model="carlo-gavazzi-em24", host=f"10.1.0.{index + 1}")
        networks.append(network)
    return gateway, networks


def start_worker(tmp_path: Path, **settings: str) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": test_database_url(),
        "ALERTS_EVALUATION_INTERVAL_S": "1",
        "ALERTS_METER_GRACE_PERIOD_S": "2",
        "ALERTS_GATEWAY_GRACE_PERIOD_S": "4",
        "NOTIFICATIONS_RETRY_BASE_S": "5",
        "NOTIFICATIONS_GROUP_WAIT_S": "0",
        "NOTIFICATIONS_GROUP_INTERVAL_S": "1",
        "LOG_LEVEL": "WARNING",
        **settings,
    }
    return subprocess.Popen(
        [str(BIN / "celery"), "-A", "fleet", "worker", "--beat", "--pool", "solo", "--loglevel", "WARNING",
         "--schedule", str(tmp_path / "beat-schedule"), "--without-gossip", "--without-mingle", "--without-heartbeat"],
        cwd=ROOT, env=env, stdout=open(tmp_path / "worker.log", "w"), stderr=subprocess.STDOUT,
    )


def stop_worker(worker: subprocess.Popen) -> None:
    worker.send_signal(signal.SIGTERM)
    try:
        worker.wait(timeout=20)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait()


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_events_reach_the_webhook_once_per_transition_and_a_silent_gateway_alerts_once(tmp_path, webhook, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    organization = Organization.objects.create(name="End to end", slug="e2e")
    NotificationChannel.objects.create(
        organization=organization, name="hook", kind=ChannelKind.WEBHOOK, webhook_url=webhook.url, webhook_secret=SECRET
    )
    gateway_a, networks_a = site_with_meters(organization, "alpha", 1)
    gateway_b, networks_b = site_with_meters(organization, "bravo", 3)
    agent_a, agent_b = Agent(gateway_a, networks_a), Agent(gateway_b, networks_b)
    agent_a.samples()
    agent_b.samples()  # B's only report: it falls silent from here on
    feeder = Feeder(agent_a)
    feeder.start()
    worker = start_worker(tmp_path)

    def transitions(kind: str) -> list[str]:
        return [b["transition"] for b in webhook.bodies() if b["incident"]["kind"] == kind]

    try:
        with feeder.lock:
            lost_at = agent_a.event("meter_lost")
        wait_until(lambda: transitions("meter_lost") == ["opened"], 30, "the opened webhook")
        lost_latency_s = time.monotonic() - lost_at

        with feeder.lock:
            restored_at = agent_a.event("meter_restored")
        wait_until(lambda: transitions("meter_lost") == ["opened", "resolved"], 30, "the resolved webhook")
        restored_latency_s = time.monotonic() - restored_at

        wait_until(lambda: transitions("gateway_offline"), 30, "the gateway webhook")
        time.sleep(3)  # a few more evaluation runs: nothing may be sent again
    finally:
        feeder.stop.set()
        feeder.join(10)
        stop_worker(worker)
    log = (tmp_path / "worker.log").read_text()

    assert transitions("meter_lost") == ["opened", "resolved"], log
    assert transitions("gateway_offline") == ["opened"], log
    assert len(webhook.calls) == 3, log
    [meter_incident] = Incident.objects.filter(kind=IncidentKind.METER_LOST)
    assert meter_incident.meter.network == networks_a[0] and meter_incident.resolved_at is not None
    [gateway_incident] = Incident.objects.filter(kind=IncidentKind.GATEWAY_OFFLINE)
    assert gateway_incident.gateway == gateway_b and gateway_incident.resolved_at is None
    assert not Incident.objects.filter(site=gateway_b.site, kind=IncidentKind.METER_LOST).exists()
    print(f"\nevent -> webhook with a 1 s schedule: meter_lost {lost_latency_s:.2f} s, meter_restored {restored_latency_s:.2f} s")


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_worker_that_starts_dispatches_transitions_recorded_while_none_ran(tmp_path, webhook, settings):
    organization = Organization.objects.create(name="Restart", slug="restart")
    NotificationChannel.objects.create(
        organization=organization, name="hook", kind=ChannelKind.WEBHOOK, webhook_url=webhook.url, webhook_secret=SECRET
    )
    gateway, networks = site_with_meters(organization, "alpha", 1)
    Gateway.objects.filter(pk=gateway.pk).update(last_seen=timezone.now())
    MeterState.objects.create(meter=networks[0].meter, available=False, lost_since=timezone.now())
    [incident] = alerts_evaluate().opened  # recorded; no worker is up to tell anyone
    assert webhook.calls == []

    # Beat would first run the evaluation and the dispatcher an hour from now: only the start-up dispatch can send.
    worker = start_worker(tmp_path, ALERTS_EVALUATION_INTERVAL_S="3600", NOTIFICATIONS_RETRY_BASE_S="3600")
    try:
        wait_until(lambda: webhook.calls, 30, "the webhook of the transition recorded before the start")
    finally:
        stop_worker(worker)
    log = (tmp_path / "worker.log").read_text()

    assert [(body["transition"], body["incident"]["id"]) for body in webhook.bodies()] == [("opened", incident)], log
    assert IncidentTransition.objects.get().processed_at is not None
