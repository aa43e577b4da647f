"""`KebaUdpStation`: a simulated KEBA KeContact P30 answering the UDP protocol on a real socket.

It binds (host, port) like a station binds (its IP, 7090) and answers to the same port
of the sender, as the real one does (KEBA, KeContact P30 UDP Programmers Guide V2.01,
2.2). Commands: `i`, `report 1/2/3`, `curr`, `ena`, `failsafe`; replies and report
fields as in the guide (3.2, 3.3); status messages on changes of State, Plug,
Enable sys and Max curr go to the sender of the last command (guide 3.4).

For tests it records when each command arrived (to check the 100 ms spacing), can fall
silent (`drop_out`), can answer with garbage (`send_malformed`) and can acknowledge
commands without applying them (`ignore_commands`).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import time
from dataclasses import dataclass

from gateways.chargers.keba_udp_protocol import (
    CURRENT_MAX_MA,
    CURRENT_MIN_MA,
    FAILSAFE_TIMEOUT_MAX_S,
    FAILSAFE_TIMEOUT_MIN_S,
    KEBA_UDP_PORT,
)
from gateways.simulators.keba_station import KebaStationModel, StationSnapshot

log = logging.getLogger(__name__)

ACK = "TCH-OK :done"
TICK_S = 0.05


@dataclass(frozen=True)
class ReceivedCommand:
    """One command as the station saw it."""

    at_s: float
    sender: str
    text: str


class KebaUdpStation(asyncio.DatagramProtocol):
    """A simulated station on (host, port); `await start()`, `await close()`."""

    def __init__(
        self,
        host: str,
        port: int = KEBA_UDP_PORT,
        *,
        model: KebaStationModel | None = None,
        serial: str = "17000001",
        product: str = "KC-P30-EC240122-E00",
    ) -> None:
        self.host = host
        self.port = port
        self.model = model or KebaStationModel()
        self.serial = serial
        self.product = product
        self.drop_out = False
        self.ignore_commands = False
        self.received: list[ReceivedCommand] = []
        self._malformed: list[bytes] = []
        self._socket: asyncio.DatagramTransport | None = None
        self._ticker: asyncio.Task[None] | None = None
        self._last_sender: str | None = None
        self._last_snapshot: StationSnapshot | None = None
        self._started_s = time.monotonic()

    async def start(self) -> None:
        """Bind the socket and start the clock that drives the watchdog and energy."""
        loop = asyncio.get_running_loop()
        self._socket, _ = await loop.create_datagram_endpoint(lambda: self, local_addr=(self.host, self.port))
        self._last_snapshot = self.model.snapshot()
        self._ticker = asyncio.create_task(self._tick_forever(), name=f"keba-udp-station-{self.host}")

    async def close(self) -> None:
        """Stop the clock and release the socket."""
        if self._ticker is not None:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ticker
            self._ticker = None
        if self._socket is not None:
            self._socket.close()
            self._socket = None

    # -- test hooks ------------------------------------------------------------------------

    def send_malformed(self, payload: bytes = b"\xff{not json", count: int = 1) -> None:
        """Answer the next `count` commands with `payload` instead of the real reply."""
        self._malformed.extend([payload] * count)

    def command_gaps_s(self) -> list[float]:
        """Seconds between consecutive commands, as this station received them."""
        times = [command.at_s for command in self.received]
        return [later - earlier for earlier, later in itertools.pairwise(times)]

    # -- protocol -----------------------------------------------------------------------------

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        """Answer one command to port `self.port` of its sender."""
        text = data.decode("ascii", errors="replace").strip()
        self.received.append(ReceivedCommand(time.monotonic(), addr[0], text))
        if self.drop_out or self._socket is None:
            return
        self._last_sender = addr[0]
        self.model.tick()
        reply = self._malformed.pop(0) if self._malformed else self._answer(text).encode("utf-8")
        if reply:
            self._socket.sendto(reply, (addr[0], self.port))
        self._send_status_changes()

    def _answer(self, text: str) -> str:
        words = text.split()
        if not words:
            return ""
        command, args = words[0], words[1:]
        if command == "i":
            return '"Firmware":"P30 v 3.10.57 (simulated)"\n'
        if command == "report" and len(args) == 1 and args[0].isdigit():
            return self._report(int(args[0]))
        if command in ("curr", "ena", "failsafe"):
            if not self.ignore_commands:
                self._apply(command, args)
            return ACK
        # Not in the guide's pages we read: keba-kecontact treats "TCH-ERR" as a rejection.
        return "TCH-ERR :unknown command"

    def _apply(self, command: str, args: list[str]) -> None:
        numbers = [int(arg) for arg in args if arg.isdigit()]
        if command == "curr" and len(numbers) == 1:
            # P20 guide 2.8: invalid values are discarded and 6000 mA is set instead.
            valid = CURRENT_MIN_MA <= numbers[0] <= CURRENT_MAX_MA
            self.model.set_current(numbers[0] if valid else CURRENT_MIN_MA)
        elif command == "ena" and len(numbers) == 1:
            # P20 guide 2.7: any value other than 0 or 1 also disables.
            self.model.set_enabled(numbers[0] == 1)
        elif command == "failsafe" and len(numbers) == 3:
            timeout_s, milliamps, save = numbers
            timeout_ok = timeout_s == 0 or FAILSAFE_TIMEOUT_MIN_S <= timeout_s <= FAILSAFE_TIMEOUT_MAX_S
            current_ok = milliamps == 0 or CURRENT_MIN_MA <= milliamps <= CURRENT_MAX_MA
            if timeout_ok and current_ok and save in (0, 1):
                self.model.set_failsafe(timeout_s, milliamps, saved=save == 1)

    def _report(self, report_id: int) -> str:
        model = self.model
        seconds = int(time.monotonic() - self._started_s)
        if report_id == 1:
            fields: dict[str, object] = {
                "ID": "1", "Product": self.product, "Serial": self.serial,
                "Firmware": "P30 v 3.10.57 (simulated)", "COM-module": 0, "Sec": seconds,
            }
        elif report_id == 2:
            fields = {
                "ID": "2", "State": model.state, "Error1": 0, "Error2": 0, "Plug": model.plug,
                "AuthON": 0, "Authreq": 0, "Enable sys": model.enable_sys,
                "Enable user": model.enable_user, "Max curr": model.max_curr_ma,
                "Max curr %": 1000, "Curr HW": model.hardware_max_ma, "Curr user": model.curr_user_ma,
                "Curr FS": model.curr_fs_ma, "Tmo FS": model.tmo_fs_s, "Curr timer": 0, "Tmo CT": 0,
                "Setenergy": 0, "Output": 0, "Input": 0, "Serial": self.serial, "Sec": seconds,
            }
        elif report_id == 3:
            i1, i2, i3 = model.phase_currents_ma
            fields = {
                "ID": "3", "U1": 230, "U2": 230, "U3": 230, "I1": i1, "I2": i2, "I3": i3,
                "P": model.power_mw, "PF": 1000 if model.power_mw else 0,
                "E pres": int(model.session_energy_01wh), "E total": int(model.total_energy_01wh),
                "Serial": self.serial, "Sec": seconds,
            }
        else:
            return "TCH-ERR :unknown report"
        return json.dumps(fields)

    # -- status messages ---------------------------------------------------------------------

    async def _tick_forever(self) -> None:
        while True:
            await asyncio.sleep(TICK_S)
            self.model.tick()
            self._send_status_changes()

    def _send_status_changes(self) -> None:
        """Tell the last sender about changed State, Plug, Enable sys, Max curr (guide 3.4)."""
        snapshot = self.model.snapshot()
        previous, self._last_snapshot = self._last_snapshot, snapshot
        if previous is None or self._last_sender is None or self._socket is None or self.drop_out:
            return
        names = {"state": "State", "plug": "Plug", "enable_sys": "Enable sys", "max_curr_ma": "Max curr"}
        for attribute, field_name in names.items():
            value = getattr(snapshot, attribute)
            if value != getattr(previous, attribute):
                message = json.dumps({field_name: value}).encode("utf-8")
                self._socket.sendto(message, (self._last_sender, self.port))
