"""Many simulated gateways: one asyncio loop per process, several processes for a large fleet.

The runner checks the server is on loopback, reads the tokens, gives each
process its share, starts them all at the same wall-clock moment, takes the
gateways' backlog at the start, middle and end of the run, drains what is
left after the end, and merges what the processes counted.
"""

from __future__ import annotations

import asyncio
import ipaddress
import math
import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from gateways.fleetsim.gateway import SimulatedGateway
from gateways.fleetsim.session import GatewaySession, spread_schedules
from gateways.fleetsim.stats import RunStats


class NotLoopback(ValueError):
    """The server URL names a host off this machine: the simulator is a load generator for local servers only."""


@dataclass(frozen=True)
class SimOptions:
    """How the fleet runs."""

    server: str
    duration_s: float
    upload_interval_s: float = 15.0
    config_interval_s: float = 30.0
    timeout_s: float = 10.0
    """Per request, as the agent's `ServerLink`."""
    drain_s: float = 60.0
    """After the run, how long the gateways may take to send what is left."""
    meter_loss_per_hour: float = 1.0
    """Per network: how often its meter is lost (and comes back 5 to 55 s later)."""
    connections: int = 256
    """Simultaneous connections per process; more requests wait in the process's pool."""
    seed: int = 0


def require_loopback(url: str) -> None:
    """Refuse any server that is not on this machine (127.0.0.0/8, ::1 or localhost)."""
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return
    try:
        if ipaddress.ip_address(host).is_loopback:
            return
    except ValueError:
        pass
    raise NotLoopback(
        f"refusing to load {host or url!r}: the fleet simulator only targets a server on this machine "
        "(http://127.0.0.1:PORT, http://[::1]:PORT or http://localhost:PORT)"
    )


def read_tokens(path: Path | str) -> list[str]:
    """Gateway tokens, one a line (blank lines and # comments skipped), as `fleetsim_fleet create` writes them."""
    lines = Path(path).read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]


def snapshot_times(options: SimOptions) -> dict[str, float]:
    """When to take the backlog (seconds into the run): after the first uploads, halfway, at the end."""
    duration_s = options.duration_s
    start_s = min(max(duration_s * 0.25, options.upload_interval_s * 1.5), duration_s * 0.5)
    return {"start": start_s, "middle": duration_s * 0.5, "end": duration_s}


async def run_gateways(tokens: list[str], options: SimOptions, begin_s: float, first_index: int = 0) -> RunStats:
    """Run these gateways from the wall-clock time `begin_s` for the run's duration, then drain; return their stats."""
    stats = RunStats(gateways=len(tokens))
    gateways = [SimulatedGateway(token, seed=options.seed * 1_000_003 + first_index + index,
                                 meter_loss_per_hour=options.meter_loss_per_hour)
                for index, token in enumerate(tokens)]
    schedules = spread_schedules(len(tokens), upload_interval_s=options.upload_interval_s,
                                 config_interval_s=options.config_interval_s, seed=options.seed + first_index)
    limits = httpx.Limits(max_connections=options.connections, max_keepalive_connections=options.connections)
    stop_s = begin_s + options.duration_s

    def take_backlog(name: str, at_s: float) -> None:
        now = time.time()
        stats.backlog[name] = [gateway.backlog(now) for gateway in gateways]
        stats.backlog_at_s[name] = at_s
        stats.acked_at[name] = stats.items_acked

    async with httpx.AsyncClient(base_url=options.server.rstrip("/") + "/api/gateway/v1/", timeout=options.timeout_s,
                                 limits=limits) as client:
        slots = asyncio.Semaphore(options.connections)
        sessions = [GatewaySession(gateway, client, stats, schedule, slots=slots)
                    for gateway, schedule in zip(gateways, schedules)]
        await asyncio.sleep(max(0.0, begin_s - time.time()))

        async def snapshots() -> None:
            for name, at_s in snapshot_times(options).items():
                if name != "end":
                    await asyncio.sleep(max(0.0, begin_s + at_s - time.time()))
                    take_backlog(name, at_s)

        async with asyncio.TaskGroup() as tasks:
            tasks.create_task(snapshots())
            for session in sessions:
                tasks.create_task(session.run(stop_s))
        take_backlog("end", options.duration_s)
        drain_until_s = time.time() + options.drain_s
        async with asyncio.TaskGroup() as tasks:
            for session in sessions:
                tasks.create_task(session.drain(drain_until_s))
        take_backlog("after_drain", options.duration_s + options.drain_s)
    for gateway in gateways:
        stats.samples_made += gateway.samples_made
        stats.events_made += gateway.events_made
        stats.per_gateway.append({"gateway": gateway.gateway_id, "last_seq": gateway.last_seq,
                                  "acked_seq": gateway.acked_seq, "samples": gateway.samples_made,
                                  "events": gateway.events_made, "networks": len(gateway.networks),
                                  "poll_interval_s": gateway.poll_interval_s})
    return stats


def _process_main(tokens: list[str], options: dict, begin_s: float, first_index: int) -> dict:
    return asyncio.run(run_gateways(tokens, SimOptions(**options), begin_s, first_index)).to_dict()


def run(tokens: list[str], options: SimOptions, processes: int = 1) -> RunStats:
    """Run the fleet in `processes` processes (each its share of the tokens) and return the merged stats."""
    require_loopback(options.server)
    processes = max(1, min(processes, len(tokens)))
    if processes == 1:
        return asyncio.run(run_gateways(tokens, options, time.time() + 0.5))
    share = math.ceil(len(tokens) / processes)
    chunks = [(tokens[i:i + share], i) for i in range(0, len(tokens), share)]
    begin_s = time.time() + 2.0 + 0.2 * len(chunks)  # every process is up and has built its gateways by then
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=len(chunks), mp_context=context) as pool:
        futures = [pool.submit(_process_main, chunk, asdict(options), begin_s, first) for chunk, first in chunks]
        parts = [future.result() for future in futures]
    return RunStats.merged(parts)


def items_per_interval(stats: RunStats, upload_interval_s: float) -> float:
    """How many items a gateway of this fleet records per upload interval, on average."""
    known = [g for g in stats.per_gateway if g["networks"]]
    if not known:
        return 0.0
    return sum(upload_interval_s / g["poll_interval_s"] * g["networks"] for g in known) / len(known)
