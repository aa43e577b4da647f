"""House load from telemetry and the roll-up of fine series into coarse ones."""

from __future__ import annotations

import pytest

from balancing import ScenarioError
from planning.house import house_current_a, rolled_up

HOUSE = [
    # (grid L1..L3, chargers as (rotation, phases, own current), expected house)
    # --- chargers on their own grid phases ---------------------------------
    ((30, 20, 10), [("L1L2L3", 3, (10, 10, 10))], (20, 10, 0)),
    ((30, 20, 10), [("L2L3L1", 1, (8, 0, 0))], (30, 12, 10)),
    ((30, 20, 10), [("L3L1L2", 3, (5, 0, 0))], (30, 20, 5)),
    # --- a reading on a phase the charger is not wired to is noise -----------
    ((30, 20, 10), [("L1L2L3", 1, (6, 6, 6))], (24, 20, 10)),
    # --- chargers never make the house look negative; the grid's export does --
    ((5, 5, -4), [("L1L2L3", 3, (16, 16, 16))], (0, 0, -4)),
]


@pytest.mark.parametrize(("grid", "chargers", "expected"), HOUSE)
def test_house_current(grid, chargers, expected):
    assert house_current_a(grid, chargers) == pytest.approx(expected)


def test_roll_up_keeps_each_phases_maximum():
    samples = [(1, 9, 3), (4, 2, 3), (2, 2, 8), (5, 1, 1), (0, 0, 0)]
    assert rolled_up(samples, 2) == ((4, 9, 3), (5, 2, 8), (0, 0, 0))
    assert rolled_up(samples, 1) == tuple(samples)
    with pytest.raises(ScenarioError, match="^factor"):
        rolled_up(samples, 0)
