"""Where each charger's current lands on the grid, and what the house draws besides.

Two rules from the product semantics live here and nowhere else: a vehicle
loads only the charger phases where it draws more than 1 A (all wired phases
while it draws nothing yet), and the house load is the grid current minus
what the chargers account for, computed so that a charger's own reading can
never make the house look smaller than the grid meter allows.
"""

from __future__ import annotations

from collections.abc import Sequence

from . import PHASE_ROTATIONS
from .model import ChargerState, GridMeasurement, Phases3

DRAWING_THRESHOLD_A = 1.0
"""A vehicle counts as drawing on a phase above this current (below it is noise or standby)."""

_ROTATION_OFFSET: dict[str, int] = {rotation: offset for offset, rotation in enumerate(PHASE_ROTATIONS)}


def grid_phase(rotation: str, charger_phase: int) -> int:
    """Grid phase index 0..2 (L1..L3) that charger phase index 0..2 is wired to."""
    return (charger_phase + _ROTATION_OFFSET[rotation]) % 3


# Every (rotation, charger phases used) pair mapped to sorted grid phases once:
# the engine asks this for every charger every cycle.
_SUBSETS = ((0,), (1,), (2,), (0, 1), (0, 2), (1, 2), (0, 1, 2))
_GRID_PHASES: dict[tuple[str, tuple[int, ...]], tuple[int, ...]] = {
    (rotation, used): tuple(sorted((p + offset) % 3 for p in used))
    for rotation, offset in _ROTATION_OFFSET.items()
    for used in _SUBSETS
}
_WIRED = {1: (0,), 2: (0, 1), 3: (0, 1, 2)}


def drawn_grid_phases(charger: ChargerState) -> tuple[int, ...]:
    """Grid phases (sorted indices 0..2) that a setpoint for this charger loads.

    Phases the charger is not wired to are ignored even if they report current:
    a 1-phase charger cannot draw on its phase 2, so such a reading is noise.
    """
    current = charger.current_a
    wired = _WIRED[charger.phases]
    used = tuple(p for p in wired if current[p] > DRAWING_THRESHOLD_A) or wired
    return _GRID_PHASES[charger.phase_rotation, used]


def own_current_a(charger: ChargerState) -> Phases3:
    """The charger's current per grid phase that may be taken out of the grid reading.

    Each wired phase counts at most up to the setpoint in force (or the charger's
    maximum when it is unknown; nothing for an inactive charger), never below 0:
    an over-reading charger would otherwise hide house load.
    """
    if charger.setpoint_a is not None:
        cap_a = min(charger.setpoint_a, charger.max_current_a)
    elif charger.active:
        cap_a = charger.max_current_a
    else:
        return (0.0, 0.0, 0.0)
    own = [0.0, 0.0, 0.0]
    offset = _ROTATION_OFFSET[charger.phase_rotation]
    current = charger.current_a
    for p in range(charger.phases):
        reading = current[p]
        if reading > 0.0:
            own[(p + offset) % 3] += reading if reading < cap_a else cap_a
    return (own[0], own[1], own[2])


def chargers_current_a(chargers: Sequence[ChargerState]) -> Phases3:
    """The chargers' own current per grid phase, summed (``own_current_a`` of each)."""
    chargers_a = [0.0, 0.0, 0.0]
    for charger in chargers:
        l1, l2, l3 = own_current_a(charger)
        chargers_a[0] += l1
        chargers_a[1] += l2
        chargers_a[2] += l3
    return (chargers_a[0], chargers_a[1], chargers_a[2])


def load_besides_chargers_a(grid_a: Phases3, chargers_a: Phases3, reserved_a: Phases3 = (0.0, 0.0, 0.0)) -> Phases3:
    """What the chargers being set share each grid phase with: the house load plus the reserved current.

    Grid current plus reserved current minus the chargers' own current, never
    below ``min(grid + reserved, 0)``: the house rule (export the grid meter
    sees gives headroom, the chargers' readings alone never push the house
    below zero) applied as if the reserved load were already on the meter.
    Nothing reserved, it is the house load.
    """
    seen = (grid_a[0] + reserved_a[0], grid_a[1] + reserved_a[1], grid_a[2] + reserved_a[2])
    return (
        max(seen[0] - chargers_a[0], min(seen[0], 0.0)),
        max(seen[1] - chargers_a[1], min(seen[1], 0.0)),
        max(seen[2] - chargers_a[2], min(seen[2], 0.0)),
    )


def house_current_a(grid: GridMeasurement, chargers: Sequence[ChargerState]) -> Phases3:
    """House load per grid phase: grid current minus the chargers' own current (``own_current_a``).

    The result is never below ``min(grid, 0)``: export that the grid meter sees
    gives headroom, but the chargers' readings alone never push the house
    below zero (if they claim more than the grid shows, trust the grid).
    """
    return load_besides_chargers_a(grid.current_a, chargers_current_a(chargers))
