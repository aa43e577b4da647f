"""`ModbusLink`: one Modbus TCP connection to one endpoint, shared by the meter reader and charger drivers.

What every Modbus TCP client of the project needs, written once: connect on
demand; after a transport failure wait a growing back-off before the next
attempt (calls during the wait fail at once); and fail a request the moment
the peer hangs up, or sends bytes that are not a Modbus TCP frame, instead of
letting pymodbus wait for its timeout. pymodbus' own reconnecting and retries
are off: the back-off and the deadline belong to the caller.

Callers keep their lock around each exchange and put it under the link's
deadline with `bounded` (a timeout or a transport failure drops the
connection and starts the back-off), and keep their own error types: the
link raises the transport error class it was given.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from pymodbus.client import AsyncModbusTcpClient
from pymodbus.exceptions import ModbusException

T = TypeVar("T")


class ModbusLink:
    """The connection to `host:port`; `label` and `peer` ("meter", "station") only word the errors."""

    def __init__(
        self,
        host: str,
        port: int,
        timeout_s: float,
        *,
        label: str,
        peer: str,
        transport_error: type[Exception],
        backoff_s: float,
        backoff_max_s: float,
        first_retry_immediate: bool,
        detect_garbage: bool,
        on_connect: Callable[[], None] | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.timeout_s = timeout_s
        self.label = label
        self.peer = peer
        self.transport_error = transport_error
        self.backoff_s = backoff_s
        self.backoff_max_s = backoff_max_s
        self.first_retry_immediate = first_retry_immediate
        self.detect_garbage = detect_garbage
        self.on_connect = on_connect
        self.on_drop: Callable[[], None] | None = None
        self._modbus: AsyncModbusTcpClient | None = None
        self._lost = asyncio.Event()
        self._garbage = False
        self._failures = 0
        self._next_attempt_s = 0.0

    @property
    def connected(self) -> bool:
        """Whether a connection is open now."""
        return self._modbus is not None and self._modbus.connected

    def raise_if_backing_off(self) -> None:
        """Fail at once while a back-off after failures is running and no connection is open."""
        if self.connected:
            return
        wait_s = self._next_attempt_s - time.monotonic()
        if wait_s > 0:
            raise self.transport_error(f"{self.label}: not connected; next attempt in {wait_s:.1f} s (back-off)")

    def succeeded(self) -> None:
        """A request went through: the next failure starts the back-off afresh."""
        self._failures = 0
        self._next_attempt_s = 0.0

    def drop(self, *, count_failure: bool = True) -> None:
        """Close the connection; after a failure, schedule when the next attempt may be made."""
        if self._modbus is not None:
            self._modbus.close()
            self._modbus = None
            if self.on_drop is not None:
                self.on_drop()
        if count_failure:
            if self.first_retry_immediate and self._failures == 0:
                delay_s = 0.0  # a single lost frame should cost one poll, not a back-off
            else:
                exponent = self._failures - 1 if self.first_retry_immediate else self._failures
                delay_s = min(self.backoff_max_s, self.backoff_s * 2**exponent)
            self._failures += 1
            self._next_attempt_s = time.monotonic() + delay_s

    async def bounded(
        self,
        work: Callable[[], Awaitable[T]],
        *,
        keep_open: tuple[type[Exception], ...] = (),
        on_failure: Callable[[str], None] | None = None,
    ) -> T:
        """One exchange (`work()`, the caller's requests) within `timeout_s`, refused at once while backing off.

        A timeout or a transport error drops the connection, which starts the
        back-off, and raises the transport error; `on_failure` hears why first.
        Transport errors of the `keep_open` kinds (an answer that refuses, on a
        connection that is fine) pass through and leave the connection open.
        """
        self.raise_if_backing_off()  # outside the try: waiting out a back-off must not extend it
        try:
            async with asyncio.timeout(self.timeout_s):
                return await work()
        except TimeoutError:
            self.drop()
            why = f"no answer within {self.timeout_s:g} s"
            if on_failure is not None:
                on_failure(why)
            raise self.transport_error(f"{self.label}: {why}") from None
        except self.transport_error as error:
            if isinstance(error, keep_open):
                raise
            self.drop()
            if on_failure is not None:
                on_failure(str(error))
            raise

    async def client(self) -> AsyncModbusTcpClient:
        """The open connection, made now if there is none."""
        if self.connected:
            return self._modbus  # type: ignore[return-value]
        self.drop(count_failure=False)
        lost = asyncio.Event()
        self._lost = lost
        self._garbage = False

        def inspect(sending: bool, data: bytes) -> bytes:
            # A Modbus TCP answer starts with an MBAP header whose protocol id is 0.
            # pymodbus silently drops anything else and waits for the timeout; seeing
            # it here turns "garbage on the wire" into an immediate, named failure.
            # pymodbus hands over its unconsumed receive buffer, which starts at a frame
            # boundary, so a frame split across TCP segments is not mistaken for garbage.
            if not sending and len(data) >= 4 and data[2:4] != b"\x00\x00":
                self._garbage = True
                lost.set()
            return data

        modbus = AsyncModbusTcpClient(
            self.host,
            port=self.port,
            timeout=self.timeout_s,
            retries=0,
            reconnect_delay=0,
            # pymodbus leaves a pending request waiting for its timeout when the peer
            # hangs up; this lets it fail at once with the real reason instead.
            trace_connect=lambda connected: None if connected else lost.set(),
            **({"trace_packet": inspect} if self.detect_garbage else {}),
        )
        try:
            connected = await modbus.connect()
        except (OSError, ModbusException) as error:
            modbus.close()
            raise self.transport_error(f"{self.label}: cannot connect: {error}") from error
        if not connected:
            modbus.close()
            raise self.transport_error(f"{self.label}: connection refused or unreachable")
        self._modbus = modbus
        if self.on_connect is not None:
            self.on_connect()
        return modbus

    async def request(self, what: str, call: Callable[[AsyncModbusTcpClient], Awaitable[object]]) -> object:
        """Run one request; a hang-up or garbage during it raises the transport error at once.

        Returns pymodbus' response as it is: exception answers are the caller's to
        interpret, since they mean different things to a meter and to a station. It
        uses the connection opened by `client()` and never reconnects in the middle
        of a caller's sequence of requests (a meter's blocks belong to one reading).
        """
        modbus = self._modbus
        if modbus is None or not modbus.connected:
            raise self.transport_error(f"{self.label}: connection closed by the {self.peer} during {what}")
        pending = asyncio.ensure_future(call(modbus))
        lost = asyncio.ensure_future(self._lost.wait())
        try:
            await asyncio.wait({pending, lost}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            lost.cancel()
            if not pending.done():
                pending.cancel()
        if not pending.done() or pending.cancelled():
            if self._garbage:
                raise self.transport_error(f"{self.label}: answer is not a Modbus TCP frame")
            raise self.transport_error(f"{self.label}: connection closed by the {self.peer} during {what}")
        try:
            return pending.result()
        except (ModbusException, OSError) as error:
            raise self.transport_error(f"{self.label}: {what}: {error}") from error
