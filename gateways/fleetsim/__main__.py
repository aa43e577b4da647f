"""`python -m gateways.fleetsim --server URL --tokens FILE --duration S [--processes P]`: run a simulated fleet.

Prints the run's summary as JSON (and writes it to `--output`, with each
gateway's highest seq and acknowledged mark); exit status 0 when every item
was acknowledged by the end of the drain, 1 when some were not, 2 for a bad
command line or a server off this machine.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from dataclasses import fields
from pathlib import Path

from gateways.fleetsim.runner import NotLoopback, SimOptions, items_per_interval, read_tokens, require_loopback, run


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m gateways.fleetsim", description=__doc__.splitlines()[0])
    defaults = {f.name: f.default for f in fields(SimOptions)}
    parser.add_argument("--server", required=True, help="the fleet server's base URL, on loopback (http://127.0.0.1:8000)")
    parser.add_argument("--tokens", required=True, type=Path, help="gateway tokens, one a line (fleetsim_fleet create)")
    parser.add_argument("--duration", required=True, type=float, help="seconds to run; then the backlog is drained")
    parser.add_argument("--processes", type=int, default=1, help="processes to share the gateways (default 1)")
    parser.add_argument("--gateways", type=int, help="use only the first N tokens")
    parser.add_argument("--upload-interval-s", type=float, default=defaults["upload_interval_s"])
    parser.add_argument("--config-interval-s", type=float, default=defaults["config_interval_s"])
    parser.add_argument("--timeout-s", type=float, default=defaults["timeout_s"], help="per request")
    parser.add_argument("--drain-s", type=float, default=defaults["drain_s"], help="at most this long after the run")
    parser.add_argument("--meter-loss-per-hour", type=float, default=defaults["meter_loss_per_hour"],
                        help="per network: how often its meter is lost (and restored 5-55 s later)")
    parser.add_argument("--connections", type=int, default=defaults["connections"], help="per process")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", type=Path, help="write the summary with every gateway's marks here (JSON)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        require_loopback(args.server)
    except NotLoopback as problem:
        print(f"fleetsim: {problem}", file=sys.stderr)
        return 2
    tokens = read_tokens(args.tokens)[: args.gateways]
    if not tokens:
        print(f"fleetsim: no tokens in {args.tokens}", file=sys.stderr)
        return 2
    options = SimOptions(
        server=args.server, duration_s=args.duration, upload_interval_s=args.upload_interval_s,
        config_interval_s=args.config_interval_s, timeout_s=args.timeout_s, drain_s=args.drain_s,
        meter_loss_per_hour=args.meter_loss_per_hour, connections=args.connections, seed=args.seed,
    )
    stats = run(tokens, options, processes=args.processes)
    summary = stats.summary(duration_s=args.duration,
                            items_per_interval=items_per_interval(stats, args.upload_interval_s))
    if args.output:
        args.output.write_text(json.dumps(summary, indent=1))
    shown = {key: value for key, value in summary.items() if key != "per_gateway"}
    print(json.dumps(shown, indent=1))
    left = summary["backlog"].get("after_drain", {}).get("total", 0)
    return 0 if left == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
