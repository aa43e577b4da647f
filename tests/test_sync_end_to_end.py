"""The real agent synced with a live server (gunicorn, PostgreSQL), through a server outage.

The agent runs as its own process in managed mode with a simulated site; the
server is stopped mid-run and started again. Afterwards every telemetry item
the agent produced is either stored on the server exactly once or still in the
agent's buffer above the acknowledged mark: nothing missing, nothing doubled.
"""

import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from fleet.models import (
    Charger, ChargingNetwork, Gateway, Meter, Organization, Site, TelemetryEvent, TelemetryGap, TelemetrySample,
)
from fleet.services.gateway_tokens import gateway_issue_token
from tests.live_server import Server
from tests.processes import free_port, wait_until

ROOT = Path(__file__).resolve().parents[1]


def stored_seqs(gateway: Gateway) -> list[int]:
    return sorted(
        list(TelemetrySample.objects.filter(gateway=gateway).values_list("seq", flat=True))
        + list(TelemetryEvent.objects.filter(gateway=gateway).values_list("seq", flat=True))
    )


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_nothing_is_lost_or_doubled_when_the_server_goes_away_mid_run(tmp_path):
    organization = Organization.objects.create(name="Sync test", slug="sync")
    site = Site.objects.create(organization=organization, name="site")
    network = ChargingNetwork.objects.create(site=site, name="main", max_current_per_phase_a=25, fallback_power_w=4140)
    meter_port = free_port()
    Meter.objects.create(network=network, model="carlo-gavazzi-em24", host="127.0.0.1", port=meter_port, timeout_s=0.1)
    Charger.objects.create(network=network, name="cp1", driver="simulated", max_current_a=16)
    gateway = Gateway.objects.create(site=site, name="gw-sync", poll_interval_s=0.2)
    token = gateway_issue_token(gateway)

    server = Server(free_port())
    server.start()
    state_dir = tmp_path / "state"
    agent = subprocess.Popen(
        [sys.executable, "-m", "gateways", "run", "--server", f"http://127.0.0.1:{server.port}", "--token", token,
         "--state-dir", str(state_dir), "--simulate", "--config-interval-s", "2"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        wait_until(lambda: Gateway.objects.get(pk=gateway.pk).acked_seq >= 10, 30, "first telemetry")
        server.stop()
        time.sleep(3)  # the agent regulates on and buffers
        server.start()
        before = Gateway.objects.get(pk=gateway.pk).acked_seq
        wait_until(lambda: Gateway.objects.get(pk=gateway.pk).acked_seq >= before + 20, 30, "catch-up after the outage")
    finally:
        agent.send_signal(signal.SIGTERM)
        output, _ = agent.communicate(timeout=30)
        server.stop()
    assert agent.returncode == 0, output

    acked = Gateway.objects.get(pk=gateway.pk).acked_seq
    on_server = stored_seqs(gateway)
    assert len(on_server) == len(set(on_server)), "an item was stored twice"
    gaps = {s for g in TelemetryGap.objects.filter(gateway=gateway) for s in range(g.first_seq, g.last_seq + 1)}
    with sqlite3.connect(state_dir / "telemetry.sqlite3") as buffer:
        still_buffered = [seq for (seq,) in buffer.execute("SELECT seq FROM items")]
    assert all(seq > acked for seq in still_buffered)
    produced = set(on_server) | set(still_buffered) | gaps
    assert produced == set(range(1, max(produced) + 1)), "a sequence number is missing"
    assert set(range(1, acked + 1)) <= set(on_server) | gaps
    assert TelemetryEvent.objects.filter(gateway=gateway, type="agent_started").count() == 1

    # With the server still down, a restarted agent regulates with the last good config it saved.
    status_port = free_port()
    restarted = subprocess.Popen(
        [sys.executable, "-m", "gateways", "run", "--server", f"http://127.0.0.1:{server.port}", "--token", token,
         "--state-dir", str(state_dir), "--simulate", "--status-port", str(status_port)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        def regulating():
            try:
                status = httpx.get(f"http://127.0.0.1:{status_port}/status", timeout=1).json()
            except httpx.HTTPError:
                return None
            return status if status["cycles"] >= 3 else None

        status = wait_until(regulating, 30, "the restarted agent to regulate")
        assert status["networks"][str(network.pk)]["mode"] == "normal"
    finally:
        restarted.send_signal(signal.SIGTERM)
        output, _ = restarted.communicate(timeout=30)
    assert "using the last good config" in output
