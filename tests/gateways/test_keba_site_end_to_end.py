"""The agent regulating KEBA stations over their real UDP protocol, with a meter over Modbus TCP.

Two simulated KEBA P30 stations listen on their own loopback addresses
(127.0.0.2 and .3) and the agent talks to them from 127.0.0.1, all on one
free port standing in for 7090. A meter simulator sees the house load plus
what the stations draw. At every cycle the per-phase limit holds.
"""

import asyncio
import socket

import pytest
import pytest_asyncio

from balancing.phases import grid_phase
from gateways.protocol import parse_site_config
from gateways.simulators.keba_station import KebaStationModel, Vehicle
from gateways.simulators.keba_udp_station import KebaUdpStation
from tests.gateways.site_harness import MeteredSite, agent_beside, cycle_until

LIMIT_A = 25
STATIONS = {"cp1": ("127.0.0.2", "L1L2L3"), "cp2": ("127.0.0.3", "L2L3L1")}


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class KebaSite(MeteredSite):
    """House load, two KEBA stations and the meter that sees them all."""

    def __init__(self, udp_port: int):
        super().__init__(
            {cid: KebaUdpStation(host, udp_port, model=KebaStationModel()) for cid, (host, _) in STATIONS.items()},
            {cid: rotation for cid, (_, rotation) in STATIONS.items()},
        )

    def station_current_a(self, charger_id: str) -> list[float]:
        return [milliamps / 1000 for milliamps in self.stations[charger_id].model.phase_currents_ma]

    def tick(self) -> None:
        for station in self.stations.values():
            station.model.tick()

    async def start(self) -> None:
        for station in self.stations.values():
            await station.start()
        self.update_meter()
        await self.meter.start()
        self.follow()

    def allowed_load_a(self) -> list[float]:
        """Per grid phase: what the stations may draw under the limits they hold now."""
        load = [0.0, 0.0, 0.0]
        for cid, (_, rotation) in STATIONS.items():
            model = self.stations[cid].model
            if model.vehicle is None:
                continue
            for phase in range(model.vehicle.phases):
                load[grid_phase(rotation, phase)] += model.max_curr_ma / 1000
        return load

    def assert_within_limits(self) -> None:
        for phase, load in enumerate(self.allowed_load_a()):
            assert self.house_load_a[phase] + load <= LIMIT_A + 1e-6, f"L{phase + 1} over the limit"


@pytest_asyncio.fixture
async def keba_site(tmp_path):
    udp_port = free_udp_port()
    world = KebaSite(udp_port)
    await world.start()
    config = parse_site_config({
        "gateway": {"id": "keba-site", "poll_interval_s": 1.0, "state_dir": str(tmp_path / "state"),
                    "keba_udp_bind": "127.0.0.1", "keba_udp_port": udp_port, "failsafe_timeout_s": 10},
        "networks": [{
            "id": "main", "max_current_per_phase_a": LIMIT_A, "fallback_power_w": 4140,
            "meter": {"model": "carlo-gavazzi-em24", "host": "127.0.0.1", "port": world.meter.port},
            "chargers": [
                {"id": cid, "driver": "keba-udp", "host": host, "phase_rotation": rotation, "max_current_a": 16}
                for cid, (host, rotation) in STATIONS.items()
            ],
        }],
    })
    for station in world.stations.values():
        station.model.plug_in(Vehicle(max_current_a=16, phases=3))
    world.update_meter()
    async with agent_beside(world, config) as agent:
        yield world, agent


@pytest.mark.slow
@pytest.mark.asyncio
async def test_keba_stations_are_regulated_over_udp_through_load_steps_and_drop_outs(keba_site):
    world, agent = keba_site
    regulator = agent.regulators["main"]

    for _ in range(3):
        await agent.cycle()
        world.assert_within_limits()
    assert all(world.stations[cid].model.max_curr_ma >= 6000 for cid in STATIONS)

    # A load step on L1, as soon as the meter shows it: answered in the next cycle
    world.house_load_a = [17.0, 2.0, 3.0]
    world.update_meter()
    await agent.cycle()
    world.assert_within_limits()

    # Malformed datagrams from one station: it counts as lost for a cycle, the other is unaffected
    world.stations["cp1"].send_malformed(count=2)
    await cycle_until(agent, world, lambda: not regulator.slots["cp1"].available)
    assert regulator.slots["cp2"].available
    await cycle_until(agent, world, lambda: regulator.slots["cp1"].available)

    # The meter drops out: fallback power within one cycle
    await world.meter.drop_out(True, mode="close")
    await agent.cycle()
    assert regulator.last.allocation.mode == "fallback"
    power_w = sum(world.stations[cid].model.max_curr_ma / 1000 * 3 * 230 for cid in STATIONS)
    assert power_w <= 4140 + 1e-6
    await world.meter.drop_out(False)
    for _ in range(3):
        await agent.cycle()
    assert regulator.last.allocation.mode == "normal"

    # A station goes silent: reported once, the other keeps room for it
    await asyncio.sleep(2.0)  # past any 2 s pause after `ena 0`, during which the agent does not talk to a station
    world.stations["cp2"].drop_out = True
    await cycle_until(agent, world, lambda: not regulator.slots["cp2"].available)
    world.stations["cp2"].drop_out = False
    await cycle_until(agent, world, lambda: regulator.slots["cp2"].available)

    events = [i["type"] for i in agent.buffer.pending(10_000).items if i["kind"] == "event"]
    assert events.count("meter_lost") == 1 and events.count("meter_restored") == 1
    assert "charger_lost" in events and "charger_restored" in events
    assert events.count("failsafe_armed") >= 2
    # Every station saw at least 100 ms between the commands sent to it
    for station in world.stations.values():
        assert min(station.command_gaps_s()) >= 0.1 - 0.005
