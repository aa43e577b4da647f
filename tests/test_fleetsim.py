"""The fleet load simulator against a live server (gunicorn, PostgreSQL), through a server restart.

Twenty simulated gateways in two processes upload every second; the server is stopped while
they run and started again. Afterwards each gateway's telemetry on the server
is exactly the items it numbered, once each, and the server's acknowledged
mark equals the last item it sent: nothing lost, nothing doubled. The fleet
comes from `fleetsim_fleet create` and leaves with `remove`.
"""

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.core.management import call_command

from fleet.models import Gateway, Organization, Site, TelemetryEvent, TelemetrySample
from tests.live_server import Server
from tests.processes import free_port, wait_until

ROOT = Path(__file__).resolve().parents[1]
GATEWAYS = 20


def stored_seqs(gateway_id: int) -> list[int]:
    return sorted(
        list(TelemetrySample.objects.filter(gateway_id=gateway_id).values_list("seq", flat=True))
        + list(TelemetryEvent.objects.filter(gateway_id=gateway_id).values_list("seq", flat=True))
    )


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_simulated_gateways_upload_through_a_server_restart_without_loss_or_doubles(tmp_path):
    tokens = tmp_path / "tokens.txt"
    call_command("fleetsim_fleet", "create", str(GATEWAYS), "--prefix", "e2e", "--tokens", str(tokens))
    assert len(tokens.read_text().split()) == GATEWAYS
    server = Server(free_port(), preload=True)
    server.start()
    output = tmp_path / "summary.json"
    simulator = subprocess.Popen(
        [sys.executable, "-m", "gateways.fleetsim", "--server", server.url, "--tokens", str(tokens), "--duration", "20", "--processes", "2",
         "--upload-interval-s", "1", "--config-interval-s", "3", "--timeout-s", "3", "--drain-s", "30",
         "--meter-loss-per-hour", "300", "--output", str(output)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        fleet = Gateway.objects.filter(site__organization__name__startswith="fleetsim e2e ")
        wait_until(lambda: fleet.filter(acked_seq__gt=0).count() == GATEWAYS, 30, "every gateway's first upload")
        assert simulator.poll() is None, "the run ended before the restart"
        server.stop()
        time.sleep(3)  # the gateways keep recording and fail their uploads
        server.start()
        printed, _ = simulator.communicate(timeout=60)
    finally:
        if simulator.poll() is None:
            simulator.kill()
        server.stop()
    assert simulator.returncode == 0, printed

    summary = json.loads(output.read_text())
    assert summary["gateways"] == GATEWAYS
    assert summary["upload_errors"] > 0, "the restart was not felt"
    assert summary["backlog"]["after_drain"]["total"] == 0
    assert summary["events_made"] > 0
    for simulated in summary["per_gateway"]:
        gateway = Gateway.objects.get(pk=int(simulated["gateway"]))
        issued = list(range(1, simulated["last_seq"] + 1))
        assert stored_seqs(gateway.pk) == issued, f"gateway {gateway.pk}: stored items differ from those it numbered"
        assert gateway.acked_seq == simulated["acked_seq"] == simulated["last_seq"]
        assert simulated["samples"] > 0
    assert TelemetryEvent.objects.filter(gateway__in=fleet, type="meter_lost").exists()

    call_command("fleetsim_fleet", "remove", "--prefix", "e2e")
    assert not Organization.objects.filter(name__startswith="fleetsim e2e ").exists()
    assert not Site.objects.filter(name__startswith="e2e-site-").exists()
    assert not TelemetrySample.objects.exists()
