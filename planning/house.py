"""House load from what telemetry records, and coarser series from finer ones, for whoever builds a ``HouseLoad``.

The fleet stores per sample the grid current per phase and each charger's
current in its own phase order; the planner wants the house alone. Compute it
per raw sample (the same rule as the regulation loop), then roll up: the
maximum of house load per interval, because the difference of two maxima is
not the maximum of the difference, and a mean hides the peaks a fuse sees.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from balancing import ScenarioError
from balancing.phases import grid_phase

Phases3 = tuple[float, float, float]


def house_current_a(grid_current_a: Sequence[float], chargers: Iterable[tuple[str, int, Sequence[float]]]) -> Phases3:
    """Grid current minus each charger's current on its grid phases; never below ``min(grid, 0)`` per phase.

    ``chargers`` holds (phase_rotation, phases, current_a in the charger's own
    phase order) per charger; phases a charger is not wired to are ignored.
    """
    house = [float(grid_current_a[0]), float(grid_current_a[1]), float(grid_current_a[2])]
    for rotation, phases, current_a in chargers:
        for p in range(phases):
            if current_a[p] > 0:
                house[grid_phase(rotation, p)] -= current_a[p]
    floor = [min(float(g), 0.0) for g in grid_current_a]
    return (max(house[0], floor[0]), max(house[1], floor[1]), max(house[2], floor[2]))


def rolled_up(samples: Sequence[Sequence[float]], factor: int) -> tuple[Phases3, ...]:
    """Every ``factor`` consecutive samples as one: the maximum per phase (a last short group counts too)."""
    if isinstance(factor, bool) or not isinstance(factor, int) or factor < 1:
        raise ScenarioError("factor", f"must be a whole number >= 1, not {factor!r}")
    result = []
    for begin in range(0, len(samples), factor):
        group = samples[begin : begin + factor]
        result.append((max(s[0] for s in group), max(s[1] for s in group), max(s[2] for s in group)))
    return tuple(result)
