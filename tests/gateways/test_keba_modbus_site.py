"""The agent driving a KEBA P30 x-series / P40 over Modbus TCP, with the meter over Modbus TCP too."""

import pytest

from gateways.agent import Agent
from gateways.chargers.keba_modbus import KebaModbusDriver
from gateways.chargers.registry import DriverContext
from gateways.protocol import parse_site_config
from gateways.simulators.keba_modbus_station import KebaModbusStation
from gateways.simulators.keba_station import KebaStationModel, Vehicle
from gateways.status import prometheus_text
from meters.sim import MeterSimulator
from tests.gateways.site_harness import IMMEDIATE
from tests.processes import free_port



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


class SteppedClock:
    """The stations' watchdog clock: it moves only when the test says so."""

    def __init__(self) -> None:
        self.now_s = 1000.0

    def __call__(self) -> float:
        return self.now_s


P40_STATIONS = {"p40-a": 3, "p40-b": 3, "p40-c": 1}  # charger id -> wired phases
FALLBACK_POWER_W = 5520  # 24 A x 230 V: e.g. one three-phase and one single-phase station at 6 A


@pytest.mark.asyncio
async def test_each_modbus_station_confirms_its_failsafe_and_together_they_stay_within_the_fallback_power(tmp_path):
    clock = SteppedClock()
    stations = {cid: KebaModbusStation("127.0.0.1", 0, model=KebaStationModel(clock=clock)) for cid in P40_STATIONS}
    for cid, station in stations.items():
        station.model.plug_in(Vehicle(max_current_a=16, phases=P40_STATIONS[cid]))
        await station.start()
    meter = MeterSimulator("siemens-7km2200", port=0)
    meter.set_values(current_a=[5.0, 5.0, 5.0], voltage_v=[230.0] * 3, power_w=[1150.0] * 3, power_total_w=3450.0,
                     frequency_hz=50.0)
    await meter.start()
    config = parse_site_config({
        "gateway": {"id": "p40-site", "state_dir": str(tmp_path), "failsafe_timeout_s": 10},
        "networks": [{
            "id": "main", "max_current_per_phase_a": 63, "fallback_power_w": FALLBACK_POWER_W,
            "meter": {"model": "siemens-7km2200", "host": "127.0.0.1", "port": meter.port},
            "chargers": [{"id": cid, "driver": "keba-modbus", "host": "127.0.0.1", "port": stations[cid].port,
                          "phases": phases, "max_current_a": 16} for cid, phases in P40_STATIONS.items()],
        }],
    })
    network = config.networks[0]
    agent = Agent(config, context=DriverContext(config.gateway), controller_settings=IMMEDIATE)
    await agent.start()
    try:
        for step in range(2):
            meter.set_values(voltage_v=[230.0 + step * 0.3] * 3)
            await agent.cycle()
        regulator = agent.regulators["main"]
        status = agent.status()["networks"]["main"]["chargers"]
        for cid, station in stations.items():
            wanted = regulator.slots[cid].failsafe_wanted
            assert regulator.slots[cid].failsafe_confirmed == wanted
            # written to 5016/5018, read back from 1600/1602
            assert (station.model.curr_fs_ma, station.model.tmo_fs_s) == (round(wanted.current_a * 1000), 10)
            assert status[cid]["failsafe"] == {"confirmed": True, "current_a": wanted.current_a, "timeout_s": 10}
        metrics = prometheus_text(agent.status())
        assert 'fuseguard_charger_failsafe_confirmed{network="main",charger="p40-a"} 1' in metrics
        failsafe_power_w = sum(
            station.model.curr_fs_ma / 1000 * P40_STATIONS[cid] * network.nominal_voltage_v for cid, station in stations.items()
        )
        assert 0 < failsafe_power_w <= FALLBACK_POWER_W
        assert all(station.model.max_curr_ma == 16_000 for station in stations.values())  # regulating well above it
    finally:
        await agent.close()  # the gateway is gone: no more setpoints

    try:
        clock.now_s += 9.9
        assert not any(station.model.failsafe_active for station in stations.values())
        clock.now_s += 0.1  # the 10 s failsafe timeout has run out
        drawn_w = 0.0
        for cid, station in stations.items():
            driver = KebaModbusDriver("127.0.0.1", station.port, timeout_s=1.0)
            try:
                reading = await driver.read()
            finally:
                await driver.close()
            assert station.model.failsafe_active
            assert max(reading.current_a) == station.model.curr_fs_ma / 1000
            drawn_w += sum(reading.current_a) * network.nominal_voltage_v
        assert drawn_w <= FALLBACK_POWER_W
    finally:
        for station in stations.values():
            await station.close()
        await meter.stop()
