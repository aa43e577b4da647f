"""The shared UDP transport against a scripted peer: which datagram answers which command."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable

import pytest
import pytest_asyncio

from gateways.chargers.base import ChargerRejected, ChargerUnreachable
from gateways.chargers.keba_udp import KebaUdpDriver
from gateways.chargers.keba_udp_protocol import Ack, Report
from gateways.chargers.keba_udp_transport import KebaUdpTransport

from .conftest import STATION_A_IP, STATION_B_IP, VALID_FOR_S

REPORT_2 = {
    "ID": "2", "State": 2, "Plug": 7, "Enable sys": 1, "Enable user": 1, "Max curr": 16000,
    "Curr user": 16000, "Curr FS": 0, "Tmo FS": 0,
}
REPORT_3 = {"ID": "3", "I1": 0, "I2": 0, "I3": 0, "P": 0, "E pres": 0}


class ScriptedPeer(asyncio.DatagramProtocol):
    """A fake station: for each command, `script(command)` lists the datagrams it sends back, in order."""

    def __init__(self, script: Callable[[str], list[bytes]]) -> None:
        self.script = script
        self.socket: asyncio.DatagramTransport | None = None
        self.port = 0

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        assert self.socket is not None
        for datagram in self.script(data.decode()):
            self.socket.sendto(datagram, (addr[0], self.port))


def normal_answer(command: str) -> list[bytes]:
    """What a well-behaved station sends."""
    if command == "report 2":
        return [json.dumps(REPORT_2).encode()]
    if command == "report 3":
        return [json.dumps(REPORT_3).encode()]
    return [b"TCH-OK :done"]


@pytest_asyncio.fixture
async def peer(udp_port: int) -> AsyncIterator[ScriptedPeer]:
    """A scripted station on 127.0.0.2 (answering normally until a test changes its script)."""
    scripted = ScriptedPeer(normal_answer)
    scripted.port = udp_port
    loop = asyncio.get_running_loop()
    scripted.socket, _ = await loop.create_datagram_endpoint(lambda: scripted, local_addr=(STATION_A_IP, udp_port))
    yield scripted
    scripted.socket.close()


@pytest.mark.asyncio
async def test_a_status_message_is_not_taken_for_the_report_it_precedes(
    transport: KebaUdpTransport, peer: ScriptedPeer
) -> None:
    peer.script = lambda command: [b'{"State": 3}', b'{"Plug": 7}', *normal_answer(command)]
    transport.register(STATION_A_IP)
    answer = await transport.exchange(STATION_A_IP, "report 2", 1.0)
    assert answer == Report(2, REPORT_2)
    assert transport.status(STATION_A_IP) == {"State": 3, "Plug": 7}


@pytest.mark.asyncio
async def test_a_late_answer_to_another_report_is_skipped(transport: KebaUdpTransport, peer: ScriptedPeer) -> None:
    peer.script = lambda command: [json.dumps(REPORT_3).encode(), b"TCH-OK :done", *normal_answer(command)]
    transport.register(STATION_A_IP)
    assert await transport.exchange(STATION_A_IP, "report 2", 1.0) == Report(2, REPORT_2)


@pytest.mark.asyncio
async def test_a_report_is_not_taken_for_a_command_acknowledgement(
    transport: KebaUdpTransport, peer: ScriptedPeer
) -> None:
    peer.script = lambda command: [json.dumps(REPORT_2).encode(), b"TCH-OK :done"]
    transport.register(STATION_A_IP)
    assert await transport.exchange(STATION_A_IP, "curr 10000", 1.0) == Ack(ok=True, text="TCH-OK :done")


@pytest.mark.asyncio
async def test_tch_err_is_a_rejection(transport: KebaUdpTransport, peer: ScriptedPeer) -> None:
    peer.script = lambda command: [b"TCH-ERR :busy"] if command.startswith("curr") else normal_answer(command)
    driver = KebaUdpDriver(transport, STATION_A_IP, timeout_s=1.0)
    await driver.start()
    with pytest.raises(ChargerRejected, match="TCH-ERR"):
        await driver.apply_setpoint(10.0, VALID_FOR_S)


@pytest.mark.asyncio
async def test_an_answer_from_another_address_does_not_count(transport: KebaUdpTransport, udp_port: int) -> None:
    impostor = ScriptedPeer(normal_answer)
    impostor.port = udp_port
    loop = asyncio.get_running_loop()
    impostor.socket, _ = await loop.create_datagram_endpoint(lambda: impostor, local_addr=(STATION_B_IP, udp_port))
    try:
        transport.register(STATION_A_IP)
        # Nobody listens on .2; the impostor on .3 sends a perfect report 2 unasked.
        impostor.socket.sendto(json.dumps(REPORT_2).encode(), ("127.0.0.1", udp_port))
        with pytest.raises(ChargerUnreachable):
            await transport.exchange(STATION_A_IP, "report 2", 0.3)
    finally:
        impostor.socket.close()


@pytest.mark.asyncio
async def test_a_closed_transport_fails_fast(udp_port: int) -> None:
    transport = await KebaUdpTransport.open("127.0.0.1", udp_port)
    transport.close()
    with pytest.raises(ChargerUnreachable):
        await transport.exchange(STATION_A_IP, "report 2", 1.0)
