"""``python -m planning PLAN.json``: replay a plan, print a summary table, optionally write the result as JSON."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import replace

from balancing import ScenarioError, describe

from .model import Plan
from .replay import replay
from .result import PlanResult

EXIT_INVALID_INPUT = 2


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the process exit code (2 for invalid input)."""
    parser = argparse.ArgumentParser(prog="python -m planning", description="FuseGuard capacity planner.")
    parser.add_argument("plan", help="plan JSON file, or - for standard input")
    parser.add_argument("--out", help="write the full result as JSON to this file")
    parser.add_argument("--max-current-a", type=float, help="replace the fuse (A per phase): what would a bigger fuse change?")
    parser.add_argument("--max-power-w", type=float, help="replace the power cap (W)")
    parser.add_argument("--sessions", action="store_true", help="list every session, not only the totals per charger")
    arguments = parser.parse_args(argv)
    try:
        text = sys.stdin.read() if arguments.plan == "-" else open(arguments.plan, encoding="utf-8").read()
    except OSError as error:
        print(f"error: cannot read {arguments.plan}: {error.strerror}", file=sys.stderr)
        return EXIT_INVALID_INPUT
    try:
        data = json.loads(text)
    except ValueError as error:
        print(f"error: plan is not valid JSON: {error}", file=sys.stderr)
        return EXIT_INVALID_INPUT
    try:
        plan = Plan.from_dict(data)
        plan = _overridden(plan, arguments.max_current_a, arguments.max_power_w)
        result = replay(plan)
    except ScenarioError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_INVALID_INPUT
    sys.stdout.write(table(result, every_session=arguments.sessions))
    if arguments.out:
        with open(arguments.out, "w", encoding="utf-8") as handle:
            json.dump(result.to_dict(), handle, indent=2)
            handle.write("\n")
    return 0


def _overridden(plan: Plan, max_current_a: float | None, max_power_w: float | None) -> Plan:
    limits = plan.limits
    if max_current_a is not None:
        limits = replace(limits, max_current_per_phase_a=max_current_a)
    if max_power_w is not None:
        limits = replace(limits, max_power_w=max_power_w)
    return replace(plan, limits=limits)


def table(result: PlanResult, *, every_session: bool = False) -> str:
    """The result as text: network figures, then energy per charger (or per session)."""
    n = result.network
    fuse = "/".join(f"{a:g}" for a in result.limits["max_current_per_phase_a"])
    cap = result.limits.get("max_power_w")
    lines = [
        f"fuse {fuse} A per phase, power cap {'none' if cap is None else f'{cap:g} W'}; "
        f"{n.duration_minutes / 1440:.1f} days at {n.resolution_s:g} s",
        f"sessions complete by departure   {n.sessions_complete} of {n.sessions}",
        f"energy delivered / wanted        {n.energy_delivered_wh / 1000:.1f} / {n.energy_wanted_wh / 1000:.1f} kWh",
        f"minutes a limit held a vehicle   {n.limited_minutes:.0f}",
        f"peak phase current L1/L2/L3      {'/'.join(f'{a:.1f}' for a in n.peak_phase_current_a)} A",
        f"mean / least unused capacity     {'/'.join(f'{a:.1f}' for a in n.mean_headroom_a)} A; "
        f"{'/'.join(f'{a:.1f}' for a in n.min_headroom_a)} A",
        f"house alone over the fuse        {n.house_over_limit_minutes:.0f} min",
        f"without load management          over the fuse {n.unmanaged_over_fuse_minutes:.0f} min, peak "
        f"{'/'.join(f'{a:.1f}' for a in n.unmanaged_peak_phase_current_a)} A",
    ]
    if n.bound_minutes:
        lines.append("minutes held back, by reason:")
        for code, minutes in sorted(n.bound_minutes.items(), key=lambda item: -item[1]):
            lines.append(f"  {minutes:>8.0f}  {code:<22} {describe(code)}")
    lines.append("")
    if every_session:
        lines.append(f"{'charger':<16} {'arrival':<25} {'departure':<25} {'kWh got':>8} {'wanted':>8}  complete")
        for s in result.sessions:
            lines.append(
                f"{s.charger:<16} {s.arrival.isoformat():<25} {s.departure.isoformat():<25} "
                f"{s.energy_delivered_wh / 1000:>8.1f} {s.energy_wanted_wh / 1000:>8.1f}  {'yes' if s.complete else 'NO'}"
            )
    else:
        lines.append(f"{'charger':<16} {'new':<4} {'sessions':>8} {'complete':>8} {'kWh/session':>12} {'wanted':>8}")
        per: dict[str, list] = {}
        for s in result.sessions:
            per.setdefault(s.charger, []).append(s)
        for charger, sessions in sorted(per.items()):
            count = len(sessions)
            lines.append(
                f"{charger:<16} {'yes' if sessions[0].hypothetical else '':<4} {count:>8} "
                f"{sum(s.complete for s in sessions):>8} "
                f"{sum(s.energy_delivered_wh for s in sessions) / count / 1000:>12.1f} "
                f"{sum(s.energy_wanted_wh for s in sessions) / count / 1000:>8.1f}"
            )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
