"""The agent regulating a simulated site over real Modbus TCP: at every cycle the limits hold.

The meter is a meter simulator on a loopback port that sees the house load
plus what the simulated chargers draw; the agent reads it exactly as it reads
a real meter. Pacing and hysteresis are switched off here (they have their own
tests in tests/balancing) so each cycle shows the safe allocation directly.
"""

import time
from dataclasses import replace

import pytest
import pytest_asyncio

from balancing.phases import grid_phase
from gateways.agent import Agent
from gateways.simulation import SimulatedNetwork
from meters.sim import Fault
from tests.gateways.site_harness import IMMEDIATE, simulated_site

LIMIT_A = 25


def site_config(tmp_path, *, fallback_power_w=4140, chargers=None) -> dict:
    return {
        "gateway": {"id": "test-site", "poll_interval_s": 1.0, "state_dir": str(tmp_path / "state"), "failsafe_timeout_s": 10},
        "networks": [
            {
                "id": "main",
                "max_current_per_phase_a": LIMIT_A,
                "max_power_w": 22000,
                "fallback_power_w": fallback_power_w,
                "meter": {"model": "carlo-gavazzi-em24", "host": "127.0.0.1", "port": 1502, "unit_id": 1},
                "chargers": chargers
                or [
                    {"id": "cp1", "driver": "simulated", "max_current_a": 16},
                    {"id": "cp2", "driver": "simulated", "phase_rotation": "L2L3L1", "max_current_a": 16},
                    {"id": "cp3", "driver": "simulated", "phases": 1, "phase_rotation": "L3L1L2", "max_current_a": 16},
                ],
            }
        ],
    }


class Site:
    """A running simulated site and the agent regulating it."""

    def __init__(self, agent: Agent, world: SimulatedNetwork):
        self.agent, self.world = agent, world

    @property
    def regulator(self):
        return self.agent.regulators["main"]

    async def cycle(self, seconds: float = 1.0):
        """Let the world move, then run one agent cycle."""
        self.world.advance(seconds)
        await self.agent.cycle()
        self.world.advance(0.0)
        return self.regulator.last

    def events(self) -> list[str]:
        return [item["type"] for item in self.agent.buffer.pending(100_000).items if item["kind"] == "event"]

    def setpoint_load_a(self) -> list[float]:
        """Per grid phase: what the chargers may draw under their present setpoints."""
        load = [0.0, 0.0, 0.0]
        for config in self.world.network.chargers:
            station = self.world.stations[config.id]
            if station.vehicle is None:
                continue
            for phase in range(min(config.phases, station.vehicle.phases)):
                load[grid_phase(config.phase_rotation, phase)] += station.effective_limit_a()
        return load


async def start_site(tmp_path, *, seed: int, clock=None, **config_changes) -> Site:
    """A simulated site on a free meter port, every station with a vehicle, and a started agent."""
    agent, world = await simulated_site(site_config(tmp_path, **config_changes), seed=seed, world_clock=clock)
    return Site(agent, world)


async def stop_site(site: Site) -> None:
    await site.agent.close()
    await site.world.stop()


@pytest_asyncio.fixture
async def site(tmp_path):
    started = await start_site(tmp_path, seed=1)
    yield started
    await stop_site(started)


def assert_within_limits(site: Site):
    house = site.world.house_load_a
    for phase, load in enumerate(site.setpoint_load_a()):
        assert house[phase] + load <= LIMIT_A + 1e-6, f"L{phase + 1}: house {house[phase]} + chargers {load} > {LIMIT_A}"


@pytest.mark.asyncio
async def test_a_renamed_gateway_keeps_regulating_without_restarting_its_networks(site):
    await site.cycle()
    regulator = site.regulator
    renamed = replace(site.agent.config, gateway=replace(site.agent.config.gateway, name="garage north, renamed"))
    await site.agent.apply_config(renamed)
    assert site.agent.config.gateway.name == "garage north, renamed"
    assert site.regulator is regulator and "config_applied" not in site.events()
    limits_changed = replace(renamed, networks=(replace(renamed.networks[0], max_power_w=11000),))
    await site.agent.apply_config(limits_changed)
    assert site.regulator is not regulator and "config_applied" in site.events()


@pytest.mark.asyncio
async def test_chargers_share_the_headroom_and_the_phase_limits_hold(site):
    for _ in range(3):
        result = await site.cycle()
        assert_within_limits(site)
    assert result.allocation.mode == "normal"
    assert all(setpoint >= 6 for setpoint in result.allocation.setpoints_a.values())


@pytest.mark.asyncio
async def test_a_load_step_on_one_phase_is_answered_in_the_next_cycle(site):
    for _ in range(3):
        await site.cycle()
    site.world.house_load_a = (20.0, 2.0, 3.0)  # the oven goes on, on L1
    await site.cycle()
    assert_within_limits(site)
    reasons = site.regulator.last.allocation.reasons
    assert "limited_by_phase_L1" in reasons.values()


@pytest.mark.asyncio
async def test_when_the_house_alone_exceeds_a_phase_the_chargers_on_it_pause(site):
    await site.cycle()
    site.world.house_load_a = (30.0, 2.0, 3.0)
    result = await site.cycle()
    for config in site.world.network.chargers:
        on_l1 = any(grid_phase(config.phase_rotation, p) == 0 for p in range(config.phases))
        if on_l1:
            assert result.allocation.setpoints_a[config.id] == 0


@pytest.mark.asyncio
async def test_meter_drop_out_means_fallback_within_one_cycle_and_back(site):
    for _ in range(2):
        await site.cycle()
    await site.world.meter.drop_out(True, mode="silent")
    result = await site.cycle()
    assert result.allocation.mode == "fallback"
    fallback_w = sum(
        setpoint * config.phases * 230
        for config in site.world.network.chargers
        for setpoint in [result.allocation.setpoints_a[config.id]]
    )
    assert fallback_w <= 4140
    await site.world.meter.drop_out(False)
    result = await site.cycle()
    assert result.allocation.mode == "normal"
    assert site.events().count("meter_lost") == 1 and site.events().count("meter_restored") == 1


@pytest.mark.asyncio
async def test_a_silent_station_is_reported_once_and_its_allowance_kept_free(site):
    for _ in range(2):
        await site.cycle()
    site.world.house_load_a = (9.0, 8.0, 9.0)  # little headroom: the others must give way to cp1's allowance
    await site.cycle()
    station = site.world.stations["cp1"]
    allowed_before = station.effective_limit_a()
    station.online = False
    for _ in range(2):
        result = await site.cycle()
    assert site.events().count("charger_lost") == 1
    assert result.allocation.reasons["cp1"] == "charger_unreachable"
    # The silent station still holds its last allowance; the others plus the house leave room for it.
    assert station.effective_limit_a() == allowed_before > 0
    assert_within_limits(site)  # counts cp1 at its allowance, the others at their new setpoints
    station.online = True
    await site.cycle()
    assert site.events().count("charger_restored") == 1


@pytest.mark.asyncio
async def test_failsafes_are_armed_at_start_within_the_fallback_power(site):
    await site.cycle()
    armed = {cid: s.failsafe for cid, s in site.world.stations.items()}
    assert all(f is not None and f.timeout_s == 10 for f in armed.values())
    worst_case_w = sum(armed[c.id].current_a * c.phases * 230 for c in site.world.network.chargers)
    assert worst_case_w <= 4140
    assert all(f.current_a == 0 or f.current_a >= 6 for f in armed.values())
    assert site.events().count("failsafe_armed") == 3


@pytest.mark.asyncio
async def test_telemetry_has_a_numbered_sample_per_cycle(site):
    for _ in range(3):
        await site.cycle()
    items = site.agent.buffer.pending(1000).items
    samples = [item for item in items if item["kind"] == "sample"]
    assert len(samples) == 3
    seqs = [item["seq"] for item in items]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    assert set(samples[-1]["chargers"]) == {"cp1", "cp2", "cp3"}


@pytest.mark.asyncio
async def test_a_restarted_agent_continues_the_sequence_and_rearms_failsafes(site, tmp_path):
    await site.cycle()
    last_seq = site.agent.buffer.pending(1000).items[-1]["seq"]
    config, context = site.agent.config, site.agent.context
    await site.agent.close()
    for station in site.world.stations.values():
        station.failsafe = None
    site.agent = Agent(config, context=context, controller_settings=IMMEDIATE)
    await site.agent.start()
    await site.cycle()
    items = site.agent.buffer.pending(1000).items
    assert min(item["seq"] for item in items if item["seq"] > last_seq) == last_seq + 1
    assert all(station.failsafe is not None for station in site.world.stations.values())


@pytest.mark.asyncio
async def test_zero_fallback_pauses_every_charger_when_the_meter_is_lost(tmp_path):
    site = await start_site(tmp_path, seed=2, fallback_power_w=0)
    try:
        await site.cycle()
        await site.world.meter.drop_out(True, mode="refuse")
        allocation = (await site.cycle()).allocation
        assert allocation.mode == "fallback"
        assert set(allocation.setpoints_a.values()) == {0.0}
        assert all(station.effective_limit_a() == 0 for station in site.world.stations.values())
    finally:
        await stop_site(site)


@pytest.mark.asyncio
async def test_when_the_gateway_dies_the_chargers_fall_back_by_themselves_within_the_fallback_power(tmp_path):
    now = [1000.0]
    site = await start_site(tmp_path, seed=3, clock=lambda: now[0])
    world = site.world
    try:
        for _ in range(3):
            now[0] += 1
            await site.cycle()
        assert sum(s.effective_limit_a() for s in world.stations.values()) > 20  # charging well above fallback
    finally:
        await site.agent.close()  # the gateway is gone: no more setpoint renewals
    now[0] += 11  # past the 10 s failsafe timeout
    world.advance(1)
    power_w = sum(
        world.stations[c.id].effective_limit_a() * c.phases * 230 for c in world.network.chargers
    )
    assert all(station.failsafe_active for station in world.stations.values())
    assert power_w <= 4140
    await world.stop()


@pytest.mark.asyncio
async def test_a_charger_reporting_nonsense_pauses_everything_instead_of_stopping_the_loop(site):
    await site.cycle()

    async def nonsense():
        from gateways.chargers.base import ChargerReading, ChargingState, PlugState

        return ChargerReading(PlugState.PLUGGED, ChargingState.CHARGING, True, (float("nan"), 0.0, 0.0), 16.0,
                              monotonic_s=time.monotonic())

    site.regulator.slots["cp1"].driver.read = nonsense
    result = await site.cycle()
    assert set(result.allocation.setpoints_a.values()) == {0.0}
    assert set(result.allocation.reasons.values()) == {"allocation_failed"}
    assert all(station.effective_limit_a() == 0 for station in site.world.stations.values())


@pytest.mark.asyncio
@pytest.mark.parametrize("fault", [Fault.GARBAGE, Fault.HALF_FRAME, Fault.EXCEPTION, Fault.CLOSE])
async def test_a_misbehaving_meter_means_fallback_in_that_cycle_and_normal_once_it_answers(site, fault):
    await site.cycle()
    site.world.meter.fault(fault, exception_code=4)
    assert (await site.cycle()).allocation.mode == "fallback"
    site.world.meter.fault(Fault.NONE)
    # The meter client may wait out one back-off after a broken connection before it reconnects.
    modes = [(await site.cycle()).allocation.mode for _ in range(3)]
    assert modes[-1] == "normal"
    assert site.events().count("meter_lost") == 1 and site.events().count("meter_restored") == 1
