"""`python -m gateways run --config site.toml`: run one site's regulation loop.

`--simulate` also starts, in the same process, a simulated site for the
config: each network's meter served by a meter simulator on its configured
host and port, its chargers simulated with vehicles plugged in. With
`--status-port` the live status is served as JSON (/status) and Prometheus
metrics (/metrics).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
import tomllib

from gateways.protocol import ConfigError, parse_site_config


def load_config_file(path: str):
    """Read and validate a TOML site config; errors name the key."""
    try:
        with open(path, "rb") as handle:
            data = tomllib.load(handle)
    except OSError as problem:
        raise ConfigError(path, f"cannot be read: {problem.strerror}") from None
    except tomllib.TOMLDecodeError as problem:
        raise ConfigError(path, f"is not valid TOML: {problem}") from None
    return parse_site_config(data)


async def run(args) -> int:
    from gateways.agent import Agent
    from gateways.chargers.registry import DriverContext
    from gateways.status import StatusServer

    config = load_config_file(args.config)
    context = DriverContext(config.gateway)
    simulations = []
    if args.simulate:
        from gateways.simulation import SimulatedNetwork

        for network in config.networks:
            simulated = SimulatedNetwork(network)
            for station_id, station in simulated.stations.items():
                context.simulated_stations[station_id] = station
                simulated.plug_in(station_id)
            await simulated.start()
            simulations.append(simulated)
    agent = Agent(config, context=context)
    await agent.start()
    status = None
    if args.status_port is not None:
        status = StatusServer(agent.status, host=args.status_host, port=args.status_port)
        await status.start()
        logging.getLogger("gateways").info("status on http://%s:%d/status", status.host, status.port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        async with asyncio.TaskGroup() as tasks:
            for simulated in simulations:
                tasks.create_task(_until(stop, simulated.run()))
            tasks.create_task(agent.run(stop))
    finally:
        await agent.close()
        if status:
            await status.stop()
        for simulated in simulations:
            await simulated.stop()
    return 0


async def _until(stop: asyncio.Event, coroutine) -> None:
    task = asyncio.ensure_future(coroutine)
    await stop.wait()
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        pass


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gateways", description="FuseGuard gateway agent")
    commands = parser.add_subparsers(dest="command", required=True)
    run_parser = commands.add_parser("run", help="run the regulation loop")
    run_parser.add_argument("--config", required=True, help="site config (TOML)")
    run_parser.add_argument("--simulate", action="store_true", help="also simulate the site's meter and chargers")
    run_parser.add_argument("--status-port", type=int, help="serve /status and /metrics on this port")
    run_parser.add_argument("--status-host", default="127.0.0.1")
    check_parser = commands.add_parser("check", help="validate a site config and exit")
    check_parser.add_argument("--config", required=True)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        if args.command == "check":
            config = load_config_file(args.config)
            print(f"{args.config}: valid ({len(config.networks)} network(s))")
            return 0
        return asyncio.run(run(args))
    except ConfigError as problem:
        print(f"config error: {problem}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
