"""The KEBA KeContact P20/P30 UDP protocol as data: commands, replies, code tables. No I/O.

Source for every fact here unless a comment says otherwise: KEBA, "KeContact P30
Charging Station UDP Programmers Guide", V2.01 (sections cited as "guide 2.1" etc.),
cross-checked against KEBA, "KeContact P20 Charging Station UDP Programmers Guide"
V3.00 (the P20 guide) where both describe the same command.

- Port 7090 for commands and replies (guide 2.2).
- t_UDP_pause = 100 ms between any two commands; t_COM_pause = 5 s between scheduled
  repetitions of the same command; t_DIS_pause = 2 s of silence after `ena 0`, which
  takes about 1 s to execute (guide 2.1, 3.3.1).
- `report 2` / `report 3` answer one JSON object with "ID" "2" / "3" (guide 3.2.3, 3.2.4);
  currents in mA, power in mW, energy in 0.1 Wh.
- `curr <mA>`: 6000..63000 (guide 3.3); `ena 0|1` (guide 3.3.1);
  `failsafe <t s> <mA> <save>`: t in 0 or 10..600, mA in 0 or 6000..63000, save 0|1
  (guide 3.3, "failsafe"). Each answers "TCH-OK :done", which only confirms receipt
  (P20 guide 2.7, 2.8: "verify using the proper report").
- Which commands feed the failsafe watchdog: "The device must receive a curr, currtime
  or ena command to prevent the activation" (guide, failsafe command). Reports do not.
- Status messages: on changes of State, Plug, Input, Enable sys, Max curr, E pres the
  station sends a JSON object with just that field (no "ID") to the sender of the last
  command (guide 3.4).
- "TCH-ERR" as a rejection is not in the pages of the guide we read; the keba-kecontact
  library (dannerph/keba-kecontact, utils.get_response_type) treats it as one. We map it
  to `ChargerRejected` and note it as unconfirmed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from gateways.chargers.base import ChargerProtocolError, ChargingState, PlugState

KEBA_UDP_PORT = 7090
COMMAND_PAUSE_S = 0.1  # t_UDP_pause, guide 2.1
REPEAT_PAUSE_S = 5.0  # t_COM_pause, guide 2.1
DISABLE_PAUSE_S = 2.0  # t_DIS_pause, guide 2.1 and 3.3.1

CURRENT_MIN_MA = 6000
CURRENT_MAX_MA = 63000
FAILSAFE_TIMEOUT_MIN_S = 10
FAILSAFE_TIMEOUT_MAX_S = 600

ACK_PREFIX = "TCH-OK"
ERROR_PREFIX = "TCH-ERR"  # unconfirmed in the guide, see the module docstring


@dataclass(frozen=True)
class Ack:
    """A command reply: "TCH-OK :done" (ok) or "TCH-ERR ..." (not ok); `text` as received."""

    ok: bool
    text: str


@dataclass(frozen=True)
class Report:
    """A `report N` answer: the JSON object, `report_id` taken from its "ID" field."""

    report_id: int
    fields: dict[str, Any]


@dataclass(frozen=True)
class StatusMessage:
    """An unsolicited status message (no "ID"), e.g. {"State": 3} or {"E pres": 1234}."""

    fields: dict[str, Any]


Message = Ack | Report | StatusMessage


def parse_datagram(data: bytes) -> Message:
    """Classify one datagram from a station; anything else raises `ChargerProtocolError`."""
    try:
        text = data.decode("utf-8").strip().strip("\x00").strip()
    except UnicodeDecodeError as error:
        raise ChargerProtocolError(f"datagram is not text: {data[:40]!r}") from error
    if text.startswith(ACK_PREFIX):
        return Ack(ok=True, text=text)
    if text.startswith(ERROR_PREFIX):
        return Ack(ok=False, text=text)
    if not text.startswith("{"):
        raise ChargerProtocolError(f"unexpected datagram: {text[:60]!r}")
    try:
        fields = json.loads(text)
    except json.JSONDecodeError as error:
        raise ChargerProtocolError(f"datagram is not valid JSON: {text[:60]!r}") from error
    if not isinstance(fields, dict):
        raise ChargerProtocolError(f"datagram is JSON but not an object: {text[:60]!r}")
    if "ID" not in fields:
        return StatusMessage(fields)
    try:
        report_id = int(fields["ID"])
    except (TypeError, ValueError) as error:
        raise ChargerProtocolError(f"report with a non-numeric ID: {fields['ID']!r}") from error
    return Report(report_id, fields)


def integer_field(fields: dict[str, Any], name: str) -> int:
    """A numeric report field as int; missing or non-numeric -> `ChargerProtocolError`."""
    if name not in fields:
        raise ChargerProtocolError(f"report lacks field {name!r}")
    value = fields[name]
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ChargerProtocolError(f"field {name!r} is not a number: {value!r}")
    try:
        return int(value)
    except ValueError as error:
        raise ChargerProtocolError(f"field {name!r} is not a number: {value!r}") from error


# Plug (report 2, guide 3.2.3): 0 no cable, 1 cable in station, 3 ... and locked,
# 5 cable in station and vehicle, 7 ... and locked. Values 5 and 7 mean a vehicle.
PLUG_CODES = frozenset({0, 1, 3, 5, 7})
VEHICLE_PLUG_CODES = frozenset({5, 7})

# State (report 2, guide 3.2.3): 0 startup, 1 not ready (no vehicle, locked by
# authorization, disabled), 2 ready and waiting for the vehicle, 3 charging, 4 error,
# 5 interrupted (temperature or another "voter" denies).
STATE_CODES = frozenset({0, 1, 2, 3, 4, 5})


def plug_state(plug_code: int) -> PlugState:
    """KEBA "Plug" -> whether a vehicle is connected (cable in the vehicle: 5 or 7)."""
    if plug_code not in PLUG_CODES:
        raise ChargerProtocolError(f"unknown Plug code {plug_code}")
    return PlugState.PLUGGED if plug_code in VEHICLE_PLUG_CODES else PlugState.UNPLUGGED


def charging_state(state_code: int, plug: PlugState) -> ChargingState:
    """KEBA "State" (same codes in Modbus register 1000) -> what the allocation needs."""
    if state_code not in STATE_CODES:
        raise ChargerProtocolError(f"unknown State code {state_code}")
    if state_code == 3:
        return ChargingState.CHARGING
    if state_code == 4:
        return ChargingState.ERROR
    if state_code in (2, 5):
        return ChargingState.WAITING
    # 0 (startup) and 1 (not ready): waiting if a vehicle is there (e.g. disabled by us
    # or waiting for authorization), idle otherwise.
    return ChargingState.WAITING if plug is PlugState.PLUGGED else ChargingState.IDLE


def current_ma(current_a: float) -> int:
    """A setpoint in A -> the mA a `curr` command takes; outside 6000..63000 -> ValueError."""
    milliamps = round(current_a * 1000)
    if not CURRENT_MIN_MA <= milliamps <= CURRENT_MAX_MA:
        raise ValueError(
            f"current {current_a:g} A is outside KEBA's {CURRENT_MIN_MA / 1000:g}..{CURRENT_MAX_MA / 1000:g} A"
        )
    return milliamps


def failsafe_current_ma(current_a: float) -> int:
    """A failsafe current in A -> mA; 0 (stop charging) or 6000..63000 mA, else ValueError."""
    if current_a == 0:
        return 0
    return current_ma(current_a)


def failsafe_timeout(timeout_s: int) -> int:
    """A failsafe timeout: 0 (off) or 10..600 s per the guide, else ValueError."""
    if timeout_s != 0 and not FAILSAFE_TIMEOUT_MIN_S <= timeout_s <= FAILSAFE_TIMEOUT_MAX_S:
        raise ValueError(
            f"failsafe timeout {timeout_s} s is outside KEBA's 0 or "
            f"{FAILSAFE_TIMEOUT_MIN_S}..{FAILSAFE_TIMEOUT_MAX_S} s"
        )
    return int(timeout_s)


def report_command(report_id: int) -> str:
    """`report 2` etc."""
    return f"report {report_id}"


def curr_command(milliamps: int) -> str:
    """`curr 16000`."""
    return f"curr {milliamps}"


def ena_command(enable: bool) -> str:
    """`ena 1` / `ena 0`."""
    return f"ena {1 if enable else 0}"


def failsafe_command(timeout_s: int, milliamps: int, save: bool) -> str:
    """`failsafe 60 6000 1`."""
    return f"failsafe {timeout_s} {milliamps} {1 if save else 0}"
