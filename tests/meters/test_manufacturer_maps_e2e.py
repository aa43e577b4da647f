"""End to end over Modbus TCP: ABB M4M, Gossen ENERGYMID and TQ EM300 read with the function code
each manufacturer names (ABB and TQ 3, Gossen 4), from the simulator and from devices serving
only the hand-typed images of the documents' tables."""

from __future__ import annotations

import pytest
from pymodbus.client import AsyncModbusTcpClient

from gateways.meter_watch import signed_currents
from meters import MeterClient, MeterTransportError
from meters.registers import RegisterKind
from meters.sim import MeterSimulator

from .conftest import holding, inputs, serve_image
from .manufacturer_images import energymid_device_image, m4m_device_image, tq_image

FUNCTION_CODES = [
    ("abb-m4m", 3),  # ABB Modbus manual 2CSG445050D0201, section 2 p. 8
    ("gossen-metrawatt-em228x", 4),  # Gossen 3-349-937-01, section 3.4 p. 23
    ("gossen-metrawatt-em238x", 4),
    ("tq-em300-lr", 3),  # TQ Energy Manager - Modbus Slave rev. 0013, table 3
    ("tq-em300-lrw", 3),
]


@pytest.mark.asyncio
@pytest.mark.parametrize(("key", "function_code"), FUNCTION_CODES)
async def test_the_client_reads_the_manufacturer_s_table_from_the_simulator(key: str, function_code: int) -> None:
    async with MeterSimulator(key) as sim:
        async with MeterClient(key, "127.0.0.1", sim.port, timeout_s=2) as client:
            reading = await client.read()
        assert sim.reads_by_function == {function_code: len(client.blocks)}
    assert reading.current_a == pytest.approx((12.5, 8.25, 3.0))
    assert reading.power_w == pytest.approx((2800.0, 1850.0, 650.0))  # per-phase power in every one
    assert reading.energy_import_wh == pytest.approx(12_345_600.0)
    assert reading.energy_export_wh == pytest.approx(2_345_000.0)
    assert reading.frequency_hz == pytest.approx(50.02)


@pytest.mark.asyncio
@pytest.mark.parametrize(("key", "function_code"), FUNCTION_CODES)
async def test_the_simulator_refuses_the_other_table(key: str, function_code: int) -> None:
    async with MeterSimulator(key) as sim:
        address = sim.model.registers[0].address
        modbus = AsyncModbusTcpClient("127.0.0.1", port=sim.port, timeout=2, retries=0)
        await modbus.connect()
        try:
            other = modbus.read_input_registers if function_code == 3 else modbus.read_holding_registers
            wrong = await other(address, count=1, device_id=sim.unit_id)
            right = modbus.read_holding_registers if function_code == 3 else modbus.read_input_registers
            good = await right(address, count=1, device_id=sim.unit_id)
        finally:
            modbus.close()
    assert wrong.isError() and wrong.exception_code == 2  # illegal data address
    assert not good.isError()


@pytest.mark.asyncio
async def test_m4m_device_image_reads_per_phase_power_and_the_gateway_signs_currents(raw_server) -> None:
    server = serve_image(holding(m4m_device_image()))
    raw_server.append(server)
    await server.start()
    async with MeterClient("abb-m4m", "127.0.0.1", server.port, timeout_s=2) as client:
        reading = await client.read()
    assert reading.power_w == pytest.approx((2839.30, -1150.0, 16.10))
    assert reading.energy_import_wh == pytest.approx(12_345_670.0)
    # Phase L2 exports, so the regulation loop sees its current as negative.
    assert signed_currents(reading) == pytest.approx((12.34, -5.0, 0.07))
    assert server.reads_by_function.keys() == {3}


@pytest.mark.asyncio
@pytest.mark.parametrize("key", ["gossen-metrawatt-em228x", "gossen-metrawatt-em238x"])
async def test_energymid_device_image_over_input_registers(raw_server, key: str) -> None:
    server = serve_image(inputs(energymid_device_image()))
    raw_server.append(server)
    await server.start()
    async with MeterClient(key, "127.0.0.1", server.port, timeout_s=2) as client:
        reading = await client.read()
    assert reading.energy_import_wh == pytest.approx(12_345_600.0)
    assert reading.energy_export_wh == pytest.approx(789_000.0)
    assert reading.power_w == pytest.approx((-12340.0, 0.0, 160.0))
    assert signed_currents(reading) == pytest.approx((-12.34, 0.0, 0.5))
    assert server.reads_by_function == {4: 4}  # voltages, currents, powers, energies


@pytest.mark.asyncio
async def test_tq_device_image_reads_frequency_at_26(raw_server) -> None:
    server = serve_image(holding(tq_image()))
    raw_server.append(server)
    await server.start()
    async with MeterClient("tq-em300-lr", "127.0.0.1", server.port, timeout_s=2) as client:
        reading = await client.read()
    assert reading.frequency_hz == pytest.approx(50.018)
    assert reading.power_w == pytest.approx((1234.5, -2000.0, 400.0))
    assert server.reads_by_function.keys() == {3}


@pytest.mark.asyncio
async def test_energymid_answers_any_unit_id_like_the_meter() -> None:
    async with MeterSimulator("gossen-metrawatt-em228x") as sim:
        async with MeterClient("gossen-metrawatt-em228x", "127.0.0.1", sim.port, unit_id=42, timeout_s=2) as client:
            assert (await client.read()).current_a == pytest.approx((12.5, 8.25, 3.0))


@pytest.mark.asyncio
async def test_a_meter_not_documented_to_ignore_the_unit_id_is_simulated_answering_only_its_own() -> None:
    async with MeterSimulator("abb-m4m") as sim:
        async with MeterClient("abb-m4m", "127.0.0.1", sim.port, unit_id=42, timeout_s=0.5) as client:
            with pytest.raises(MeterTransportError, match="no answer"):
                await client.read()
