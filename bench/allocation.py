"""Allocation time of ``balancing.allocate`` for 1, 10, 100 and 1000 chargers.

Run: ``.venv/bin/python bench/allocation.py`` (``--json`` for a machine-readable
line, ``--quick`` for fewer repetitions). Prints the median and p99 of the
wall time of one ``allocate`` call per network size, the targets from issue 4
(<= 1 ms for 10 chargers, <= 10 ms for 1000) and target / measured (above 1
means within target), plus the machine it ran on. The networks are tight on
purpose (phase limits, power cap, sub-circuits, priorities, unbalance limit
all bind somewhere), because that is where the engine does the most work.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from balancing import PHASE_ROTATIONS, ChargerState, GridMeasurement, NetworkLimits, SubCircuit, allocate  # noqa: E402

SIZES = (1, 10, 100, 1000)
TARGETS_MS = {10: 1.0, 1000: 10.0}
REPETITIONS = {1: 2000, 10: 2000, 100: 300, 1000: 60}


def network(size: int, seed: int = 4):
    """A busy network of ``size`` chargers: mixed wiring, some vehicles drawing, two priorities."""
    rng = random.Random(seed)
    limits = NetworkLimits(
        max_current_per_phase_a=(max(32, 9 * size), max(25, 8 * size), max(20, 7 * size)),
        max_power_w=5000 * size,
        fallback_power_w=1400 * size,
        max_unbalance_a=max(20, 2 * size),
        sub_circuits=(SubCircuit("deck", max(16, 3 * size)),),
    )
    chargers = []
    for i in range(size):
        phases = rng.choice((3, 3, 3, 1))
        drawing = rng.random() < 0.6
        current = tuple(round(rng.uniform(6, 16), 1) if drawing and p < phases and rng.random() < 0.9 else 0.0 for p in range(3))
        chargers.append(
            ChargerState(
                id=f"cp{i}",
                phase_rotation=rng.choice(PHASE_ROTATIONS),
                phases=phases,
                max_current_a=rng.choice((16, 16, 32)),
                priority=1 if rng.random() < 0.1 else 0,
                active=rng.random() < 0.9,
                current_a=current,
                sub_circuit="deck" if rng.random() < 0.3 else None,
            )
        )
    load = [sum(c.current_a[p] for c in chargers) for p in range(3)]
    grid = GridMeasurement(tuple(round(load[p] + rng.uniform(2, 15), 1) for p in range(3)))
    return limits, grid, chargers


def measure(size: int, repetitions: int) -> dict[str, float]:
    """Median and p99 of one allocate call, in milliseconds, after a warm-up."""
    limits, grid, chargers = network(size)
    for _ in range(max(3, repetitions // 20)):
        allocate(limits, grid, chargers)
    samples = []
    for _ in range(repetitions):
        started = time.perf_counter_ns()
        allocate(limits, grid, chargers)
        samples.append((time.perf_counter_ns() - started) / 1e6)
    samples.sort()
    return {
        "median_ms": statistics.median(samples),
        "p99_ms": samples[min(len(samples) - 1, int(len(samples) * 0.99))],
        "runs": repetitions,
    }


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo (Linux), else what platform knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine() -> dict[str, str]:
    return {
        "platform": platform.platform(),
        "cpu": cpu_model(),
        "cpus": str(__import__("os").cpu_count()),
        "python": platform.python_version(),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    parser.add_argument("--quick", action="store_true", help="a tenth of the repetitions")
    arguments = parser.parse_args()
    results = {}
    for size in SIZES:
        repetitions = REPETITIONS[size] // (10 if arguments.quick else 1)
        results[size] = measure(size, max(repetitions, 5))
    if arguments.json:
        print(json.dumps({"machine": machine(), "targets_ms": TARGETS_MS, "results": results}))
        return 0
    info = machine()
    print(f"machine: {info['platform']}; CPU: {info['cpu']} ({info['cpus']} CPUs); Python {info['python']}")
    print(
        f"{'chargers':>8} {'runs':>6} {'median ms':>10} {'p99 ms':>9} {'target ms':>10} {'target/median':>14} {'target/p99':>11}"
    )
    for size, result in results.items():
        target = TARGETS_MS.get(size)
        ratios = ("-", "-") if target is None else (f"{target / result['median_ms']:.1f}x", f"{target / result['p99_ms']:.1f}x")
        print(
            f"{size:>8} {result['runs']:>6} {result['median_ms']:>10.3f} {result['p99_ms']:>9.3f} "
            f"{'-' if target is None else f'{target:g}':>10} {ratios[0]:>14} {ratios[1]:>11}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
