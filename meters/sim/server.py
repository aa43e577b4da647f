"""A small Modbus TCP server (stdlib asyncio) with fault injection, for simulators and tests.

Written on the standard library rather than pymodbus' server so a test can make it
misbehave exactly like a field device: answer an exception code, fall silent, hang
up in the middle of a frame, or send bytes that are not Modbus.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import enum
import logging
import struct
from collections.abc import Callable
from dataclasses import dataclass

from meters.registers import RegisterKind

log = logging.getLogger(__name__)

RegisterLookup = Callable[[RegisterKind, int, int], list[int] | None]
"""(table, address, count) -> words, or None if any address is not defined (exception 2)."""
BitLookup = Callable[[int, int, int], list[bool] | None]
"""(function code 1 or 2, address, count) -> bits, or None if any address is not defined (exception 2)."""

MAX_READ_COUNT = 125


class Fault(enum.Enum):
    """How the server misbehaves on the next requests (NONE: it answers correctly)."""

    NONE = "none"
    SILENT = "silent"  # keep the connection, never answer
    CLOSE = "close"  # hang up on every request
    EXCEPTION = "exception"  # answer with `FaultPlan.exception_code`
    GARBAGE = "garbage"  # answer bytes that are not a Modbus frame
    HALF_FRAME = "half-frame"  # send half of the correct answer, then hang up
    SPLIT = "split"  # send the correct answer in two TCP segments (slow gateways do)


@dataclass
class FaultPlan:
    """The active fault and its parameter."""

    fault: Fault = Fault.NONE
    exception_code: int = 4


class ModbusTcpServer:
    """Serves function codes 3 and 4 from `lookup`, and 1 and 2 from `bits` if given, for `unit_ids` (None: any unit)."""

    def __init__(
        self,
        lookup: RegisterLookup,
        host: str = "127.0.0.1",
        port: int = 0,
        unit_ids: frozenset[int] | None = None,
        bits: BitLookup | None = None,
    ) -> None:
        self._lookup = lookup
        self._bits = bits
        self.host = host
        self._requested_port = port
        self.unit_ids = unit_ids
        self.faults = FaultPlan()
        self.requests_served = 0
        # Reads answered with data, per function code: a test proves with it which table a client read.
        self.reads_by_function: collections.Counter[int] = collections.Counter()
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._handlers: set[asyncio.Task[None]] = set()

    @property
    def port(self) -> int:
        """The bound port (the real one when started with port 0)."""
        if self._server is None or not self._server.sockets:
            return self._requested_port
        return int(self._server.sockets[0].getsockname()[1])

    @property
    def serving(self) -> bool:
        """True while the listening socket is open."""
        return self._server is not None

    async def start(self) -> None:
        """Open the listening socket (again, on the same port, after `stop`)."""
        if self._server is None:
            self._server = await asyncio.start_server(self._serve, self.host, self.port)
            # Keep the port for a restart after stop(): clients reconnect to the same one.
            self._requested_port = self.port

    async def stop(self) -> None:
        """Close the listening socket and every open connection."""
        server, self._server = self._server, None
        if server is not None:
            server.close()
        self.disconnect_all()
        # Let each connection handler see its closed stream and end by itself, so no
        # task is left for the event loop to cancel at shutdown.
        if self._handlers:
            await asyncio.wait(set(self._handlers), timeout=1.0)
        if server is not None:
            await server.wait_closed()

    def disconnect_all(self) -> None:
        """Hang up on every client (they see the connection reset)."""
        for writer in list(self._writers):
            writer.close()
        self._writers.clear()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        self._writers.add(writer)
        try:
            while True:
                header = await reader.readexactly(7)
                transaction_id, protocol_id, length, unit_id = struct.unpack(">HHHB", header)
                if protocol_id != 0 or not 2 <= length <= 254:
                    return  # not Modbus TCP: a real device drops the connection
                pdu = await reader.readexactly(length - 1)
                answer = self._answer(unit_id, pdu)
                if not await self._send(writer, transaction_id, unit_id, answer):
                    return
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self._handlers.discard(task)
            self._writers.discard(writer)
            writer.close()
            with contextlib.suppress(ConnectionError, asyncio.CancelledError):
                await writer.wait_closed()

    async def _send(
        self, writer: asyncio.StreamWriter, transaction_id: int, unit_id: int, pdu: bytes | None
    ) -> bool:
        """Write the answer as the fault plan says; False when the connection must end."""
        fault = self.faults.fault
        if fault is Fault.CLOSE:
            return False
        if fault is Fault.SILENT or pdu is None:
            return True
        if fault is Fault.EXCEPTION:
            pdu = bytes([pdu[0] | 0x80, self.faults.exception_code])
        frame = struct.pack(">HHHB", transaction_id, 0, len(pdu) + 1, unit_id) + pdu
        if fault is Fault.GARBAGE:
            frame = b"\xde\xad\xbe\xef" * 4
        elif fault is Fault.HALF_FRAME:
            writer.write(frame[: len(frame) // 2])
            await writer.drain()
            return False
        elif fault is Fault.SPLIT:
            writer.write(frame[:3])
            await writer.drain()
            await asyncio.sleep(0.02)
            frame = frame[3:]
        writer.write(frame)
        await writer.drain()
        self.requests_served += 1
        if fault is not Fault.GARBAGE and not pdu[0] & 0x80:
            self.reads_by_function[pdu[0]] += 1
        return True

    def _answer(self, unit_id: int, pdu: bytes) -> bytes | None:
        """The response PDU, or None for a unit this server does not serve (no answer)."""
        if self.unit_ids is not None and unit_id not in self.unit_ids:
            return None
        function = pdu[0]
        if function in (1, 2) and self._bits is not None:
            return self._answer_bits(function, pdu)
        if function not in (3, 4):
            return bytes([function | 0x80, 1])
        if len(pdu) != 5:
            return bytes([function | 0x80, 3])
        address, count = struct.unpack(">HH", pdu[1:5])
        if not 1 <= count <= MAX_READ_COUNT:
            return bytes([function | 0x80, 3])
        words = self._lookup(RegisterKind(function), address, count)
        if words is None:
            return bytes([function | 0x80, 2])
        return bytes([function, 2 * count]) + struct.pack(f">{count}H", *words)

    def _answer_bits(self, function: int, pdu: bytes) -> bytes:
        """Read coils (1) or discrete inputs (2): the bits packed LSB first, eight to a byte (Modbus Application Protocol V1.1b3, 6.1-6.2)."""
        assert self._bits is not None
        if len(pdu) != 5:
            return bytes([function | 0x80, 3])
        address, count = struct.unpack(">HH", pdu[1:5])
        if not 1 <= count <= 2000:
            return bytes([function | 0x80, 3])
        bits = self._bits(function, address, count)
        if bits is None:
            return bytes([function | 0x80, 2])
        packed = bytearray((count + 7) // 8)
        for index, bit in enumerate(bits):
            if bit:
                packed[index // 8] |= 1 << (index % 8)
        return bytes([function, len(packed)]) + bytes(packed)
