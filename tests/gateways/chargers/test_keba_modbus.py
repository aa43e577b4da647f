"""keba-modbus over real Modbus TCP: what the regulation loop can rely on from `KebaModbusDriver`."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from gateways.chargers.base import (
    ChargerProtocolError,
    ChargerRejected,
    ChargerUnreachable,
    ChargingState,
    FailsafeSettings,
    PlugState,
)
from gateways.chargers.keba_modbus import (
    KebaModbusDriver,
    KebaModbusException,
    KebaModbusTransportError,
)
from gateways.simulators.keba_modbus_station import KebaModbusStation
from gateways.simulators.keba_station import Vehicle

from .conftest import VALID_FOR_S, SteppedClock

# -- reading ---------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_a_charging_vehicle_reads_with_its_phase_currents(
    modbus_driver: KebaModbusDriver, modbus_station: KebaModbusStation
) -> None:
    modbus_station.model.curr_user_ma = 11000
    modbus_station.model.plug_in(Vehicle(max_current_a=32, phases=3))
    reading = await modbus_driver.read()
    assert (reading.plug, reading.state) == (PlugState.PLUGGED, ChargingState.CHARGING)
    assert reading.current_a == (11.0, 11.0, 11.0)
    assert reading.setpoint_a == 11.0


@pytest.mark.asyncio
async def test_every_read_is_one_32_bit_value_with_function_code_3(
    modbus_driver: KebaModbusDriver, modbus_station: KebaModbusStation
) -> None:
    await modbus_driver.read()
    assert {(code, count) for code, _, count in modbus_station.requests} == {(3, 2)}
    assert [address for _, address, _ in modbus_station.requests] == [1000, 1004, 1008, 1010, 1012, 1100]


@pytest.mark.asyncio
async def test_requests_can_be_spaced_for_stations_that_need_it(modbus_station: KebaModbusStation) -> None:
    driver = KebaModbusDriver("127.0.0.1", modbus_station.port, timeout_s=2.0, request_pause_s=0.1)
    try:
        started_s = time.monotonic()
        await driver.read()
    finally:
        await driver.close()
    assert time.monotonic() - started_s >= 5 * 0.1  # six requests, five pauses


# -- setpoints ---------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_a_setpoint_is_written_with_function_code_6_and_read_back(
    modbus_driver: KebaModbusDriver, modbus_station: KebaModbusStation
) -> None:
    modbus_station.model.plug_in(Vehicle(max_current_a=16, phases=1))
    await modbus_driver.apply_setpoint(9.5, VALID_FOR_S)
    assert modbus_station.model.curr_user_ma == 9500
    writes = [(address, code) for code, address, _ in modbus_station.requests if code == 6]
    assert (5004, 6) in writes and (5014, 6) in writes
    assert modbus_station.requests[-1][:2] == (3, 1100)  # the read-back came last
    assert (await modbus_driver.read()).current_a == (9.5, 0.0, 0.0)


@pytest.mark.asyncio
async def test_a_current_the_station_does_not_apply_is_rejected(
    modbus_driver: KebaModbusDriver, modbus_station: KebaModbusStation
) -> None:
    modbus_station.model.enable_sys = 0  # e.g. the enable input X1 is open: nothing is offered
    with pytest.raises(ChargerRejected, match="1100 shows 0 mA"):
        await modbus_driver.apply_setpoint(10.0, VALID_FOR_S)


@pytest.mark.asyncio
async def test_a_hardware_limit_below_the_setpoint_is_accepted(
    modbus_driver: KebaModbusDriver, modbus_station: KebaModbusStation
) -> None:
    modbus_station.model.hardware_max_ma = 16000  # DIP switches: 16 A
    await modbus_driver.apply_setpoint(20.0, VALID_FOR_S)
    assert (await modbus_driver.read()).setpoint_a == 16.0


@pytest.mark.asyncio
async def test_pause_and_resume(modbus_driver: KebaModbusDriver, modbus_station: KebaModbusStation) -> None:
    modbus_station.model.plug_in(Vehicle(max_current_a=16, phases=3))
    await modbus_driver.apply_setpoint(0, VALID_FOR_S)
    paused = await modbus_driver.read()
    assert (paused.enabled, paused.state, paused.current_a) == (False, ChargingState.WAITING, (0.0, 0.0, 0.0))
    await modbus_driver.apply_setpoint(14.0, VALID_FOR_S)
    resumed = await modbus_driver.read()
    assert (resumed.enabled, resumed.state, resumed.current_a) == (True, ChargingState.CHARGING, (14.0, 14.0, 14.0))


@pytest.mark.asyncio
async def test_setpoints_outside_6_to_63_a_are_refused(modbus_driver: KebaModbusDriver) -> None:
    for current_a in (2.0, 64.0, -3.0):
        with pytest.raises(ValueError):
            await modbus_driver.apply_setpoint(current_a, VALID_FOR_S)


# -- failsafe ----------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_the_failsafe_current_and_timeout_are_written_and_read_back_from_1600_and_1602(
    modbus_driver: KebaModbusDriver, modbus_station: KebaModbusStation
) -> None:
    armed = await modbus_driver.arm_failsafe(FailsafeSettings(timeout_s=20, current_a=6.0))
    assert armed == FailsafeSettings(timeout_s=20, current_a=6.0)
    assert (modbus_station.model.tmo_fs_s, modbus_station.model.curr_fs_ma) == (20, 6000)
    # [KEBA-P40-1.02] 4.7: the current (5016) before the timeout (5018) starts the timer; then both read back.
    assert [(code, address) for code, address, _ in modbus_station.requests] == [(6, 5016), (6, 5018), (3, 1600), (3, 1602)]


@pytest.mark.asyncio
async def test_a_failsafe_of_zero_amperes_suspends_charging_and_is_confirmed(
    modbus_driver: KebaModbusDriver, modbus_station: KebaModbusStation
) -> None:
    modbus_station.model.curr_fs_ma = 16000  # left over from an earlier setting
    armed = await modbus_driver.arm_failsafe(FailsafeSettings(timeout_s=10, current_a=0.0))
    assert armed == FailsafeSettings(timeout_s=10, current_a=0.0)
    assert modbus_station.model.curr_fs_ma == 0


@pytest.mark.asyncio
async def test_a_station_that_does_not_take_the_failsafe_current_is_rejected(
    modbus_driver: KebaModbusDriver, modbus_station: KebaModbusStation
) -> None:
    modbus_station.ignore_writes = {5016}
    with pytest.raises(ChargerRejected, match="0 mA in 1602/1600, wanted 20 s / 6000 mA"):
        await modbus_driver.arm_failsafe(FailsafeSettings(timeout_s=20, current_a=6.0))


@pytest.mark.asyncio
async def test_failsafe_values_outside_the_guide_are_refused_before_anything_is_sent(
    modbus_driver: KebaModbusDriver, modbus_station: KebaModbusStation
) -> None:
    # [KEBA-P40-1.02] 4.7.1/4.7.2: 0 or 6000..32000 mA, 0 or 5..600 s.
    for settings in (FailsafeSettings(4, 6.0), FailsafeSettings(601, 6.0), FailsafeSettings(30, 5.0),
                     FailsafeSettings(30, 33.0)):
        with pytest.raises(ValueError):
            await modbus_driver.arm_failsafe(settings)
    assert modbus_station.requests == []


@pytest.mark.asyncio
async def test_the_station_falls_back_to_the_failsafe_current_when_its_timer_runs_out(
    modbus_driver: KebaModbusDriver, modbus_station: KebaModbusStation, station_clock: SteppedClock
) -> None:
    modbus_station.model.plug_in(Vehicle(max_current_a=32, phases=1))
    await modbus_driver.arm_failsafe(FailsafeSettings(timeout_s=10, current_a=6.0))
    for _ in range(3):  # each setpoint restarts the timer ([KEBA-P40-1.02] 4.7)
        station_clock.advance(9.0)
        await modbus_driver.apply_setpoint(20.0, VALID_FOR_S)
    assert (await modbus_driver.read()).current_a == (20.0, 0.0, 0.0)
    station_clock.advance(9.9)
    assert (await modbus_driver.read()).current_a == (20.0, 0.0, 0.0)  # reads do not restart it; not yet run out
    station_clock.advance(0.1)
    fallen_back = await modbus_driver.read()
    assert modbus_station.model.failsafe_active
    assert (fallen_back.current_a, fallen_back.setpoint_a) == ((6.0, 0.0, 0.0), 6.0)
    await modbus_driver.apply_setpoint(20.0, VALID_FOR_S)  # the next command ends the failsafe state
    assert (await modbus_driver.read()).current_a == (20.0, 0.0, 0.0)


@pytest.mark.asyncio
async def test_every_setpoint_is_written_the_regulator_decides_when(
    modbus_driver: KebaModbusDriver, modbus_station: KebaModbusStation
) -> None:
    for _ in range(3):
        assert await modbus_driver.apply_setpoint(10.0, VALID_FOR_S) is True
    assert [address for code, address, _ in modbus_station.requests if code == 6] == [5004, 5014] * 3


# -- failures ----------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_a_modbus_exception_answer_is_a_protocol_error_not_unreachable(
    modbus_driver: KebaModbusDriver, modbus_station: KebaModbusStation
) -> None:
    modbus_station.exception_code = 4  # server device failure
    with pytest.raises(KebaModbusException) as caught:
        await modbus_driver.read()
    assert caught.value.code == 4
    assert isinstance(caught.value, ChargerProtocolError)
    assert not isinstance(caught.value, ChargerUnreachable)
    modbus_station.exception_code = None
    assert (await modbus_driver.read()).plug is PlugState.UNPLUGGED  # same connection, still good


@pytest.mark.asyncio
async def test_a_hang_up_during_a_request_fails_at_once_and_the_driver_reconnects(
    modbus_driver: KebaModbusDriver, modbus_station: KebaModbusStation
) -> None:
    modbus_station.hang_up = True
    started_s = time.monotonic()
    with pytest.raises(KebaModbusTransportError):
        await modbus_driver.read()
    assert time.monotonic() - started_s < modbus_driver.timeout_s
    modbus_station.hang_up = False
    with pytest.raises(ChargerUnreachable, match="next attempt"):  # back-off: no reconnect storm
        await modbus_driver.read()
    await asyncio.sleep(0.15)
    assert (await modbus_driver.read()).plug is PlugState.UNPLUGGED


@pytest.mark.asyncio
async def test_nothing_listening_is_unreachable(modbus_station: KebaModbusStation) -> None:
    port = modbus_station.port
    await modbus_station.close()
    driver = KebaModbusDriver("127.0.0.1", port, timeout_s=1.0)
    with pytest.raises(ChargerUnreachable):
        await driver.read()
    await driver.close()


@pytest_asyncio.fixture
async def silent_server() -> AsyncIterator[int]:
    """A TCP server that accepts connections and never answers: a hung station."""
    connections: list[asyncio.StreamWriter] = []

    async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(writer)

    server = await asyncio.start_server(accept, "127.0.0.1", 0)
    yield server.sockets[0].getsockname()[1]
    for writer in connections:
        writer.close()
    server.close()
    with contextlib.suppress(Exception):
        await server.wait_closed()


@pytest.mark.asyncio
async def test_a_silent_station_is_unreachable_within_the_timeout(silent_server: int) -> None:
    driver = KebaModbusDriver("127.0.0.1", silent_server, timeout_s=0.5)
    started_s = time.monotonic()
    with pytest.raises(ChargerUnreachable):
        await driver.read()
    assert time.monotonic() - started_s < 0.5 + 0.5
    await driver.close()
