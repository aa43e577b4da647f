"""SunSpec discovery over real TCP: walk the model chain from the marker, never assume addresses."""

from __future__ import annotations

import pytest

from meters import MeterClient, get_model
from meters.errors import MeterDataError
from meters.registers import MeterModel
from meters.sim import MeterSimulator, SunSpecShape

from .conftest import f32, holding, serve_image


def chain(base: int, common_length: int, meter: dict[int, int] | None) -> dict[int, int]:
    """'SunS', a common model (1) of `common_length`, then the meter words (absolute), then the end."""
    words = {base: 0x5375, base + 1: 0x6E53, base + 2: 1, base + 3: common_length}
    for offset in range(common_length):
        words[base + 4 + offset] = 0
    end = base + 4 + common_length
    if meter:
        words.update(meter)
        end = max(meter) + 1
    words[end], words[end + 1] = 0xFFFF, 0
    return words


def float_213(start: int, *, current_l1_a: float = 10.0) -> dict[int, int]:
    """A model 213 block at `start` with every point NaN except a few (offsets from model_213.json)."""
    words = {start: 213, start + 1: 124}
    for offset in range(2, 126, 2):
        words[start + offset], words[start + offset + 1] = 0x7FC0, 0x0000
    for offset, value in {4: current_l1_a, 6: 2.0, 8: 3.0, 12: 230.0, 14: 231.0, 16: 232.0,
                          26: 50.0, 28: 1234.0, 60: 100.0, 68: 5000.0}.items():
        words[start + offset], words[start + offset + 1] = f32(value)
    return words


@pytest.mark.asyncio
async def test_fronius_chain_with_common_length_65_puts_the_meter_at_40069(raw_server) -> None:
    server = serve_image(holding(chain(40000, 65, float_213(40069))), frozenset({200}))
    raw_server.append(server)
    await server.start()
    async with MeterClient("fronius-ts65a-gen24", "127.0.0.1", server.port, timeout_s=2) as client:
        reading = await client.read()
        assert client.blocks[0].address >= 40069
    assert reading.current_a == (10.0, 2.0, 3.0)
    assert reading.power_total_w == 1234.0
    assert reading.power_w == (None, None, None)  # NaN on optional points: unknown


@pytest.mark.asyncio
async def test_ksem_firmware_2_6_shift_by_one_register_is_followed(raw_server) -> None:
    server = serve_image(holding(chain(40000, 66, float_213(40070, current_l1_a=7.5))), frozenset({71}))
    raw_server.append(server)
    await server.start()
    async with MeterClient("kostal-ksem", "127.0.0.1", server.port, timeout_s=2) as client:
        reading = await client.read()
    assert reading.current_a[0] == 7.5


@pytest.mark.asyncio
async def test_base_address_0_is_tried_when_40000_is_not_defined(raw_server) -> None:
    server = serve_image(holding(chain(0, 65, float_213(69))))
    raw_server.append(server)
    await server.start()
    async with MeterClient("fronius-ts65a-gen24", "127.0.0.1", server.port, unit_id=1, timeout_s=2) as client:
        assert (await client.read()).current_a[0] == 10.0


@pytest.mark.asyncio
async def test_no_sunspec_marker_is_a_data_error(raw_server) -> None:
    server = serve_image(holding({40000: 0x1234, 40001: 0x5678, 0: 0, 1: 0, 50000: 0, 50001: 0}))
    raw_server.append(server)
    await server.start()
    async with MeterClient("fronius-ts65a-gen24", "127.0.0.1", server.port, unit_id=1, timeout_s=2) as client:
        with pytest.raises(MeterDataError, match="SunS"):
            await client.read()


@pytest.mark.asyncio
async def test_chain_without_a_meter_model_is_a_data_error(raw_server) -> None:
    server = serve_image(holding(chain(40000, 65, None)))
    raw_server.append(server)
    await server.start()
    async with MeterClient("fronius-ts65a-gen24", "127.0.0.1", server.port, unit_id=1, timeout_s=2) as client:
        with pytest.raises(MeterDataError, match="no SunSpec meter model"):
            await client.read()


@pytest.mark.asyncio
@pytest.mark.parametrize("model_id", [201, 202, 203, 204, 211, 212, 213, 214])
@pytest.mark.parametrize("common_length", [65, 66])
async def test_every_meter_model_is_discovered_and_decoded(model_id: int, common_length: int) -> None:
    shape = SunSpecShape(meter_model_id=model_id, common_length=common_length)
    async with MeterSimulator("kostal-ksem", sunspec_shape=shape) as sim:
        sim.set_values(current_a=[16.0, 15.5, 14.25], power_total_w=-7000.0)
        async with MeterClient("kostal-ksem", "127.0.0.1", sim.port, timeout_s=2) as client:
            reading = await client.read()
    assert reading.current_a == pytest.approx((16.0, 15.5, 14.25))
    assert reading.power_total_w == pytest.approx(-7000.0)


@pytest.mark.asyncio
async def test_a_moved_chain_is_rediscovered_after_a_data_error() -> None:
    """A firmware update that shifts the models must cost one failed read, not the meter."""
    model: MeterModel = get_model("kostal-ksem")
    old = MeterSimulator(model, sunspec_shape=SunSpecShape(meter_model_id=203, common_length=65))
    async with old:
        async with MeterClient(model, "127.0.0.1", old.port, timeout_s=2) as client:
            assert (await client.read()).current_a[0] == pytest.approx(12.5)
            old.set_sunspec_shape(SunSpecShape(meter_model_id=213, common_length=66))
            with pytest.raises(MeterDataError):
                await client.read()
            assert (await client.read()).current_a[0] == pytest.approx(12.5)
