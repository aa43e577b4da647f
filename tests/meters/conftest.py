"""Shared helpers for the meters tests: hand-written register images served over real TCP."""

from __future__ import annotations

import struct
from collections.abc import AsyncIterator, Mapping

import pytest_asyncio

from meters.registers import RegisterKind
from meters.sim.server import ModbusTcpServer


def f32(value: float) -> tuple[int, int]:
    """IEEE-754 float32 as (high word, low word): how SunSpec and most meters send it."""
    high, low = struct.unpack(">HH", struct.pack(">f", value))
    return high, low


def f64(value: float) -> tuple[int, int, int, int]:
    """IEEE-754 float64 as four words, most significant first (SENTRON "Double")."""
    return struct.unpack(">HHHH", struct.pack(">d", value))


def holding(words: Mapping[int, int]) -> dict[tuple[RegisterKind, int], int]:
    """A register image of holding registers from {address: word}."""
    return {(RegisterKind.HOLDING, address): word for address, word in words.items()}


def inputs(words: Mapping[int, int]) -> dict[tuple[RegisterKind, int], int]:
    """A register image of input registers (function code 4) from {address: word}."""
    return {(RegisterKind.INPUT, address): word for address, word in words.items()}


def serve_image(image: Mapping[tuple[RegisterKind, int], int], unit_ids: frozenset[int] | None = None) -> ModbusTcpServer:
    """A raw Modbus TCP server on an ephemeral port answering from `image` (exception 2 elsewhere)."""

    def lookup(kind: RegisterKind, address: int, count: int) -> list[int] | None:
        try:
            return [image[(kind, address + i)] for i in range(count)]
        except KeyError:
            return None

    return ModbusTcpServer(lookup, "127.0.0.1", 0, unit_ids)


@pytest_asyncio.fixture
async def raw_server() -> AsyncIterator[list[ModbusTcpServer]]:
    """Collects servers a test starts and stops them afterwards."""
    servers: list[ModbusTcpServer] = []
    yield servers
    for server in servers:
        await server.stop()
