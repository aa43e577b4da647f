"""`KebaUdpTransport`: the one UDP socket a gateway uses to talk to all its KEBA stations.

A KEBA station answers to port 7090 of the sender (KeContact P30 UDP Programmers Guide
V2.01, 2.2), so a gateway cannot open one socket per station: all stations share one
socket bound to (bind address, 7090), and replies are told apart by the sender's IP.
Per station, commands are serialised (one outstanding command at a time) and spaced by
t_UDP_pause (100 ms), or t_DIS_pause (2 s) after `ena 0` (guide 2.1, 3.3.1); stations
do not wait for each other.

A reply is matched to the outstanding command by its kind: `report N` waits for a
JSON object with "ID" N, any other command for "TCH-OK"/"TCH-ERR". Status messages
(JSON without "ID") never answer a command; the latest ones are kept per station for
diagnosis. A malformed datagram fails the command it arrives during with
`ChargerProtocolError` and never disturbs the socket or other stations.

Limit: UDP answers carry no request id. An acknowledgement that arrives after its
command timed out could be taken for the acknowledgement of the station's next command;
reports are safe (matched by their ID), and every changing command is followed by a
`report 2` read-back, which catches a command that was not applied.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from gateways.chargers.base import (
    ChargerProtocolError,
    ChargerRejected,
    ChargerUnreachable,
)
from gateways.chargers.keba_udp_protocol import (
    COMMAND_PAUSE_S,
    DISABLE_PAUSE_S,
    KEBA_UDP_PORT,
    Ack,
    Message,
    Report,
    StatusMessage,
    ena_command,
    parse_datagram,
)

log = logging.getLogger(__name__)

Matcher = Callable[[Message], bool]


@dataclass
class _Pending:
    """The one command a station has outstanding, and how to recognise its answer."""

    command: str
    matches: Matcher
    reply: asyncio.Future[Message]


@dataclass
class _Station:
    """Per-station bookkeeping: the serialising lock, the spacing, the outstanding command."""

    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    not_before_s: float = 0.0
    pending: _Pending | None = None
    status: dict[str, object] = field(default_factory=dict)
    status_at_s: float = -math.inf
    malformed_datagrams: int = 0


def _expects(command: str) -> Matcher:
    """How to recognise the answer to `command` among what the station sends."""
    words = command.split()
    if words and words[0] == "report" and len(words) == 2 and words[1].isdigit():
        report_id = int(words[1])
        return lambda message: isinstance(message, Report) and message.report_id == report_id
    return lambda message: isinstance(message, Ack)


class KebaUdpTransport(asyncio.DatagramProtocol):
    """One shared UDP socket for all KEBA stations of a gateway: `await exchange(ip, command, timeout_s)`.

    `bind_host`/`port`: where the socket listens; the same port number is the
    destination of every command, as stations listen and answer on one port (7090 in the
    field, a free port in tests). `command_pause_s`/`disable_pause_s` default to the
    guide's minimums; tests may shorten them, never the field.
    """

    def __init__(
        self,
        bind_host: str = "0.0.0.0",
        port: int = KEBA_UDP_PORT,
        *,
        command_pause_s: float = COMMAND_PAUSE_S,
        disable_pause_s: float = DISABLE_PAUSE_S,
    ) -> None:
        self.bind_host = bind_host
        self.port = port
        self.command_pause_s = command_pause_s
        self.disable_pause_s = disable_pause_s
        self._socket: asyncio.DatagramTransport | None = None
        self._stations: dict[str, _Station] = {}
        self._start_lock = asyncio.Lock()

    # -- lifecycle ---------------------------------------------------------------

    @classmethod
    async def open(cls, bind_host: str = "0.0.0.0", port: int = KEBA_UDP_PORT, **options: float) -> KebaUdpTransport:
        """A started transport (the agent's driver registry opens it this way)."""
        transport = cls(bind_host, port, **options)
        await transport.start()
        return transport

    async def start(self) -> None:
        """Bind the socket (idempotent); `OSError` if the address is taken."""
        async with self._start_lock:
            if self._socket is not None:
                return
            loop = asyncio.get_running_loop()
            socket_transport, _ = await loop.create_datagram_endpoint(
                lambda: self, local_addr=(self.bind_host, self.port)
            )
            self._socket = socket_transport

    def close(self) -> None:
        """Close the socket (synchronous, like the datagram transport); outstanding commands fail with `ChargerUnreachable`."""
        if self._socket is not None:
            self._socket.close()
            self._socket = None
        for host, station in self._stations.items():
            if station.pending is not None and not station.pending.reply.done():
                station.pending.reply.set_exception(ChargerUnreachable(f"{host}: transport closed"))

    @property
    def started(self) -> bool:
        """Whether the socket is bound."""
        return self._socket is not None

    # -- asyncio.DatagramProtocol -------------------------------------------------

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        """Route a datagram to the station that sent it; never raises."""
        host = addr[0]
        station = self._stations.get(host)
        if station is None:
            log.debug("datagram from unknown host %s dropped", host)
            return
        pending = station.pending
        try:
            message = parse_datagram(data)
        except ChargerProtocolError as error:
            station.malformed_datagrams += 1
            if pending is not None and not pending.reply.done():
                pending.reply.set_exception(
                    ChargerProtocolError(f"{host}: malformed answer to {pending.command!r}: {error}")
                )
            else:
                log.debug("%s: malformed datagram outside a command dropped: %s", host, error)
            return
        if isinstance(message, StatusMessage):
            station.status.update(message.fields)
            station.status_at_s = time.monotonic()
            return
        if pending is not None and not pending.reply.done() and pending.matches(message):
            pending.reply.set_result(message)
            return
        log.debug("%s: unsolicited %r ignored", host, message)

    def error_received(self, exc: Exception) -> None:
        """ICMP errors (e.g. port unreachable) surface as timeouts of the command; only log them."""
        log.debug("UDP socket error: %s", exc)

    # -- commands -----------------------------------------------------------------

    def status(self, host: str) -> dict[str, object]:
        """The latest unsolicited status fields from `host` (diagnosis only, never a reading)."""
        station = self._stations.get(host)
        return dict(station.status) if station else {}

    def status_at_s(self, host: str) -> float:
        """When `host` last announced a change of State, Plug, Enable sys, Max curr or E pres (monotonic s)."""
        station = self._stations.get(host)
        return station.status_at_s if station else -math.inf

    def malformed_datagrams(self, host: str) -> int:
        """How many malformed datagrams `host` has sent."""
        station = self._stations.get(host)
        return station.malformed_datagrams if station else 0

    def register(self, host: str) -> None:
        """Accept datagrams from `host` from now on (drivers call this in `start`)."""
        self._stations.setdefault(host, _Station())

    async def exchange(self, host: str, command: str, reply_timeout_s: float) -> Message:
        """Send `command` to `host` once its spacing allows, and return its answer.

        Raises `ChargerUnreachable` if no answer comes within `reply_timeout_s` of
        sending, `ChargerProtocolError` for a malformed answer. Waiting for the station's
        turn is not part of `reply_timeout_s`; callers bound the whole call themselves.
        """
        if self._socket is None:
            raise ChargerUnreachable(f"{host}: transport not started")
        station = self._stations.setdefault(host, _Station())
        async with station.lock:
            wait_s = station.not_before_s - time.monotonic()
            if wait_s > 0:
                await asyncio.sleep(wait_s)
            if self._socket is None:
                raise ChargerUnreachable(f"{host}: transport closed")
            reply: asyncio.Future[Message] = asyncio.get_running_loop().create_future()
            station.pending = _Pending(command, _expects(command), reply)
            try:
                sent_s = time.monotonic()
                pause_s = self.disable_pause_s if command == ena_command(False) else self.command_pause_s
                station.not_before_s = sent_s + pause_s
                self._socket.sendto(command.encode("ascii"), (host, self.port))
                try:
                    async with asyncio.timeout(reply_timeout_s):
                        return await reply
                except TimeoutError:
                    raise ChargerUnreachable(
                        f"{host}: no answer to {command!r} within {reply_timeout_s:g} s"
                    ) from None
            except OSError as error:
                raise ChargerUnreachable(f"{host}: cannot send {command!r}: {error}") from error
            finally:
                station.pending = None


def ensure_answer(message: Message, host: str, command: str) -> Message:
    """Turn a "TCH-ERR" into `ChargerRejected`; pass anything else through."""
    if isinstance(message, Ack) and not message.ok:
        raise ChargerRejected(f"{host}: {command!r} answered {message.text!r}")
    return message
