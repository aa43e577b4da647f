"""keba-udp over real UDP sockets: what the regulation loop can rely on from `KebaUdpDriver`."""

from __future__ import annotations

import asyncio
import time

import pytest

from gateways.chargers.base import (
    ChargerProtocolError,
    ChargerRejected,
    ChargerUnreachable,
    ChargingState,
    FailsafeSettings,
    PlugState,
)
from gateways.chargers.keba_udp import KebaUdpDriver
from gateways.chargers.keba_udp_transport import KebaUdpTransport
from gateways.simulators.keba_station import Vehicle
from gateways.simulators.keba_udp_station import KebaUdpStation

from .conftest import STATION_A_IP, TEST_DISABLE_PAUSE_S, VALID_FOR_S, SteppedClock

# -- reading ---------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_an_empty_station_reads_as_unplugged_and_idle(driver_a: KebaUdpDriver) -> None:
    reading = await driver_a.read()
    assert reading.plug is PlugState.UNPLUGGED
    assert reading.state is ChargingState.IDLE
    assert reading.current_a == (0.0, 0.0, 0.0)


@pytest.mark.asyncio
async def test_a_charging_vehicle_reads_with_its_phase_currents(driver_a: KebaUdpDriver, station_a: KebaUdpStation) -> None:
    station_a.model.curr_user_ma = 10000
    station_a.model.plug_in(Vehicle(max_current_a=32, phases=3))
    reading = await driver_a.read()
    assert reading.plug is PlugState.PLUGGED
    assert reading.state is ChargingState.CHARGING
    assert reading.enabled is True
    assert reading.current_a == (10.0, 10.0, 10.0)
    assert reading.setpoint_a == 10.0


# -- setpoints ---------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_a_setpoint_is_applied_and_read_back(driver_a: KebaUdpDriver, station_a: KebaUdpStation) -> None:
    station_a.model.plug_in(Vehicle(max_current_a=16, phases=1))
    await driver_a.apply_setpoint(8.0, VALID_FOR_S)
    assert station_a.model.curr_user_ma == 8000
    assert station_a.received[-1].text == "report 2"  # "TCH-OK" is not enough: the read-back came last
    reading = await driver_a.read()
    assert reading.current_a == (8.0, 0.0, 0.0)


@pytest.mark.asyncio
async def test_setpoints_outside_6_to_63_a_are_refused_before_anything_is_sent(
    driver_a: KebaUdpDriver, station_a: KebaUdpStation
) -> None:
    for current_a in (3.0, 70.0, -1.0):
        with pytest.raises(ValueError):
            await driver_a.apply_setpoint(current_a, VALID_FOR_S)
    assert station_a.received == []


@pytest.mark.asyncio
async def test_a_station_that_acknowledges_but_does_not_apply_is_rejected(
    driver_a: KebaUdpDriver, station_a: KebaUdpStation
) -> None:
    station_a.ignore_commands = True  # "TCH-OK :done" confirms receipt only
    with pytest.raises(ChargerRejected, match="curr_user_ma"):
        await driver_a.apply_setpoint(10.0, VALID_FOR_S)


@pytest.mark.asyncio
async def test_pause_disables_the_station_and_resume_enables_it(driver_a: KebaUdpDriver, station_a: KebaUdpStation) -> None:
    station_a.model.plug_in(Vehicle(max_current_a=16, phases=3))
    await driver_a.apply_setpoint(0, VALID_FOR_S)
    await asyncio.sleep(TEST_DISABLE_PAUSE_S)
    paused = await driver_a.read()  # also the read-back of `ena 0`, after the quiet time
    assert (paused.enabled, paused.state, paused.current_a) == (False, ChargingState.WAITING, (0.0, 0.0, 0.0))
    await driver_a.apply_setpoint(12.0, VALID_FOR_S)
    resumed = await driver_a.read()
    assert (resumed.enabled, resumed.state, resumed.current_a) == (True, ChargingState.CHARGING, (12.0, 12.0, 12.0))
    commands = [command.text for command in station_a.received]
    assert "ena 0" in commands and "ena 1" in commands and "curr 12000" in commands


@pytest.mark.asyncio
async def test_a_station_still_enabled_after_ena_0_is_rejected_on_the_next_read(
    driver_a: KebaUdpDriver, station_a: KebaUdpStation
) -> None:
    station_a.ignore_commands = True
    await driver_a.apply_setpoint(0, VALID_FOR_S)
    await asyncio.sleep(TEST_DISABLE_PAUSE_S)
    with pytest.raises(ChargerRejected, match="still enabled"):
        await driver_a.read()


@pytest.mark.asyncio
async def test_during_the_quiet_time_reads_answer_paused_and_a_resume_waits(
    driver_a: KebaUdpDriver, station_a: KebaUdpStation
) -> None:
    # The loop runs every cycle; the station must not hear from us for 2 s after `ena 0`.
    station_a.model.plug_in(Vehicle(max_current_a=16, phases=3))
    await driver_a.apply_setpoint(0, VALID_FOR_S)
    heard = len(station_a.received)
    paused = await driver_a.read()
    assert await driver_a.apply_setpoint(10.0, VALID_FOR_S) is False  # held back: the regulator asks again
    assert len(station_a.received) == heard  # nothing sent
    # no current reported: what the vehicle still draws stays in the house load, the safe side
    assert (paused.enabled, paused.current_a, paused.setpoint_a) == (False, (0.0, 0.0, 0.0), 0.0)
    await asyncio.sleep(TEST_DISABLE_PAUSE_S)
    assert await driver_a.apply_setpoint(10.0, VALID_FOR_S) is True
    assert station_a.model.max_curr_ma == 10_000


@pytest.mark.asyncio
async def test_nothing_is_sent_for_the_quiet_time_after_ena_0(driver_a: KebaUdpDriver, station_a: KebaUdpStation) -> None:
    await driver_a.apply_setpoint(0, VALID_FOR_S)
    await driver_a.read()
    await asyncio.sleep(TEST_DISABLE_PAUSE_S)
    await driver_a.read()
    times = {command.text: command.at_s for command in station_a.received}
    next_command_s = min(command.at_s for command in station_a.received if command.at_s > times["ena 0"])
    assert next_command_s - times["ena 0"] >= TEST_DISABLE_PAUSE_S


@pytest.mark.asyncio
async def test_every_call_sends_the_regulator_decides_when(driver_a: KebaUdpDriver, station_a: KebaUdpStation) -> None:
    for _ in range(3):
        assert await driver_a.apply_setpoint(10.0, VALID_FOR_S) is True
    assert [command.text for command in station_a.received].count("curr 10000") == 3
    assert driver_a.min_resend_interval_s == 5.0  # the guide's t_COM_pause: renewals no more often than this


@pytest.mark.asyncio
async def test_enabling_sets_the_current_first(driver_a: KebaUdpDriver, station_a: KebaUdpStation) -> None:
    station_a.model.enable_user = 0
    await driver_a.apply_setpoint(7.0, VALID_FOR_S)
    commands = [command.text for command in station_a.received if not command.text.startswith("report")]
    assert commands == ["curr 7000", "ena 1"]  # never enabled at an old, higher current


@pytest.mark.asyncio
async def test_a_paused_station_is_renewed_with_curr_6000_and_stays_disabled(
    driver_a: KebaUdpDriver, station_a: KebaUdpStation
) -> None:
    # Repeating `ena 0` would silence the station for 2 s each time; `curr` feeds the
    # watchdog and leaves `ena 0` in force.
    station_a.model.plug_in(Vehicle())
    await driver_a.apply_setpoint(0, VALID_FOR_S)
    await asyncio.sleep(TEST_DISABLE_PAUSE_S)
    await driver_a.read()
    await driver_a.apply_setpoint(0, VALID_FOR_S)
    commands = [command.text for command in station_a.received]
    assert commands.count("ena 0") == 1
    assert commands[-2:] == ["curr 6000", "report 2"]
    assert station_a.model.enable_user == 0


@pytest.mark.asyncio
async def test_status_messages_from_the_station_are_kept_apart_from_readings(
    driver_a: KebaUdpDriver, transport: KebaUdpTransport, station_a: KebaUdpStation
) -> None:
    await driver_a.read()  # the station sends status messages to the sender of the last command
    station_a.model.plug_in(Vehicle())
    await asyncio.sleep(0.2)
    assert transport.status(STATION_A_IP)["Plug"] == 7
    assert (await driver_a.read()).plug is PlugState.PLUGGED


# -- failsafe ----------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_the_failsafe_is_armed_and_read_back(driver_a: KebaUdpDriver, station_a: KebaUdpStation) -> None:
    armed = await driver_a.arm_failsafe(FailsafeSettings(timeout_s=30, current_a=6.0))
    assert armed == FailsafeSettings(timeout_s=30, current_a=6.0)
    assert (station_a.model.tmo_fs_s, station_a.model.curr_fs_ma, station_a.model.failsafe_saved) == (30, 6000, True)


@pytest.mark.asyncio
async def test_a_failsafe_the_station_does_not_take_is_rejected(driver_a: KebaUdpDriver, station_a: KebaUdpStation) -> None:
    station_a.ignore_commands = True
    with pytest.raises(ChargerRejected, match="tmo_fs_s"):
        await driver_a.arm_failsafe(FailsafeSettings(timeout_s=30, current_a=6.0))


@pytest.mark.asyncio
async def test_failsafe_values_outside_the_guide_are_refused(driver_a: KebaUdpDriver) -> None:
    for settings in (FailsafeSettings(5, 6.0), FailsafeSettings(601, 6.0), FailsafeSettings(30, 4.0)):
        with pytest.raises(ValueError):
            await driver_a.arm_failsafe(settings)


@pytest.mark.asyncio
async def test_the_station_falls_back_to_the_failsafe_current_when_setpoints_stop(
    driver_a: KebaUdpDriver, transport: KebaUdpTransport, station_a: KebaUdpStation, station_clock: SteppedClock
) -> None:
    station_a.model.plug_in(Vehicle(max_current_a=32, phases=3))
    await driver_a.arm_failsafe(FailsafeSettings(timeout_s=10, current_a=6.0))
    for _ in range(3):  # renewals keep the watchdog quiet for longer than its timeout
        station_clock.advance(9.0)
        await driver_a.apply_setpoint(20.0, VALID_FOR_S)
    assert (await driver_a.read()).current_a == (20.0, 20.0, 20.0)
    station_clock.advance(9.9)
    assert (await driver_a.read()).current_a == (20.0, 20.0, 20.0)  # reports do not feed it; not yet run out
    assert not station_a.model.failsafe_active
    station_clock.advance(0.1)  # the gateway has been silent for the whole timeout
    # The station announces the new "Max curr" (guide 3.4); the driver's cached report 2 yields to it.
    for _ in range(40):
        if transport.status(STATION_A_IP).get("Max curr") == 6000:
            break
        await asyncio.sleep(0.05)
    reading = await driver_a.read()
    assert station_a.model.failsafe_active
    assert reading.current_a == (6.0, 6.0, 6.0)
    assert reading.setpoint_a == 6.0


# -- failures ----------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_a_silent_station_is_unreachable_within_the_timeout(driver_a: KebaUdpDriver, station_a: KebaUdpStation) -> None:
    station_a.drop_out = True
    started_s = time.monotonic()
    with pytest.raises(ChargerUnreachable):
        await driver_a.read()
    assert time.monotonic() - started_s < driver_a.timeout_s + 0.5


@pytest.mark.asyncio
async def test_a_station_back_from_silence_reads_again(driver_a: KebaUdpDriver, station_a: KebaUdpStation) -> None:
    station_a.drop_out = True
    with pytest.raises(ChargerUnreachable):
        await driver_a.read()
    station_a.drop_out = False
    assert (await driver_a.read()).plug is PlugState.UNPLUGGED


@pytest.mark.asyncio
async def test_a_malformed_answer_is_a_protocol_error_and_the_next_read_works(
    driver_a: KebaUdpDriver, station_a: KebaUdpStation
) -> None:
    station_a.send_malformed(b'{"ID": "2", "State": ')
    with pytest.raises(ChargerProtocolError):
        await driver_a.read()
    assert (await driver_a.read()).state is ChargingState.IDLE


@pytest.mark.asyncio
async def test_a_report_with_a_nonsense_field_is_a_protocol_error(driver_a: KebaUdpDriver, station_a: KebaUdpStation) -> None:
    station_a.send_malformed(b'{"ID": "2", "State": "charging", "Plug": 7}')
    with pytest.raises(ChargerProtocolError):
        await driver_a.read()


# -- one socket, many stations -----------------------------------------------------------------


@pytest.mark.asyncio
async def test_two_stations_on_one_transport_get_their_own_answers(
    driver_a: KebaUdpDriver, driver_b: KebaUdpDriver, station_a: KebaUdpStation, station_b: KebaUdpStation
) -> None:
    station_a.model.plug_in(Vehicle(max_current_a=32, phases=1))
    station_b.model.plug_in(Vehicle(max_current_a=32, phases=3))
    await asyncio.gather(driver_a.apply_setpoint(7.0, VALID_FOR_S), driver_b.apply_setpoint(13.0, VALID_FOR_S))
    reading_a, reading_b = await asyncio.gather(driver_a.read(), driver_b.read())
    assert reading_a.current_a == (7.0, 0.0, 0.0)
    assert reading_b.current_a == (13.0, 13.0, 13.0)
    assert {command.sender for command in station_a.received + station_b.received} == {"127.0.0.1"}


@pytest.mark.asyncio
async def test_a_malformed_datagram_from_one_station_leaves_the_other_undisturbed(
    transport: KebaUdpTransport, driver_a: KebaUdpDriver, driver_b: KebaUdpDriver, station_a: KebaUdpStation
) -> None:
    station_a.send_malformed(b"\xff\xfe garbage", count=2)
    results = await asyncio.gather(driver_a.read(), driver_b.read(), return_exceptions=True)
    assert isinstance(results[0], ChargerProtocolError)
    assert results[1].plug is PlugState.UNPLUGGED  # type: ignore[union-attr]
    assert transport.malformed_datagrams(STATION_A_IP) >= 1
    assert (await driver_b.read()).state is ChargingState.IDLE


@pytest.mark.asyncio
async def test_commands_to_one_station_are_at_least_100_ms_apart(
    transport: KebaUdpTransport, station_a: KebaUdpStation
) -> None:
    drivers = [KebaUdpDriver(transport, STATION_A_IP, timeout_s=2.0) for _ in range(2)]
    for driver in drivers:
        await driver.start()
    station_a.model.plug_in(Vehicle())
    # Two callers at once for the same station: the transport still spaces their commands.
    await asyncio.gather(drivers[0].read(), drivers[1].apply_setpoint(9.0, VALID_FOR_S), drivers[0].read())
    gaps_s = station_a.command_gaps_s()
    assert len(gaps_s) >= 4  # reports and commands of both callers interleaved
    assert min(gaps_s) >= 0.1


@pytest.mark.asyncio
async def test_stations_do_not_wait_for_each_other(
    driver_a: KebaUdpDriver, driver_b: KebaUdpDriver, station_a: KebaUdpStation, station_b: KebaUdpStation
) -> None:
    await asyncio.gather(driver_a.read(), driver_b.read())
    first_a, first_b = station_a.received[0].at_s, station_b.received[0].at_s
    assert abs(first_a - first_b) < 0.1  # the 100 ms rule is per station
