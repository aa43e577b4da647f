"""The demo seed creates a usable login and valid simulated sites, and can run again."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command

from fleet.management.commands.seed_demo import DEMO_SITES
from fleet.models import ChargingNetwork, Membership, Role
from tests.processes import free_port

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.django_db
def test_seed_demo_prints_a_working_login_and_builds_valid_sites(capsys, monkeypatch):
    monkeypatch.setenv("FUSEGUARD_DEMO_PASSWORD", "demo-password-for-tests")
    call_command("seed_demo")
    assert "user 'demo', password 'demo-password-for-tests'" in capsys.readouterr().out
    user = authenticate(username="demo", password="demo-password-for-tests")
    assert user is not None and user.is_staff
    assert Membership.objects.get(user=user).role == Role.ADMIN
    networks = ChargingNetwork.objects.filter(site__organization__slug="demo")
    assert networks.count() == len(DEMO_SITES) == 3
    for network in networks:
        network.full_clean()
        network.meter.full_clean()
    rotations = set(networks.values_list("chargers__phase_rotation", flat=True))
    assert rotations == {"L1L2L3", "L2L3L1", "L3L1L2"}


@pytest.mark.django_db
def test_seed_demo_runs_twice_without_duplicates():
    call_command("seed_demo")
    call_command("seed_demo")
    assert ChargingNetwork.objects.filter(site__organization__slug="demo").count() == 3


@pytest.mark.slow
def test_the_demo_serves_three_live_sites_on_sqlite_and_stops_cleanly(tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(FUSEGUARD_VAR_DIR=str(tmp_path), FUSEGUARD_DEMO_PASSWORD="demo-pass-123")
    demo = subprocess.Popen(
        [sys.executable, "manage.py", "demo", "--address", f"127.0.0.1:{port}"], cwd=ROOT, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        lines = []
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            line = demo.stdout.readline()
            lines.append(line)
            if "FuseGuard demo is running" in line or not line:
                break
        output = "".join(lines)
        assert output.count(": live") == 3, output
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            client.get("/admin/login/")
            signed_in = client.post(
                "/admin/login/?next=/admin/",
                data={"username": "demo", "password": "demo-pass-123", "csrfmiddlewaretoken": client.cookies["csrftoken"]},
                headers={"Referer": f"http://127.0.0.1:{port}/admin/login/"},
            )
            assert signed_in.status_code == 302
            sites = client.get("/api/v1/sites/").json()["results"]
            assert sorted(site["name"] for site in sites) == sorted(d.name for d in DEMO_SITES)
    finally:
        demo.send_signal(signal.SIGINT)
        rest, _ = demo.communicate(timeout=60)
    assert demo.returncode == 0, rest
    assert "stopped." in rest
    assert (tmp_path / "fuseguard.sqlite3").exists()
