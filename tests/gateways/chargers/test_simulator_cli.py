"""`python -m gateways.simulators`: a user without hardware starts a station and the drivers talk to it."""

from __future__ import annotations

import asyncio
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from gateways.chargers.base import ChargerError, ChargingState, PlugState
from gateways.chargers.keba_modbus import KebaModbusDriver
from gateways.chargers.keba_udp import KebaUdpDriver
from gateways.chargers.keba_udp_transport import KebaUdpTransport

from .conftest import GATEWAY_IP, STATION_A_IP, VALID_FOR_S, free_udp_port

ROOT = Path(__file__).resolve().parents[3]


def free_tcp_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_simulator(*args: str) -> subprocess.Popen[str]:
    """The simulator CLI as a user runs it; stopped with SIGINT (Ctrl-C) by the caller."""
    return subprocess.Popen(
        [sys.executable, "-m", "gateways.simulators", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def stop(process: subprocess.Popen[str]) -> str:
    """Ctrl-C, then the output; the process must end cleanly."""
    process.send_signal(signal.SIGINT)
    output, _ = process.communicate(timeout=10)
    assert process.returncode == 0, output
    return output


async def eventually(probe, attempts: int = 40):  # type: ignore[no-untyped-def]
    """Retry `probe` while the simulator process starts."""
    for attempt in range(attempts):
        try:
            return await probe()
        except ChargerError:  # "not up yet", until the last attempt
            if attempt == attempts - 1:
                raise
            await asyncio.sleep(0.1)


@pytest.fixture
def udp_simulator() -> Iterator[tuple[subprocess.Popen[str], int]]:
    port = free_udp_port()
    process = start_simulator("keba-udp", "--bind", STATION_A_IP, "--port", str(port), "--vehicle-a", "10")
    yield process, port
    if process.poll() is None:
        process.kill()
        process.communicate()


@pytest.mark.slow
@pytest.mark.asyncio
async def test_keba_udp_simulator_from_the_command_line(udp_simulator: tuple[subprocess.Popen[str], int]) -> None:
    process, port = udp_simulator
    transport = await KebaUdpTransport.open(GATEWAY_IP, port)
    driver = KebaUdpDriver(transport, STATION_A_IP, timeout_s=1.0)
    await driver.start()
    try:
        reading = await eventually(driver.read)
        await driver.apply_setpoint(8.0, VALID_FOR_S)
        charging = await driver.read()
    finally:
        transport.close()
    assert (reading.plug, reading.state) == (PlugState.PLUGGED, ChargingState.CHARGING)
    assert charging.current_a == (8.0, 8.0, 8.0)
    assert f"{STATION_A_IP}:{port}" in stop(process)


@pytest.mark.slow
@pytest.mark.asyncio
async def test_keba_modbus_simulator_from_the_command_line() -> None:
    port = free_tcp_port()
    process = start_simulator("keba-modbus", "--port", str(port), "--unplugged")
    driver = KebaModbusDriver("127.0.0.1", port, timeout_s=1.0, backoff_s=0.05, backoff_max_s=0.1)
    try:
        reading = await eventually(driver.read)
    finally:
        await driver.close()
        output = stop(process)
    assert (reading.plug, reading.state) == (PlugState.UNPLUGGED, ChargingState.IDLE)
    assert f"127.0.0.1:{port}" in output
