"""`python -m gateways run --simulate` (what the demo runs) simulates an OCPP charger as a charge point dialing in."""

import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.processes import free_port

ROOT = Path(__file__).resolve().parents[3]


def test_a_simulated_site_with_an_ocpp_charger_regulates_it_over_a_websocket(tmp_path):
    status_port, meter_port, ocpp_port = free_port(), free_port(), free_port()
    config = tmp_path / "site.toml"
    config.write_text(f"""
[gateway]
id = "sim"
state_dir = "{tmp_path}"
ocpp_listen = "0.0.0.0:{ocpp_port}"
failsafe_timeout_s = 10

[[networks]]
id = "main"
max_current_per_phase_a = 32
fallback_power_w = 4140

[networks.meter]
model = "carlo-gavazzi-em24"
host = "127.0.0.1"
port = {meter_port}

[[networks.chargers]]
id = "keba-like"
driver = "simulated"

[[networks.chargers]]
id = "wallbox"
driver = "ocpp16"
charge_point_id = "WB-7"
""")
    agent = subprocess.Popen(
        [sys.executable, "-m", "gateways", "run", "--config", str(config), "--simulate", "--status-port", str(status_port)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    charger = None
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                charger = httpx.get(f"http://127.0.0.1:{status_port}/status", timeout=1).json()["networks"]["main"][
                    "chargers"]["wallbox"]
                if charger["available"] and charger["failsafe"]["confirmed"] and charger["current_a"][0] > 0:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
    finally:
        agent.send_signal(signal.SIGTERM)
        output, _ = agent.communicate(timeout=20)
    assert charger is not None and charger["available"], output[-3000:]
    assert charger["failsafe"]["confirmed"] and charger["current_a"][0] > 0, charger
    assert "OCPP charge point WB-7 configured" in output
    assert agent.returncode == 0, output[-3000:]
