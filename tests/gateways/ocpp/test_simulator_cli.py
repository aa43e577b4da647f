"""`python -m gateways.simulators ocpp`: a user without a charger starts a charge point and the agent's driver reads it."""

import asyncio
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from gateways.chargers.base import ChargerError, ChargingState
from gateways.chargers.registry import DriverContext, make_driver
from gateways.protocol import parse_site_config
from tests.processes import free_port

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.asyncio
async def test_the_ocpp_simulator_dials_in_and_charges_under_the_agents_profile():
    config = parse_site_config({
        "gateway": {"id": "gw", "ocpp_listen": f"127.0.0.1:{free_port()}"},
        "networks": [{"id": "main", "max_current_per_phase_a": 32, "meter": {"model": "abb-m4m", "host": "127.0.0.1"},
                      "chargers": [{"id": "garage", "driver": "ocpp16", "charge_point_id": "CP-0042"}]}],
    })
    context = DriverContext(config.gateway)
    await context.prepare(config)
    driver = await make_driver(config.networks[0].chargers[0], context, 1.0)
    await driver.start()
    simulator = subprocess.Popen(
        [sys.executable, "-m", "gateways.simulators", "ocpp", "--url", f"ws://127.0.0.1:{context.ocpp.port}",
         "--id", "CP-0042", "--vehicle-a", "20"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        for attempt in range(100):
            try:
                reading = await driver.read()
                break
            except ChargerError:
                assert attempt < 99, "the simulated charge point never reported"
                await asyncio.sleep(0.1)
        assert reading.state is ChargingState.CHARGING
        await driver.apply_setpoint(7.0, 10.0)
        for _ in range(50):  # the next MeterValues shows the vehicle at the profile's 7 A
            await asyncio.sleep(0.1)
            if (await driver.read()).current_a == (7.0, 7.0, 7.0):
                break
        assert (await driver.read()).current_a == (7.0, 7.0, 7.0)
    finally:
        simulator.send_signal(signal.SIGINT)
        # Wait without blocking the loop: the central system answers the simulator's closing handshake.
        for _ in range(100):
            if simulator.poll() is not None:
                break
            await asyncio.sleep(0.1)
        output, _ = simulator.communicate(timeout=10)
        await context.close()
    assert simulator.returncode == 0, output
    assert "simulated OCPP 1.6J charge point CP-0042" in output
