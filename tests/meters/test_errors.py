"""Failure paths over real TCP: each failure is a distinct error, and each ends within the timeout."""

from __future__ import annotations

import asyncio
import socket
import time

import pytest

from meters import MeterClient, MeterDataError, MeterModbusException, MeterTransportError
from meters.registers import RegisterKind
from meters.sim import Fault, MeterSimulator

TIMEOUT_S = 0.5
MARGIN_S = 1.0  # generous: the limit is "fails within the timeout", not a benchmark

MODEL = "carlo-gavazzi-em24"  # a native map: every failure lands in the first request


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def timed_failure(client: MeterClient, error: type[Exception]) -> Exception:
    started = time.monotonic()
    with pytest.raises(error) as caught:
        await client.read()
    assert time.monotonic() - started < TIMEOUT_S + MARGIN_S
    return caught.value


@pytest.mark.asyncio
async def test_silent_meter_is_a_transport_error_within_the_timeout() -> None:
    async with MeterSimulator(MODEL) as sim:
        await sim.drop_out(True, mode="silent")
        async with MeterClient(MODEL, "127.0.0.1", sim.port, timeout_s=TIMEOUT_S) as client:
            error = await timed_failure(client, MeterTransportError)
    assert "no answer within 0.5 s" in str(error)


@pytest.mark.asyncio
async def test_refused_connection_is_a_transport_error() -> None:
    async with MeterClient(MODEL, "127.0.0.1", free_port(), timeout_s=TIMEOUT_S) as client:
        error = await timed_failure(client, MeterTransportError)
    assert "refused" in str(error) or "connect" in str(error)


@pytest.mark.asyncio
@pytest.mark.parametrize("code", [1, 2, 3, 4, 11])
async def test_modbus_exception_answers_carry_their_code(code: int) -> None:
    async with MeterSimulator(MODEL) as sim:
        sim.fault(Fault.EXCEPTION, exception_code=code)
        async with MeterClient(MODEL, "127.0.0.1", sim.port, timeout_s=TIMEOUT_S) as client:
            error = await timed_failure(client, MeterModbusException)
            assert isinstance(error, MeterModbusException)
            assert error.code == code
            assert f"exception {code} (" in str(error)
            # An exception answer is not a broken connection: the next read just works.
            sim.fault(Fault.NONE)
            assert (await client.read()).current_a[0] == pytest.approx(12.5)


@pytest.mark.asyncio
async def test_garbage_frames_are_a_transport_error() -> None:
    async with MeterSimulator(MODEL) as sim:
        sim.fault(Fault.GARBAGE)
        async with MeterClient(MODEL, "127.0.0.1", sim.port, timeout_s=TIMEOUT_S) as client:
            error = await timed_failure(client, MeterTransportError)
            assert "not a Modbus TCP frame" in str(error)
            sim.fault(Fault.NONE)
            assert (await client.read()).current_a[0] == pytest.approx(12.5)


@pytest.mark.asyncio
@pytest.mark.parametrize("fault", [Fault.HALF_FRAME, Fault.CLOSE])
async def test_disconnect_in_the_middle_of_a_read_is_a_transport_error(fault: Fault) -> None:
    async with MeterSimulator(MODEL) as sim:
        sim.fault(fault)
        async with MeterClient(MODEL, "127.0.0.1", sim.port, timeout_s=TIMEOUT_S) as client:
            error = await timed_failure(client, MeterTransportError)
            assert "closed by the meter" in str(error)


@pytest.mark.asyncio
async def test_disconnect_between_requests_of_one_read_is_a_transport_error() -> None:
    """A SunSpec read is several requests; losing the link halfway must not yield a reading."""
    async with MeterSimulator("fronius-ts65a-gen24") as sim:
        async with MeterClient("fronius-ts65a-gen24", "127.0.0.1", sim.port, timeout_s=TIMEOUT_S) as client:
            await client.read()  # discovery done, layout known
            sim.fault(Fault.HALF_FRAME)
            await timed_failure(client, MeterTransportError)


@pytest.mark.asyncio
async def test_client_reconnects_after_the_meter_comes_back() -> None:
    async with MeterSimulator(MODEL) as sim:
        async with MeterClient(MODEL, "127.0.0.1", sim.port, timeout_s=TIMEOUT_S) as client:
            assert (await client.read()).current_a[0] == pytest.approx(12.5)
            sim.disconnect_clients()  # e.g. the meter rebooted between two polls
            await asyncio.sleep(0.05)
            assert (await client.read()).current_a[0] == pytest.approx(12.5)
            sim.fault(Fault.CLOSE)  # now it hangs up during a read
            with pytest.raises(MeterTransportError):
                await client.read()
            sim.fault(Fault.NONE)
            # The first retry after a failure is immediate: one lost read, not a back-off.
            assert (await client.read()).current_a[0] == pytest.approx(12.5)


@pytest.mark.asyncio
async def test_repeated_failures_back_off_and_fail_fast_meanwhile() -> None:
    port = free_port()
    async with MeterClient(MODEL, "127.0.0.1", port, timeout_s=TIMEOUT_S, backoff_s=5.0) as client:
        with pytest.raises(MeterTransportError):
            await client.read()  # refused; next attempt allowed at once
        with pytest.raises(MeterTransportError):
            await client.read()  # refused again; now back off 5 s
        started = time.monotonic()
        with pytest.raises(MeterTransportError, match="back-off"):
            await client.read()
        assert time.monotonic() - started < 0.1


@pytest.mark.asyncio
async def test_refusing_meter_recovers_when_listening_again() -> None:
    async with MeterSimulator(MODEL) as sim:
        async with MeterClient(MODEL, "127.0.0.1", sim.port, timeout_s=TIMEOUT_S, backoff_s=0.05) as client:
            await sim.drop_out(True, mode="refuse")
            with pytest.raises(MeterTransportError):
                await client.read()
            await sim.drop_out(False)
            await asyncio.sleep(0.1)
            assert (await client.read()).current_a[0] == pytest.approx(12.5)


@pytest.mark.asyncio
async def test_wrong_unit_id_is_a_timeout_not_a_reading() -> None:
    async with MeterSimulator(MODEL, unit_id=5) as sim:
        async with MeterClient(MODEL, "127.0.0.1", sim.port, unit_id=6, timeout_s=TIMEOUT_S) as client:
            await timed_failure(client, MeterTransportError)


@pytest.mark.asyncio
async def test_implausible_values_over_tcp_are_a_data_error_and_keep_the_connection() -> None:
    async with MeterSimulator(MODEL) as sim:
        async with MeterClient(MODEL, "127.0.0.1", sim.port, timeout_s=TIMEOUT_S) as client:
            sim.set_register(RegisterKind.HOLDING, 0x0033, 0x0000)  # 0 Hz
            with pytest.raises(MeterDataError, match="frequency"):
                await client.read()
            sim.set_values(frequency_hz=50.0)
            assert (await client.read()).frequency_hz == pytest.approx(50.0)


@pytest.mark.asyncio
async def test_sunspec_not_implemented_marker_over_tcp_is_a_data_error() -> None:
    async with MeterSimulator("fronius-ts65a-gen24") as sim:
        sim.set_values(current_a=[None, 1.0, 1.0])  # NaN in AphA, a mandatory point
        async with MeterClient("fronius-ts65a-gen24", "127.0.0.1", sim.port, timeout_s=TIMEOUT_S) as client:
            with pytest.raises(MeterDataError, match="AphA"):
                await client.read()


@pytest.mark.asyncio
async def test_sunspec_gateway_exception_11_keeps_its_code() -> None:
    """A GEN24 whose meter is missing answers exception 11 to every probe: report that, not a layout error."""
    async with MeterSimulator("fronius-ts65a-gen24") as sim:
        sim.fault(Fault.EXCEPTION, exception_code=11)
        async with MeterClient("fronius-ts65a-gen24", "127.0.0.1", sim.port, timeout_s=TIMEOUT_S) as client:
            error = await timed_failure(client, MeterModbusException)
    assert isinstance(error, MeterModbusException) and error.code == 11


@pytest.mark.asyncio
async def test_answer_split_across_tcp_segments_is_still_a_reading() -> None:
    """Not an error path: a frame arriving in pieces must not be taken for garbage."""
    async with MeterSimulator("fronius-ts65a-gen24") as sim:
        sim.fault(Fault.SPLIT)
        async with MeterClient("fronius-ts65a-gen24", "127.0.0.1", sim.port, timeout_s=TIMEOUT_S) as client:
            assert (await client.read()).current_a == pytest.approx((12.5, 8.25, 3.0))
