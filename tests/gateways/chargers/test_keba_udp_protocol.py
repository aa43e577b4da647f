"""The KEBA UDP protocol as data: what each datagram is, what each code means, which values are legal."""

from __future__ import annotations

import pytest

from gateways.chargers.base import ChargerProtocolError, ChargingState, PlugState
from gateways.chargers.keba_udp_protocol import (
    Ack,
    Report,
    StatusMessage,
    charging_state,
    current_ma,
    failsafe_command,
    failsafe_current_ma,
    failsafe_timeout,
    parse_datagram,
    plug_state,
)


@pytest.mark.parametrize(
    ("datagram", "expected"),
    [
        # command replies: receipt only
        (b"TCH-OK :done", Ack(ok=True, text="TCH-OK :done")),
        (b"TCH-OK :done\n", Ack(ok=True, text="TCH-OK :done")),
        (b"TCH-ERR :unknown command", Ack(ok=False, text="TCH-ERR :unknown command")),
        # report answers carry their ID, as a string in KEBA's examples
        (b'{"ID": "2", "State": 3}', Report(2, {"ID": "2", "State": 3})),
        (b'{"ID": 3, "I1": 16000}', Report(3, {"ID": 3, "I1": 16000})),
        # status messages the station sends on its own: one field, no ID
        (b'{"State": 3}', StatusMessage({"State": 3})),
        (b'{"Plug": 7}', StatusMessage({"Plug": 7})),
        (b'{"E pres": 12345}', StatusMessage({"E pres": 12345})),
    ],
)
def test_datagrams_are_classified(datagram: bytes, expected: object) -> None:
    assert parse_datagram(datagram) == expected


@pytest.mark.parametrize(
    "datagram",
    [
        b"\xff\xfe{",  # not text
        b"{not json",  # broken JSON
        b"[1, 2, 3]",  # JSON, not an object
        b'{"ID": "two"}',  # report with a nonsense ID
        b'"Firmware":"P30 v 3.10.57"',  # the answer to `i`, which we never send
        b"",
    ],
)
def test_malformed_datagrams_are_protocol_errors(datagram: bytes) -> None:
    with pytest.raises(ChargerProtocolError):
        parse_datagram(datagram)


@pytest.mark.parametrize(
    ("plug_code", "expected"),
    [
        (0, PlugState.UNPLUGGED),  # no cable
        (1, PlugState.UNPLUGGED),  # cable in the station only
        (3, PlugState.UNPLUGGED),  # ... and locked: idle state of an attached cable
        (5, PlugState.PLUGGED),  # cable in station and vehicle
        (7, PlugState.PLUGGED),  # ... and locked: charging possible
    ],
)
def test_plug_codes(plug_code: int, expected: PlugState) -> None:
    assert plug_state(plug_code) is expected


@pytest.mark.parametrize(
    ("state_code", "plug", "expected"),
    [
        # no vehicle
        (0, PlugState.UNPLUGGED, ChargingState.IDLE),  # starting up
        (1, PlugState.UNPLUGGED, ChargingState.IDLE),  # not ready
        # a vehicle on the cable
        (1, PlugState.PLUGGED, ChargingState.WAITING),  # disabled (ena 0) or waiting for authorization
        (2, PlugState.PLUGGED, ChargingState.WAITING),  # ready, the vehicle does not draw
        (3, PlugState.PLUGGED, ChargingState.CHARGING),
        (4, PlugState.PLUGGED, ChargingState.ERROR),
        (5, PlugState.PLUGGED, ChargingState.WAITING),  # interrupted: temperature or another voter
    ],
)
def test_state_codes(state_code: int, plug: PlugState, expected: ChargingState) -> None:
    assert charging_state(state_code, plug) is expected


@pytest.mark.parametrize("state_code", [-1, 6, 99])
def test_unknown_state_codes_are_protocol_errors(state_code: int) -> None:
    with pytest.raises(ChargerProtocolError):
        charging_state(state_code, PlugState.PLUGGED)


@pytest.mark.parametrize("plug_code", [-1, 2, 4, 6, 8])
def test_unknown_plug_codes_are_protocol_errors(plug_code: int) -> None:
    with pytest.raises(ChargerProtocolError):
        plug_state(plug_code)


@pytest.mark.parametrize(("current_a", "milliamps"), [(6, 6000), (16.0, 16000), (6.25, 6250), (63, 63000)])
def test_setpoints_within_6_to_63_a_become_milliamps(current_a: float, milliamps: int) -> None:
    assert current_ma(current_a) == milliamps


@pytest.mark.parametrize("current_a", [0.5, 5.99, 63.01, 80])
def test_setpoints_outside_6_to_63_a_are_refused(current_a: float) -> None:
    with pytest.raises(ValueError):
        current_ma(current_a)


def test_failsafe_limits_follow_the_guide() -> None:
    assert failsafe_timeout(0) == 0 and failsafe_timeout(10) == 10 and failsafe_timeout(600) == 600
    for bad_timeout_s in (1, 9, 601):
        with pytest.raises(ValueError):
            failsafe_timeout(bad_timeout_s)
    assert failsafe_current_ma(0) == 0 and failsafe_current_ma(6) == 6000
    with pytest.raises(ValueError):
        failsafe_current_ma(3)
    assert failsafe_command(60, 6000, save=True) == "failsafe 60 6000 1"
