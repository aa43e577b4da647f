"""The agent driving a KEBA P30 x-series / P40 over Modbus TCP, with the meter over Modbus TCP too."""

import pytest

from balancing import ControllerSettings
from gateways.agent import Agent
from gateways.chargers.registry import DriverContext
from gateways.protocol import parse_site_config
from gateways.simulators.keba_modbus_station import KebaModbusStation
from gateways.simulators.keba_station import Vehicle
from meters.sim import MeterSimulator
from tests.processes import free_port

IMMEDIATE = ControllerSettings(increase_interval_s=0, increase_step_a=None, min_pause_s=0, resume_delay_s=0)


@pytest.mark.asyncio
async def test_a_modbus_station_gets_its_share_and_gives_way_to_house_load(tmp_path):
    station = KebaModbusStation("127.0.0.1", free_port())
    station.model.plug_in(Vehicle(max_current_a=16, phases=3))
    await station.start()
    meter = MeterSimulator("siemens-7km2200", port=0)
    house_a = [6.0, 4.0, 5.0]

    def show(voltage_v: float) -> None:
        grid = [h + i / 1000 for h, i in zip(house_a, station.model.phase_currents_ma)]
        meter.set_values(current_a=grid, voltage_v=[voltage_v] * 3, power_w=[g * voltage_v for g in grid],
                         power_total_w=sum(grid) * voltage_v, frequency_hz=50.0)

    show(230.0)
    await meter.start()
    config = parse_site_config({
        "gateway": {"id": "modbus-site", "state_dir": str(tmp_path), "failsafe_timeout_s": 10},
        "networks": [{
            "id": "main", "max_current_per_phase_a": 20, "fallback_power_w": 4140,
            "meter": {"model": "siemens-7km2200", "host": "127.0.0.1", "port": meter.port},
            "chargers": [{"id": "p40", "driver": "keba-modbus", "host": "127.0.0.1", "port": station.port,
                          "max_current_a": 16}],
        }],
    })
    agent = Agent(config, context=DriverContext(config.gateway), controller_settings=IMMEDIATE)
    await agent.start()
    try:
        for step in range(3):
            show(230.0 + step * 0.3)
            await agent.cycle()
        assert station.model.max_curr_ma == 14_000  # 20 A fuse - 6 A house on L1
        house_a[0] = 12.0
        show(231.1)
        await agent.cycle()
        assert station.model.max_curr_ma == 8_000
        slot = agent.regulators["main"].slots["p40"]
        assert slot.available and agent.regulators["main"].last.allocation.reasons["p40"] == "limited_by_phase_L1"
    finally:
        await agent.close()
        await station.close()
        await meter.stop()
