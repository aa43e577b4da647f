"""What the agent's end-to-end site tests share: a metered site, cycling the agent, waiting for a condition.

A `MeteredSite` is the physical side of a test site: the house load, the
charging stations (simulated over their real protocol) and a meter simulator
that sees the house plus what every station draws, mapped through each
station's phase rotation. Its voltages jitter, so the agent never takes the
meter for frozen. A subclass says what a station draws and which limit the
site must keep. `simulated_site` starts the in-process kind instead
(`gateways.simulation`) with an agent regulating it.
"""

from __future__ import annotations

import asyncio
import contextlib

from balancing import ControllerSettings
from balancing.phases import grid_phase
from gateways.agent import Agent
from gateways.chargers.registry import DriverContext
from gateways.chargers.simulated import Vehicle
from gateways.protocol import parse_site_config
from gateways.simulation import SimulatedNetwork
from meters.sim import MeterSimulator

IMMEDIATE = ControllerSettings(increase_interval_s=0, increase_step_a=None, min_pause_s=0, resume_delay_s=0)
"""Pacing and hysteresis off (they have their own tests in tests/balancing): each cycle shows the safe allocation."""


class MeteredSite:
    """House load, the stations by charger id (each on its grid phase rotation) and the meter that sees them all."""

    def __init__(self, stations: dict, rotations: dict[str, str]):
        self.house_load_a = [4.0, 2.0, 3.0]
        self.stations = stations
        self.rotations = rotations
        self.meter = MeterSimulator("carlo-gavazzi-em24", port=0)
        self._jitter = 0
        self._task: asyncio.Task | None = None

    def station_current_a(self, charger_id: str) -> list[float]:
        """What the station draws now on its phases 1..3, in A."""
        raise NotImplementedError

    def tick(self) -> None:
        """Let the stations' own models move on; a station that runs by itself needs nothing."""

    def assert_within_limits(self) -> None:
        """Fail the test if what the stations may draw now, with the house load, exceeds the site's limit."""
        raise NotImplementedError

    def grid_current_a(self) -> list[float]:
        grid = list(self.house_load_a)
        for cid, rotation in self.rotations.items():
            for phase, current in enumerate(self.station_current_a(cid)):
                grid[grid_phase(rotation, phase)] += current
        return grid

    def update_meter(self) -> None:
        self._jitter = (self._jitter + 1) % 7
        voltage = [230.0 + self._jitter * 0.1, 229.5, 231.0]
        grid = self.grid_current_a()
        self.meter.set_values(current_a=grid, voltage_v=voltage, power_w=[i * v for i, v in zip(grid, voltage)],
                              power_total_w=sum(i * v for i, v in zip(grid, voltage)), frequency_hz=50.0)

    def follow(self) -> None:
        """From now on, every 50 ms: the stations move on and the meter shows it."""
        self._task = asyncio.create_task(self._follow())

    async def _follow(self) -> None:
        while True:
            await asyncio.sleep(0.05)
            self.tick()
            self.update_meter()

    async def stop(self) -> None:
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        for station in self.stations.values():
            await station.close()
        await self.meter.stop()


@contextlib.asynccontextmanager
async def agent_beside(site: MeteredSite, config):
    """A started agent for `config` regulating the running `site`; afterwards the agent and the site are stopped."""
    agent = Agent(config, context=DriverContext(config.gateway), controller_settings=IMMEDIATE)
    await agent.start()
    yield agent
    await agent.close()
    await site.stop()


async def simulated_site(raw: dict, *, seed: int, world_clock=None, **agent_options) -> tuple[Agent, SimulatedNetwork]:
    """The simulated first network of `raw` on a free meter port, a vehicle at every station, and a started agent.

    `raw` is the site config as a dict; it gets the meter simulator's port.
    `world_clock` drives the simulated stations; `agent_options` go to the
    `Agent`, and a `clock` among them stamps the drivers' readings too.
    """
    world = SimulatedNetwork(parse_site_config(raw).networks[0], house_load_a=(4.0, 2.0, 3.0), seed=seed, meter_port=0,
                             **({} if world_clock is None else {"clock": world_clock}))
    await world.start()
    raw["networks"][0]["meter"]["port"] = world.meter.port
    config = parse_site_config(raw)
    world.network = config.networks[0]
    for charger_id in world.stations:
        world.plug_in(charger_id, Vehicle(phases=3, max_current_a=16))
    context = DriverContext(config.gateway, simulated_stations=world.stations,
                            **({"clock": agent_options["clock"]} if "clock" in agent_options else {}))
    agent = Agent(config, context=context, controller_settings=IMMEDIATE, **agent_options)
    await agent.start()
    return agent, world


async def cycle_until(agent, site: MeteredSite, condition, within_s: float = 8.0, check: bool = True) -> None:
    """Run the agent's cycles 200 ms apart, checking the site's limits at each (unless `check` is off), until `condition()` holds."""
    deadline = asyncio.get_running_loop().time() + within_s
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "condition not reached in time"
        await agent.cycle()
        if check:
            site.assert_within_limits()
        await asyncio.sleep(0.2)


async def eventually(predicate, timeout_s: float = 3.0, what: str = "condition"):
    """Wait until `predicate()` holds (polled every 20 ms)."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)
