"""Time of one capacity-planning replay: 30 days at 1-minute resolution, 20 chargers.

Run: ``.venv/bin/python bench/planning.py`` (``--json`` for a machine-readable
line, ``--quick`` for 3 days instead of 30). Prints the wall time of
``planning.replay`` and its CPU time (on a shared machine the wall time
includes waiting for a core), the time of ``Plan.from_dict`` on the same input
as JSON, the
goal from issue 14 (under 10 s for 30 days) and goal / measured (above 1 means
within the goal), plus the machine it ran on. The site is busy on purpose:
house load with an evening peak, a fuse that binds most evenings, 20 chargers
of mixed wiring with a session on most nights, so the controller does real
work in most steps.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.machine import describe  # noqa: E402
from planning import HouseLoad, Plan, PlanLimits, PlannedCharger, SessionProfile, Vehicle, replay  # noqa: E402

GOAL_S = 10.0
GOAL_DAYS = 30
CHARGERS = 20
RESOLUTION_S = 60


def site(days: int, seed: int = 14) -> Plan:
    """A site of ``CHARGERS`` chargers behind a 100 A connection, ``days`` of 1-minute house load."""
    rng = random.Random(seed)
    samples = []
    for k in range(days * 1440):
        hour = (k / 60) % 24
        base = 8 + 6 * math.exp(-(((hour - 7.5) / 1.2) ** 2)) + 25 * math.exp(-(((hour - 18.5) / 1.8) ** 2))
        samples.append(tuple(round(base * share + rng.uniform(0, 6), 1) for share in (1.0, 0.8, 0.9)))
    rotations = ("L1L2L3", "L2L3L1", "L3L1L2")
    chargers = tuple(
        PlannedCharger(
            id=f"cp{i:02d}",
            max_current_a=(32 if i % 5 == 0 else 16),
            phases=(1 if i % 4 == 3 else 3),
            phase_rotation=rotations[i % 3],
            priority=(1 if i < 2 else 0),
            hypothetical=i >= 16,
        )
        for i in range(CHARGERS)
    )
    profile = SessionProfile(
        seed=seed,
        probability=0.85,
        energy_wh=(6000, 40000),
        vehicles=(Vehicle(3, 16), Vehicle(1, 32), Vehicle(2, 16), Vehicle(3, 32)),
    )
    load = HouseLoad(datetime(2026, 11, 1, tzinfo=timezone(timedelta(hours=1))), RESOLUTION_S, tuple(samples))
    return Plan(PlanLimits(100, max_power_w=55000, fallback_power_w=11000), chargers, load, profile=profile)


def main() -> int:
    """Build the site, time one replay, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    parser.add_argument("--quick", action="store_true", help="3 days instead of 30 (the ratio is scaled to 30)")
    arguments = parser.parse_args()
    days = 3 if arguments.quick else GOAL_DAYS
    plan = site(days)
    text = json.dumps(plan.to_dict())
    started = time.perf_counter()
    Plan.from_dict(json.loads(text))
    parse_s = time.perf_counter() - started
    started, started_cpu = time.perf_counter(), time.process_time()
    result = replay(plan)
    replay_s, replay_cpu_s = time.perf_counter() - started, time.process_time() - started_cpu
    scaled_s = replay_s * GOAL_DAYS / days
    figures = {
        "days": days,
        "chargers": CHARGERS,
        "resolution_s": RESOLUTION_S,
        "steps": len(plan.load.house_current_a),
        "sessions": result.network.sessions,
        "sessions_complete": result.network.sessions_complete,
        "limited_minutes": result.network.limited_minutes,
        "replay_s": round(replay_s, 3),
        "replay_cpu_s": round(replay_cpu_s, 3),
        "parse_s": round(parse_s, 3),
        "us_per_step": round(replay_s / len(plan.load.house_current_a) * 1e6, 1),
        "goal_s_for_30_days": GOAL_S,
        "goal_over_measured": round(GOAL_S / scaled_s, 2),
        "goal_over_cpu": round(GOAL_S / (replay_cpu_s * GOAL_DAYS / days), 2),
    }
    if arguments.json:
        print(json.dumps({"machine": describe(), **figures}))
        return 0
    print(describe())
    print(
        f"{days} days at {RESOLUTION_S} s ({figures['steps']} steps), {CHARGERS} chargers, "
        f"{figures['sessions']} sessions ({figures['sessions_complete']} complete, a limit bound "
        f"{figures['limited_minutes']:.0f} min)"
    )
    print(
        f"replay {replay_s:.2f} s wall, {replay_cpu_s:.2f} s CPU ({figures['us_per_step']} us/step); "
        f"parsing the plan's JSON {parse_s:.2f} s"
    )
    print(
        f"goal {GOAL_S:g} s for {GOAL_DAYS} days; goal/measured {figures['goal_over_measured']:.2f}x wall, "
        f"{figures['goal_over_cpu']:.2f}x CPU (wall counts waiting for a shared CPU, CPU time does not)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
