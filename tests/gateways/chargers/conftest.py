"""Real sockets on loopback for the KEBA driver tests: simulated stations and the shared UDP transport.

UDP stations live on their own loopback addresses (127.0.0.2, 127.0.0.3) and the
gateway's transport on 127.0.0.1, all on one free port number: the field layout
(every party on port 7090, told apart by IP) in miniature.
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator

import pytest_asyncio

from gateways.chargers.keba_modbus import KebaModbusDriver
from gateways.chargers.keba_udp import KebaUdpDriver
from gateways.chargers.keba_udp_transport import KebaUdpTransport
from gateways.simulators.keba_modbus_station import KebaModbusStation
from gateways.simulators.keba_station import KebaStationModel
from gateways.simulators.keba_udp_station import KebaUdpStation

GATEWAY_IP = "127.0.0.1"
STATION_A_IP = "127.0.0.2"
STATION_B_IP = "127.0.0.3"
# ena 0 asks for 2 s of silence in the field; the tests shorten it, the rule stays.
TEST_DISABLE_PAUSE_S = 0.3
# How long the tests' setpoints are valid (the regulator passes the failsafe timeout).
VALID_FOR_S = 60.0


class SteppedClock:
    """Monotonic seconds that move only when a test says so: the stations' watchdogs run on it."""

    def __init__(self, start_s: float = 1000.0) -> None:
        self.now_s = start_s

    def __call__(self) -> float:
        return self.now_s

    def advance(self, seconds: float) -> None:
        """Let `seconds` pass."""
        self.now_s += seconds


def free_udp_port() -> int:
    """A UDP port number free on all three loopback addresses used here."""
    for _ in range(20):
        probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        probe.bind((GATEWAY_IP, 0))
        port = probe.getsockname()[1]
        others = []
        try:
            for host in (STATION_A_IP, STATION_B_IP):
                other = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                others.append(other)
                other.bind((host, port))
            return port
        except OSError:
            continue
        finally:
            probe.close()
            for other in others:
                other.close()
    raise RuntimeError("no free UDP port on loopback")


@pytest_asyncio.fixture
async def station_clock() -> SteppedClock:
    """The simulated stations' clock (watchdog, energy); the sockets stay real."""
    return SteppedClock()


@pytest_asyncio.fixture
async def udp_port() -> int:
    """The port every UDP party of one test uses (7090 in the field)."""
    return free_udp_port()


@pytest_asyncio.fixture
async def station_a(udp_port: int, station_clock: SteppedClock) -> AsyncIterator[KebaUdpStation]:
    """A simulated P30 on 127.0.0.2, without a vehicle."""
    station = KebaUdpStation(STATION_A_IP, udp_port, model=KebaStationModel(clock=station_clock))
    await station.start()
    yield station
    await station.close()


@pytest_asyncio.fixture
async def station_b(udp_port: int, station_clock: SteppedClock) -> AsyncIterator[KebaUdpStation]:
    """A second simulated P30 on 127.0.0.3, without a vehicle."""
    station = KebaUdpStation(STATION_B_IP, udp_port, model=KebaStationModel(clock=station_clock))
    await station.start()
    yield station
    await station.close()


@pytest_asyncio.fixture
async def transport(udp_port: int) -> AsyncIterator[KebaUdpTransport]:
    """The gateway's one UDP socket, with the guide's 100 ms spacing."""
    shared = await KebaUdpTransport.open(GATEWAY_IP, udp_port, disable_pause_s=TEST_DISABLE_PAUSE_S)
    yield shared
    shared.close()


@pytest_asyncio.fixture
async def driver_a(transport: KebaUdpTransport, station_a: KebaUdpStation) -> KebaUdpDriver:
    """The driver for station A (1 s deadline per call)."""
    driver = KebaUdpDriver(transport, STATION_A_IP, timeout_s=1.0)
    await driver.start()
    return driver


@pytest_asyncio.fixture
async def driver_b(transport: KebaUdpTransport, station_b: KebaUdpStation) -> KebaUdpDriver:
    """The driver for station B, on the same transport as station A's (1 s deadline per call)."""
    driver = KebaUdpDriver(transport, STATION_B_IP, timeout_s=1.0)
    await driver.start()
    return driver


@pytest_asyncio.fixture
async def modbus_station(station_clock: SteppedClock) -> AsyncIterator[KebaModbusStation]:
    """A simulated P30 x-series / P40 on an ephemeral TCP port, without a vehicle."""
    station = KebaModbusStation("127.0.0.1", 0, model=KebaStationModel(clock=station_clock))
    await station.start()
    yield station
    await station.close()


@pytest_asyncio.fixture
async def modbus_driver(modbus_station: KebaModbusStation) -> AsyncIterator[KebaModbusDriver]:
    """The driver for the Modbus station (1 s deadline, short back-off for tests)."""
    driver = KebaModbusDriver("127.0.0.1", modbus_station.port, timeout_s=1.0, backoff_s=0.1, backoff_max_s=0.2)
    await driver.start()
    yield driver
    await driver.close()
