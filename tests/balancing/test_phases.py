"""Phase rotation, the phases a vehicle loads, and the house load the engine assumes."""

from __future__ import annotations

import pytest

from balancing.phases import drawn_grid_phases, grid_phase, house_current_a

from .builders import charger, grid

ROTATION = [
    # (rotation, charger phases 1..3 as indices) -> grid phases L1..L3 as indices
    pytest.param("L1L2L3", (0, 1, 2), id="standard"),
    pytest.param("L2L3L1", (1, 2, 0), id="phase-1-on-L2"),
    pytest.param("L3L1L2", (2, 0, 1), id="phase-1-on-L3"),
]


@pytest.mark.parametrize(("rotation", "grid_phases"), ROTATION)
def test_rotation_maps_charger_phases_to_grid_phases(rotation, grid_phases):
    assert tuple(grid_phase(rotation, p) for p in range(3)) == grid_phases


DRAWN = [
    # nothing drawn yet: every wired phase counts
    pytest.param({"phases": 3}, (0, 1, 2), id="3-phase-idle"),
    pytest.param({"phases": 1, "phase_rotation": "L3L1L2"}, (2,), id="1-phase-idle-on-L3"),
    pytest.param({"phases": 2, "phase_rotation": "L2L3L1"}, (1, 2), id="2-phase-idle"),
    # drawing: only phases above 1 A count
    pytest.param({"current_a": (7, 0.4, 0)}, (0,), id="1-phase-vehicle"),
    pytest.param({"current_a": (0, 7, 7), "phase_rotation": "L3L1L2"}, (0, 1), id="2-phase-vehicle-rotated"),
    pytest.param({"current_a": (1.0, 1.0, 1.0)}, (0, 1, 2), id="exactly-1-A-is-not-drawing"),
    # unwired phases never count
    pytest.param({"phases": 1, "current_a": (0, 9, 9)}, (0,), id="noise-on-unwired-phases"),
]


@pytest.mark.parametrize(("fields", "grid_phases"), DRAWN)
def test_drawn_grid_phases(fields, grid_phases):
    assert drawn_grid_phases(charger("a", **fields)) == grid_phases


HOUSE = [
    # grid minus the chargers' own current
    pytest.param(grid(20, 10, 5), [charger("a", current_a=(8, 8, 8))], (12, 2, 0), id="subtracted-never-below-zero"),
    pytest.param(
        grid(20, 10, 5), [charger("a", phases=1, phase_rotation="L2L3L1", current_a=(8, 0, 0))], (20, 2, 5), id="rotated"
    ),
    # a charger counts only up to its setpoint in force, or its maximum
    pytest.param(grid(30, 30, 30), [charger("a", current_a=(16, 16, 16), setpoint_a=10)], (20, 20, 20), id="capped-by-setpoint"),
    pytest.param(grid(40, 40, 40), [charger("a", current_a=(20, 20, 20))], (24, 24, 24), id="capped-by-maximum"),
    pytest.param(grid(10, 10, 10), [charger("a", active=False, current_a=(6, 6, 6))], (10, 10, 10), id="inactive-not-credited"),
    pytest.param(grid(10, 10, 10), [charger("a", current_a=(-3, -3, -3))], (10, 10, 10), id="negative-reading-ignored"),
    # never below what the grid meter itself shows as export, never negative from readings alone
    pytest.param(grid(4, 4, 4), [charger("a", current_a=(10, 10, 10))], (0, 0, 0), id="not-below-zero"),
    pytest.param(grid(-5, -5, -5), [charger("a", current_a=(10, 10, 10))], (-5, -5, -5), id="export-as-measured"),
    pytest.param(grid(-5, 0, 0), [], (-5, 0, 0), id="export-without-chargers"),
]


@pytest.mark.parametrize(("measurement", "chargers", "house"), HOUSE)
def test_house_current(measurement, chargers, house):
    assert house_current_a(measurement, chargers) == pytest.approx(house)
