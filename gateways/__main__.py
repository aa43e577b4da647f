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
import os
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


async def initial_config(args, config_sync):
    """The standalone file, or in managed mode the server's config (the saved one while it is unreachable)."""
    if args.config:
        return load_config_file(args.config)
    fetched, problem = await config_sync.fetch()
    if fetched is not None:
        return fetched
    saved = config_sync.last_good()
    if saved is not None:
        logging.getLogger("gateways").warning("using the last good config from %s (%s)", config_sync.path, problem or "")
        return saved
    raise ConfigError("--server", f"no config could be fetched ({problem}) and none is saved in {config_sync.path.parent}")


async def watch_config(agent, config_sync, interval_s: float) -> None:
    """Poll the server's config and apply a new one without a restart."""
    log = logging.getLogger("gateways")
    while True:
        await asyncio.sleep(interval_s)
        config, problem = await config_sync.fetch()
        if config is not None:
            log.info("applying a new config from the server")
            await agent.apply_config(config)
        elif problem and problem.startswith("rejected"):
            log.error("server config %s", problem)
            agent.recorder.event("config_rejected", None, problem)


async def run(args) -> int:
    from gateways.agent import Agent
    from gateways.chargers.registry import DriverContext
    from gateways.status import StatusServer
    from gateways.sync import ConfigSync, ServerLink, TelemetryUpload

    link = config_sync = None
    if args.server:
        overrides = {"state_dir": args.state_dir, "keba_udp_bind": args.keba_udp_bind}
        link = ServerLink(args.server, args.token)
        config_sync = ConfigSync(link, args.state_dir, overrides)
    config = await initial_config(args, config_sync)
    context = DriverContext(config.gateway)
    simulations = []
    if args.simulate:
        from gateways.simulation import SimulatedNetwork

        from gateways.protocol.ocpp_keys import split_listen

        ocpp_host, ocpp_port = split_listen(config.gateway.ocpp_listen)
        scheme = "wss" if config.gateway.ocpp_tls_cert else "ws"
        ocpp_url = f"{scheme}://{'127.0.0.1' if ocpp_host in ('0.0.0.0', '::') else ocpp_host}:{ocpp_port}"
        for network in config.networks:
            simulated = SimulatedNetwork(network, ocpp_url=ocpp_url)
            for station_id, station in simulated.stations.items():
                context.simulated_stations[station_id] = station
                if not args.simulate_life:
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
            for index, simulated in enumerate(simulations):
                tasks.create_task(_until(stop, simulated.run()))
                if args.simulate_life:
                    from gateways.site_life import SiteLife, live

                    life = SiteLife(meter_dropout_every_s=args.simulate_meter_dropouts_s)
                    tasks.create_task(_until(stop, live(simulated, life, seed=index)))
            tasks.create_task(agent.run(stop))
            if link is not None:
                upload = TelemetryUpload(link, agent.buffer, config.gateway.id, dead_letters=agent.dead_letters,
                                         recorder=agent.recorder)
                tasks.create_task(upload.run(stop=stop))  # finishes a batch in flight, then stops
                tasks.create_task(_until(stop, watch_config(agent, config_sync, args.config_interval_s)))
    finally:
        await agent.close()
        if link is not None:
            await link.close()
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
    source = run_parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--config", help="standalone: the site config (TOML)")
    source.add_argument("--server", help="managed: the fleet server's base URL")
    run_parser.add_argument("--token", help="managed: the gateway's token (or FUSEGUARD_GATEWAY_TOKEN)")
    run_parser.add_argument("--state-dir", default="/var/lib/fuseguard", help="managed: buffer and last good config")
    run_parser.add_argument("--keba-udp-bind", default="0.0.0.0", help="managed: address for KEBA UDP port 7090")
    run_parser.add_argument("--config-interval-s", type=float, default=30.0, help="managed: how often to poll the config")
    run_parser.add_argument("--simulate", action="store_true", help="also simulate the site's meter and chargers")
    run_parser.add_argument("--simulate-life", action="store_true",
                            help="with --simulate: wandering house load, vehicles arriving and leaving")
    run_parser.add_argument("--simulate-meter-dropouts-s", type=float, metavar="S",
                            help="with --simulate-life: let the meter drop out about every S seconds")
    run_parser.add_argument("--status-port", type=int, help="serve /status and /metrics on this port")
    run_parser.add_argument("--status-host", default="127.0.0.1")
    check_parser = commands.add_parser("check", help="validate a site config and exit")
    check_parser.add_argument("--config", required=True)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.command == "run" and args.server:
        args.token = args.token or os.environ.get("FUSEGUARD_GATEWAY_TOKEN")
        if not args.token:
            parser.error("--server needs --token (or FUSEGUARD_GATEWAY_TOKEN)")
    logging.getLogger("pymodbus").setLevel(logging.CRITICAL)  # its per-retry warnings; we log edges ourselves
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
