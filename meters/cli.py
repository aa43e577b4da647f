"""`python -m meters list | read | simulate`: the catalog, one reading, a simulated meter."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import signal
import sys
from pathlib import Path

from meters import catalog
from meters.client import MeterClient
from meters.commissioning import describe_reading
from meters.custom_map import load_map
from meters.errors import (
    MeterDataError,
    MeterError,
    MeterMapError,
    MeterModbusException,
    MeterTransportError,
    UnknownMeterModel,
)
from meters.registers import MeterModel
from meters.sim import MeterSimulator, SunSpecShape

EXIT_USAGE = 2
EXIT_TRANSPORT = 3
EXIT_MODBUS_EXCEPTION = 4
EXIT_DATA = 5
EXIT_MAP = 6

JSON_POLL_S = 0.5


def _model(key: str, map_path: str | None) -> MeterModel:
    """The catalog entry, or the custom map (which may name a meter the catalog lacks)."""
    if map_path:
        return load_map(map_path, key=key)
    return catalog.get_model(key)


def cmd_list(args: argparse.Namespace) -> int:
    """Print the catalog: key, manufacturer, model, protocol, verification."""
    rows = [
        (m.key, m.manufacturer, m.model + (f" (via {m.via})" if m.via else ""), m.protocol.value, m.verification)
        for m in catalog.all_models()
    ]
    if args.json:
        keys = ("key", "manufacturer", "model", "protocol", "verification")
        print(json.dumps([dict(zip(keys, row)) for row in rows], indent=2))
        return 0
    header = ("KEY", "MANUFACTURER", "MODEL", "PROTOCOL", "VERIFICATION")
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(4)]
    for row in [header, *rows]:
        print("  ".join(str(c).ljust(w) for c, w in zip(row, widths)) + "  " + row[4])
    return 0


async def _read(args: argparse.Namespace) -> int:
    model = _model(args.model, args.map)
    async with MeterClient(model, args.host, args.port, args.unit, timeout_s=args.timeout) as client:
        reading = await client.read()
    if args.json:
        print(json.dumps(reading.to_json_dict()))
    else:
        print(describe_reading(model, reading, client.endpoint))
    return 0


def cmd_read(args: argparse.Namespace) -> int:
    """Read one value set; exit non-zero with a one-line reason on any failure."""
    # We report failures ourselves, in one line; pymodbus' own log lines would only
    # repeat them (with frame dumps) on stderr.
    logging.getLogger("pymodbus").setLevel(logging.CRITICAL)
    try:
        return asyncio.run(_read(args))
    except MeterTransportError as error:
        return _fail(EXIT_TRANSPORT, f"transport failure: {error}")
    except MeterModbusException as error:
        return _fail(EXIT_MODBUS_EXCEPTION, f"Modbus exception: {error}")
    except MeterDataError as error:
        return _fail(EXIT_DATA, f"implausible or undecodable data: {error}")
    except (MeterMapError, UnknownMeterModel) as error:
        return _fail(EXIT_MAP, str(error))


async def _simulate(args: argparse.Namespace) -> int:
    model = _model(args.model, args.map)
    shape = None
    if args.sunspec_model or args.common_length:
        shape = SunSpecShape(
            meter_model_id=args.sunspec_model or model.sunspec_model_id or 213,
            common_length=args.common_length or 65,
        )
    simulator = MeterSimulator(model, host=args.host, port=args.port, unit_id=args.unit, sunspec_shape=shape)
    values_path = Path(args.values) if args.values else None
    last_mtime = None
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signum, stop.set)
    async with simulator:
        print(
            f"simulating {model.key} on {simulator.host}:{simulator.port} unit {simulator.unit_id}",
            flush=True,
        )
        while not stop.is_set():
            if values_path is not None:
                last_mtime = _reload(simulator, values_path, last_mtime)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), JSON_POLL_S)
    return 0


def _reload(simulator: MeterSimulator, path: Path, last_mtime: float | None) -> float | None:
    """Apply the JSON file when it changed; a broken file is reported and the old values kept."""
    try:
        mtime = path.stat().st_mtime
    except OSError:
        return last_mtime
    if mtime == last_mtime:
        return last_mtime
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict):
            raise ValueError("expected a JSON object")
        simulator.set_values({k: v for k, v in data.items() if k not in ("drop_out",)})
        if "drop_out" in data:
            # "drop_out": false | "silent" | "close" makes the simulated meter fail live.
            mode = data["drop_out"]
            asyncio.get_running_loop().create_task(
                simulator.drop_out(bool(mode), mode=mode if isinstance(mode, str) else "silent")
            )
        print(f"values from {path}: {json.dumps(data)}", flush=True)
    except (ValueError, OSError) as error:
        print(f"meters simulate: ignoring {path}: {error}", file=sys.stderr, flush=True)
    return mtime


def cmd_simulate(args: argparse.Namespace) -> int:
    """Serve a model's register layout until interrupted."""
    try:
        return asyncio.run(_simulate(args))
    except (MeterMapError, UnknownMeterModel, ValueError) as error:
        return _fail(EXIT_MAP, str(error))
    except OSError as error:
        return _fail(EXIT_TRANSPORT, f"cannot listen: {error}")


def _fail(code: int, message: str) -> int:
    print(f"meters: {' '.join(message.split())}", file=sys.stderr)
    return code


def build_parser() -> argparse.ArgumentParser:
    """The command-line grammar."""
    parser = argparse.ArgumentParser(prog="python -m meters", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    listing = commands.add_parser("list", help="list the meter catalog")
    listing.add_argument("--json", action="store_true", help="print a JSON array")
    listing.set_defaults(func=cmd_list)

    read = commands.add_parser("read", help="read one value set from a meter")
    read.add_argument("model", help="catalog key (any name with --map)")
    read.add_argument("--host", required=True)
    read.add_argument("--port", type=int)
    read.add_argument("--unit", type=int, help="Modbus unit id (default: the model's)")
    read.add_argument("--map", metavar="FILE", help="custom TOML register map")
    read.add_argument("--timeout", type=float, default=3.0, help="seconds (default 3)")
    read.add_argument("--json", action="store_true", help="print exactly one JSON object")
    read.set_defaults(func=cmd_read)

    simulate = commands.add_parser("simulate", help="serve a simulated meter")
    simulate.add_argument("model")
    simulate.add_argument("--port", type=int, required=True)
    simulate.add_argument("--host", default="127.0.0.1")
    simulate.add_argument("--unit", type=int)
    simulate.add_argument("--map", metavar="FILE", help="custom TOML register map")
    simulate.add_argument("--values", metavar="FILE.json", help="values, reloaded when the file changes")
    simulate.add_argument("--sunspec-model", type=int, help="SunSpec meter model to serve (201-204, 211-214)")
    simulate.add_argument("--common-length", type=int, help="SunSpec common model length (65 or 66)")
    simulate.set_defaults(func=cmd_simulate)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of `python -m meters`."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except MeterError as error:
        return _fail(EXIT_DATA, str(error))
