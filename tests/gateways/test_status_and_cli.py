"""The agent's status page and its command line, as an operator uses them."""

import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from gateways.status import StatusServer, prometheus_text
from tests.processes import free_port

ROOT = Path(__file__).resolve().parents[2]

STATUS = {
    "gateway": "g", "cycles": 7, "overruns": 0, "buffered_items": 3, "uptime_s": 1.0,
    "networks": {"main": {"mode": "fallback", "meter_available": False, "grid_current_a": None, "headroom_a": None,
                          "chargers": {"cp1": {"available": True, "setpoint_a": 6.0, "reason": "fallback",
                                               "current_a": [6, 6, 6], "failsafe_armed": True,
                                               "failsafe": {"confirmed": True, "current_a": 6.0, "timeout_s": 60}}}}},
}


def test_metrics_show_fallback_and_setpoints():
    text = prometheus_text(STATUS)
    assert 'fuseguard_fallback{network="main"} 1' in text
    assert 'fuseguard_charger_setpoint_amperes{network="main",charger="cp1"} 6.0' in text
    assert "fuseguard_cycles_total 7" in text


def test_metrics_show_each_chargers_confirmed_failsafe():
    text = prometheus_text(STATUS)
    assert 'fuseguard_charger_failsafe_confirmed{network="main",charger="cp1"} 1' in text
    assert 'fuseguard_charger_failsafe_current_amperes{network="main",charger="cp1"} 6.0' in text
    assert 'fuseguard_charger_failsafe_timeout_seconds{network="main",charger="cp1"} 60' in text


@pytest.mark.asyncio
async def test_the_status_page_answers_json_and_metrics_over_http():
    server = StatusServer(lambda: STATUS)
    await server.start()
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.port}") as client:
            status = await client.get("/status")
            metrics = await client.get("/metrics")
            missing = await client.get("/nothing")
        assert status.json()["networks"]["main"]["mode"] == "fallback"
        assert metrics.headers["content-type"].startswith("text/plain")
        assert missing.status_code == 404
    finally:
        await server.stop()


@pytest.mark.slow
def test_run_with_a_simulated_site_regulates_and_stops_cleanly_on_sigterm(tmp_path):
    meter_port, status_port = free_port(), free_port()
    config = tmp_path / "site.toml"
    config.write_text(f"""
[gateway]
id = "cli-test"
poll_interval_s = 0.5
state_dir = "{tmp_path / 'state'}"

[[networks]]
id = "main"
max_current_per_phase_a = 25
fallback_power_w = 4140

[networks.meter]
model = "carlo-gavazzi-em24"
host = "127.0.0.1"
port = {meter_port}

[[networks.chargers]]
id = "cp1"
driver = "simulated"
""")
    agent = subprocess.Popen(
        [sys.executable, "-m", "gateways", "run", "--config", str(config), "--simulate", "--status-port", str(status_port)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        deadline = time.monotonic() + 20
        status = None
        while time.monotonic() < deadline:
            try:
                status = httpx.get(f"http://127.0.0.1:{status_port}/status", timeout=1).json()
                if status["cycles"] >= 3:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        assert status is not None and status["cycles"] >= 3
        assert status["networks"]["main"]["mode"] == "normal"
        assert status["networks"]["main"]["meter_available"] is True
    finally:
        agent.send_signal(signal.SIGTERM)
        output, _ = agent.communicate(timeout=20)
    assert agent.returncode == 0, output
    assert (tmp_path / "state" / "telemetry.sqlite3").exists()
