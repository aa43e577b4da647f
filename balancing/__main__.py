"""``python -m balancing allocate SCENARIO.json``: one allocation from a JSON file (or ``-`` for stdin)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from .engine import allocate
from .errors import ScenarioError
from .scenario import parse_scenario

EXIT_INVALID_INPUT = 2


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the process exit code (2 for invalid input)."""
    parser = argparse.ArgumentParser(prog="python -m balancing", description="FuseGuard allocation engine.")
    commands = parser.add_subparsers(dest="command", required=True)
    allocate_parser = commands.add_parser("allocate", help="allocate one scenario and print the result as JSON")
    allocate_parser.add_argument("scenario", help="scenario JSON file, or - for standard input")
    arguments = parser.parse_args(argv)

    try:
        if arguments.scenario == "-":
            text = sys.stdin.read()
        else:
            with open(arguments.scenario, encoding="utf-8") as handle:
                text = handle.read()
    except OSError as error:
        print(f"error: cannot read {arguments.scenario}: {error.strerror}", file=sys.stderr)
        return EXIT_INVALID_INPUT
    try:
        # NaN and Infinity parse to floats here on purpose: the dataclasses
        # reject them with the field's name, which a JSON error could not give.
        data = json.loads(text)
    except ValueError as error:
        print(f"error: scenario is not valid JSON: {error}", file=sys.stderr)
        return EXIT_INVALID_INPUT
    try:
        scenario = parse_scenario(data)
        result = allocate(
            scenario.limits, scenario.grid, scenario.chargers, turn_order=scenario.turn_order, reserved=scenario.reserved
        )
    except ScenarioError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_INVALID_INPUT
    json.dump(result.to_json(), sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
