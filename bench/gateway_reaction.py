"""Gateway figures: reaction to a load step, and the agent's CPU and memory.

Reaction time: from the moment the meter shows a load step (the simulator's
registers change) to the moment the KEBA station receives the lowered `curr`
command over UDP; the agent runs as its own process, as in production, with
one meter (Modbus TCP) and two KEBA stations (UDP) on loopback. Measured at
poll intervals of 1 s and 0.25 s; target: <= poll interval + 100 ms.

The same for OCPP 1.6J: from the step to the moment a simulated charge point
receives the lowered live profile (SetChargingProfile) over its websocket.

Resources: the agent with 1 meter and 10 KEBA stations at a 1 s poll, CPU
share of one core and resident memory over a measuring window; targets <= 3 %
and <= 80 MB.

Run: .venv/bin/python bench/gateway_reaction.py [--steps N] [--window-s S]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from balancing.phases import grid_phase  # noqa: E402
from bench.machine import describe  # noqa: E402
from gateways.ocpp16.profiles import LIVE_PROFILE_ID  # noqa: E402
from gateways.simulators.keba_station import KebaStationModel, Vehicle  # noqa: E402
from gateways.simulators.keba_udp_station import KebaUdpStation  # noqa: E402
from gateways.simulators.ocpp_station import OcppStation, OcppVehicle  # noqa: E402
from meters.sim import MeterSimulator  # noqa: E402

LIMIT_A = 32


def free_port(kind=socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class World:
    """House, charging stations, and the meter seeing them all (each station wired on its own phase rotation)."""

    def __init__(self, stations: list):
        self.house_a = [4.0, 3.0, 3.0]
        self.rotations = ["L1L2L3", "L2L3L1", "L3L1L2"]
        self.stations = stations
        self.meter = MeterSimulator("carlo-gavazzi-em24", port=free_port())
        self.tick = 0

    def station_current_a(self, station) -> list[float]:
        """What a station draws on its phases 1..3, in A."""
        raise NotImplementedError

    def plug_in(self, station) -> None:
        """A vehicle at the station that takes up to 16 A on three phases."""
        raise NotImplementedError

    def tick_stations(self) -> None:
        """Let the stations' own models move on (a pushed protocol's simulator does this itself)."""

    def grid_a(self) -> list[float]:
        grid = list(self.house_a)
        for index, station in enumerate(self.stations):
            for phase, current in enumerate(self.station_current_a(station)):
                grid[grid_phase(self.rotations[index % 3], phase)] += current
        return grid

    def update(self) -> None:
        self.tick += 1
        grid = self.grid_a()
        voltage = [230.0 + (self.tick % 9) * 0.1, 229.7, 230.4]
        self.meter.set_values(current_a=grid, voltage_v=voltage, power_w=[i * v for i, v in zip(grid, voltage)],
                              power_total_w=sum(i * v for i, v in zip(grid, voltage)), frequency_hz=50.0)

    async def start(self) -> None:
        for station in self.stations:
            self.plug_in(station)
            await station.start()
        self.update()
        await self.meter.start()

    async def follow(self) -> None:
        while True:
            await asyncio.sleep(0.02)
            self.tick_stations()
            self.update()

    async def stop(self) -> None:
        for station in self.stations:
            await station.close()
        await self.meter.stop()


class KebaWorld(World):
    """KEBA stations on 127.0.0.(2+i), answering the agent's UDP port."""

    def __init__(self, stations: int, udp_port: int):
        super().__init__([KebaUdpStation(f"127.0.0.{2 + i}", udp_port, model=KebaStationModel()) for i in range(stations)])
        self.udp_port = udp_port

    def station_current_a(self, station: KebaUdpStation) -> list[float]:
        return [milliamps / 1000 for milliamps in station.model.phase_currents_ma]

    def plug_in(self, station: KebaUdpStation) -> None:
        station.model.plug_in(Vehicle(max_current_a=16, phases=3))

    def tick_stations(self) -> None:
        for station in self.stations:
            station.model.tick()

    def gateway_toml(self) -> str:
        return f'keba_udp_bind = "127.0.0.1"\nkeba_udp_port = {self.udp_port}'

    def chargers_toml(self) -> str:
        return "\n".join(
            f'[[networks.chargers]]\nid = "cp{i}"\ndriver = "keba-udp"\nhost = "{s.host}"\n'
            f'phase_rotation = "{self.rotations[i % 3]}"\nmax_current_a = 16\n'
            for i, s in enumerate(self.stations)
        )


class OcppWorld(World):
    """Simulated OCPP charge points dialing in to the agent."""

    def __init__(self, stations: int, ocpp_port: int):
        super().__init__([OcppStation(f"ws://127.0.0.1:{ocpp_port}", f"cp{i}", reconnect_s=0.2) for i in range(stations)])
        self.ocpp_port = ocpp_port

    def station_current_a(self, station: OcppStation) -> list[float]:
        return list(station.current_a())

    def plug_in(self, station: OcppStation) -> None:
        station.plug_in(OcppVehicle(max_current_a=16, phases=3))

    def gateway_toml(self) -> str:
        return f'ocpp_listen = "127.0.0.1:{self.ocpp_port}"\nfailsafe_timeout_s = 10'

    def chargers_toml(self) -> str:
        return "\n".join(
            f'[[networks.chargers]]\nid = "cp{i}"\ndriver = "ocpp16"\nphase_rotation = "{self.rotations[i % 3]}"\n'
            f"max_current_a = 16\n"
            for i in range(len(self.stations))
        )


def site_toml(world: KebaWorld | OcppWorld, poll_s: float, state_dir: str) -> str:
    """The agent's site config: one network, the world's meter and its stations."""
    return f"""
[gateway]
id = "bench"
poll_interval_s = {poll_s}
state_dir = "{state_dir}"
{world.gateway_toml()}

[[networks]]
id = "main"
max_current_per_phase_a = {LIMIT_A}
fallback_power_w = 0

[networks.meter]
model = "carlo-gavazzi-em24"
host = "127.0.0.1"
port = {world.meter.port}

{world.chargers_toml()}
"""


async def start_agent(world: KebaWorld | OcppWorld, poll_s: float) -> subprocess.Popen:
    """The agent as its own process, as in production, on a site config written for the world."""
    state_dir = tempfile.mkdtemp(prefix="fuseguard-bench-")
    config = Path(state_dir) / "site.toml"
    config.write_text(site_toml(world, poll_s, state_dir))
    return subprocess.Popen([sys.executable, "-m", "gateways", "run", "--config", str(config)], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


async def step_reactions(world: World, poll_s: float, steps: int, watch) -> list[float]:
    """Steps the house load on L1 up and down; for each step up, seconds until the lowered command arrives.

    ``watch()`` is called just before each step and returns a function that
    gives the arrival time (``time.monotonic``) of the first lowered command
    since then, or None while there is none.
    """
    reactions: list[float] = []
    for step in range(steps):
        high = step % 2 == 0
        lowered_at = watch()
        world.house_a[0] = 24.0 if high else 4.0
        world.update()
        step_s = time.monotonic()
        if not high:
            await asyncio.sleep(max(3.0, 12 * poll_s))  # increases are paced; not part of the figure
            continue
        arrived_s = None
        while time.monotonic() < step_s + 5 and arrived_s is None:
            await asyncio.sleep(0.002)
            arrived_s = lowered_at()
        if arrived_s is not None:
            reactions.append(arrived_s - step_s)
        await asyncio.sleep(max(2.0, 8 * poll_s))
    return reactions


async def measure_reactions(world: KebaWorld | OcppWorld, poll_s: float, steps: int, watch) -> list[float]:
    """Starts the world and the agent, lets it settle, and times the load steps (see `step_reactions`)."""
    await world.start()
    follower = asyncio.create_task(world.follow())
    agent = await start_agent(world, poll_s)
    try:
        await asyncio.sleep(max(6.0, 12 * poll_s))  # connected, failsafes armed, currents settled
        return await step_reactions(world, poll_s, steps, watch)
    finally:
        agent.terminate()
        agent.wait(timeout=20)
        follower.cancel()
        await world.stop()


async def reaction_times(poll_s: float, steps: int) -> list[float]:
    """Load step at the meter -> lowered `curr` (or `ena 0`) at the first KEBA station."""
    world = KebaWorld(2, free_port(socket.SOCK_DGRAM))
    station = world.stations[0]

    def watch():
        before = len(station.received)
        before_ma = station.model.curr_user_ma

        def lowered_at() -> float | None:
            for command in station.received[before:]:
                if command.text.startswith("curr ") and int(command.text.split()[1]) < before_ma:
                    return command.at_s
                if command.text == "ena 0":
                    return command.at_s
            return None

        return lowered_at

    return await measure_reactions(world, poll_s, steps, watch)


async def ocpp_reaction_times(poll_s: float, steps: int) -> list[float]:
    """Load step at the meter -> lowered live profile at the first charge point."""
    world = OcppWorld(2, free_port())
    station = world.stations[0]

    def watch():
        received = station.counters.profiles_received
        before = len(received)
        before_a = station.allowed_a()

        def lowered_at() -> float | None:
            for at_s, profile_id, limit in received[before:]:
                if profile_id == LIVE_PROFILE_ID and limit < before_a:
                    return at_s
            return None

        return lowered_at

    return await measure_reactions(world, poll_s, steps, watch)


def process_usage(pid: int) -> tuple[float, int]:
    """CPU seconds used so far and resident memory in bytes."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    cpu_s = (int(fields[11]) + int(fields[12])) / ticks
    rss_pages = int(Path(f"/proc/{pid}/statm").read_text().split()[1])
    return cpu_s, rss_pages * os.sysconf("SC_PAGE_SIZE")


async def resources(window_s: float) -> tuple[float, int]:
    world = KebaWorld(10, free_port(socket.SOCK_DGRAM))
    await world.start()
    follower = asyncio.create_task(world.follow())
    agent = await start_agent(world, 1.0)
    try:
        await asyncio.sleep(8)  # start-up, imports, failsafes
        cpu_start, _ = process_usage(agent.pid)
        started = time.monotonic()
        peak_rss = 0
        while time.monotonic() - started < window_s:
            await asyncio.sleep(1)
            peak_rss = max(peak_rss, process_usage(agent.pid)[1])
        cpu_end, _ = process_usage(agent.pid)
        share = (cpu_end - cpu_start) / (time.monotonic() - started)
    finally:
        agent.terminate()
        agent.wait(timeout=20)
        follower.cancel()
        await world.stop()
    return share, peak_rss


def report_reaction(poll_s: float, reactions: list[float], steps: int, row: str = "KEBA UDP") -> None:
    target_s = poll_s + 0.1
    if not reactions:
        print(f"{row}, poll {poll_s:.2f} s: no reaction seen in {steps // 2 + steps % 2} steps")
        return
    worst = max(reactions)
    print(
        f"{row}, poll {poll_s:.2f} s: reaction median {statistics.median(reactions) * 1000:.0f} ms, "
        f"worst {worst * 1000:.0f} ms over {len(reactions)} steps; target {target_s * 1000:.0f} ms; "
        f"target/worst = {target_s / worst:.2f}"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--window-s", type=float, default=30.0)
    args = parser.parse_args()
    print(describe())
    for poll_s in (1.0, 0.25):
        report_reaction(poll_s, await reaction_times(poll_s, args.steps), args.steps)
    for poll_s in (1.0, 0.25):
        report_reaction(poll_s, await ocpp_reaction_times(poll_s, args.steps), args.steps, row="OCPP 1.6J")
    share, rss = await resources(args.window_s)
    print(f"agent, 1 meter + 10 KEBA stations at 1 s poll: CPU {share * 100:.2f} % of a core (target 3 %, "
          f"ratio {0.03 / max(share, 1e-9):.1f}), peak RSS {rss / 2**20:.1f} MB (target 80 MB, ratio {80 * 2**20 / rss:.1f})")


if __name__ == "__main__":
    asyncio.run(main())
