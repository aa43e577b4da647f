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
    """House, KEBA stations on 127.0.0.(2+i), and the meter seeing them all."""

    def __init__(self, stations: int, udp_port: int):
        self.house_a = [4.0, 3.0, 3.0]
        self.rotations = ["L1L2L3", "L2L3L1", "L3L1L2"]
        self.stations = [
            KebaUdpStation(f"127.0.0.{2 + i}", udp_port, model=KebaStationModel()) for i in range(stations)
        ]
        self.meter = MeterSimulator("carlo-gavazzi-em24", port=free_port())
        self.tick = 0

    def grid_a(self) -> list[float]:
        grid = list(self.house_a)
        for index, station in enumerate(self.stations):
            rotation = self.rotations[index % 3]
            for phase, milliamps in enumerate(station.model.phase_currents_ma):
                grid[grid_phase(rotation, phase)] += milliamps / 1000
        return grid

    def update(self) -> None:
        self.tick += 1
        grid = self.grid_a()
        voltage = [230.0 + (self.tick % 9) * 0.1, 229.7, 230.4]
        self.meter.set_values(current_a=grid, voltage_v=voltage, power_w=[i * v for i, v in zip(grid, voltage)],
                              power_total_w=sum(i * v for i, v in zip(grid, voltage)), frequency_hz=50.0)

    async def start(self) -> None:
        for station in self.stations:
            station.model.plug_in(Vehicle(max_current_a=16, phases=3))
            await station.start()
        self.update()
        await self.meter.start()

    async def follow(self) -> None:
        while True:
            await asyncio.sleep(0.02)
            for station in self.stations:
                station.model.tick()
            self.update()

    async def stop(self) -> None:
        for station in self.stations:
            await station.close()
        await self.meter.stop()


def site_toml(world: World, udp_port: int, poll_s: float, state_dir: str) -> str:
    chargers = "\n".join(
        f'[[networks.chargers]]\nid = "cp{i}"\ndriver = "keba-udp"\nhost = "{s.host}"\n'
        f'phase_rotation = "{world.rotations[i % 3]}"\nmax_current_a = 16\n'
        for i, s in enumerate(world.stations)
    )
    return f"""
[gateway]
id = "bench"
poll_interval_s = {poll_s}
state_dir = "{state_dir}"
keba_udp_bind = "127.0.0.1"
keba_udp_port = {udp_port}

[[networks]]
id = "main"
max_current_per_phase_a = {LIMIT_A}
fallback_power_w = 0

[networks.meter]
model = "carlo-gavazzi-em24"
host = "127.0.0.1"
port = {world.meter.port}

{chargers}
"""


async def start_agent(world: World, udp_port: int, poll_s: float) -> tuple[subprocess.Popen, str]:
    state_dir = tempfile.mkdtemp(prefix="fuseguard-bench-")
    config = Path(state_dir) / "site.toml"
    config.write_text(site_toml(world, udp_port, poll_s, state_dir))
    agent = subprocess.Popen([sys.executable, "-m", "gateways", "run", "--config", str(config)], cwd=ROOT,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return agent, state_dir


def last_curr_ma(station: KebaUdpStation) -> int | None:
    for command in reversed(station.received):
        if command.text.startswith("curr "):
            return int(command.text.split()[1])
    return None


async def reaction_times(poll_s: float, steps: int) -> list[float]:
    udp_port = free_port(socket.SOCK_DGRAM)
    world = World(2, udp_port)
    await world.start()
    follower = asyncio.create_task(world.follow())
    agent, _ = await start_agent(world, udp_port, poll_s)
    reactions: list[float] = []
    try:
        await asyncio.sleep(max(6.0, 12 * poll_s))  # failsafes armed, currents settled
        for step in range(steps):
            high = step % 2 == 0
            station = world.stations[0]
            before = len(station.received)
            before_ma = station.model.curr_user_ma
            world.house_a[0] = 24.0 if high else 4.0
            world.update()
            step_s = time.monotonic()
            if not high:
                await asyncio.sleep(max(3.0, 12 * poll_s))  # increases are paced; not part of the figure
                continue
            deadline = step_s + 5
            reaction = None
            while time.monotonic() < deadline and reaction is None:
                await asyncio.sleep(0.002)
                for command in station.received[before:]:
                    if command.text.startswith("curr ") and int(command.text.split()[1]) < before_ma:
                        reaction = command.at_s - step_s
                        break
                    if command.text == "ena 0":
                        reaction = command.at_s - step_s
                        break
            if reaction is not None:
                reactions.append(reaction)
            await asyncio.sleep(max(2.0, 8 * poll_s))
    finally:
        agent.terminate()
        agent.wait(timeout=20)
        follower.cancel()
        await world.stop()
    return reactions


class OcppWorld(World):
    """House, simulated OCPP charge points dialing in to the agent, and the meter seeing them all."""

    def __init__(self, stations: int, ocpp_port: int):
        self.house_a = [4.0, 3.0, 3.0]
        self.rotations = ["L1L2L3", "L2L3L1", "L3L1L2"]
        self.ocpp_port = ocpp_port
        self.stations = [OcppStation(f"ws://127.0.0.1:{ocpp_port}", f"cp{i}", reconnect_s=0.2) for i in range(stations)]
        self.meter = MeterSimulator("carlo-gavazzi-em24", port=free_port())
        self.tick = 0

    def grid_a(self) -> list[float]:
        grid = list(self.house_a)
        for index, station in enumerate(self.stations):
            for phase, current in enumerate(station.current_a()):
                grid[grid_phase(self.rotations[index % 3], phase)] += current
        return grid

    async def start(self) -> None:
        for station in self.stations:
            station.plug_in(OcppVehicle(max_current_a=16, phases=3))
            await station.start()
        self.update()
        await self.meter.start()

    async def follow(self) -> None:
        while True:
            await asyncio.sleep(0.02)
            self.update()


def ocpp_site_toml(world: OcppWorld, poll_s: float, state_dir: str) -> str:
    chargers = "\n".join(
        f'[[networks.chargers]]\nid = "cp{i}"\ndriver = "ocpp16"\nphase_rotation = "{world.rotations[i % 3]}"\n'
        f"max_current_a = 16\n"
        for i in range(len(world.stations))
    )
    return f"""
[gateway]
id = "bench"
poll_interval_s = {poll_s}
state_dir = "{state_dir}"
ocpp_listen = "127.0.0.1:{world.ocpp_port}"
failsafe_timeout_s = 10

[[networks]]
id = "main"
max_current_per_phase_a = {LIMIT_A}
fallback_power_w = 0

[networks.meter]
model = "carlo-gavazzi-em24"
host = "127.0.0.1"
port = {world.meter.port}

{chargers}
"""


async def ocpp_reaction_times(poll_s: float, steps: int) -> list[float]:
    """Load step at the meter -> lowered live profile at the first charge point."""
    world = OcppWorld(2, free_port())
    await world.start()
    follower = asyncio.create_task(world.follow())
    state_dir = tempfile.mkdtemp(prefix="fuseguard-bench-")
    config = Path(state_dir) / "site.toml"
    config.write_text(ocpp_site_toml(world, poll_s, state_dir))
    agent = subprocess.Popen([sys.executable, "-m", "gateways", "run", "--config", str(config)], cwd=ROOT,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    reactions: list[float] = []
    live_id = 4101  # gateways.ocpp16.profiles.LIVE_PROFILE_ID
    try:
        await asyncio.sleep(max(6.0, 12 * poll_s))  # connected, configured, armed, currents settled
        station = world.stations[0]
        for step in range(steps):
            high = step % 2 == 0
            received = station.counters.profiles_received
            before = len(received)
            before_a = station.allowed_a()
            world.house_a[0] = 24.0 if high else 4.0
            world.update()
            step_s = time.monotonic()
            if not high:
                await asyncio.sleep(max(3.0, 12 * poll_s))
                continue
            reaction = None
            while time.monotonic() < step_s + 5 and reaction is None:
                await asyncio.sleep(0.002)
                for at_s, profile_id, limit in received[before:]:
                    if profile_id == live_id and limit < before_a:
                        reaction = at_s - step_s
                        break
            if reaction is not None:
                reactions.append(reaction)
            await asyncio.sleep(max(2.0, 8 * poll_s))
    finally:
        agent.terminate()
        agent.wait(timeout=20)
        follower.cancel()
        for station in world.stations:
            await station.close()
        await world.meter.stop()
    return reactions


def process_usage(pid: int) -> tuple[float, int]:
    """CPU seconds used so far and resident memory in bytes."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    cpu_s = (int(fields[11]) + int(fields[12])) / ticks
    rss_pages = int(Path(f"/proc/{pid}/statm").read_text().split()[1])
    return cpu_s, rss_pages * os.sysconf("SC_PAGE_SIZE")


async def resources(window_s: float) -> tuple[float, int]:
    udp_port = free_port(socket.SOCK_DGRAM)
    world = World(10, udp_port)
    await world.start()
    follower = asyncio.create_task(world.follow())
    agent, _ = await start_agent(world, udp_port, 1.0)
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
