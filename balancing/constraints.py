"""One cycle's limits as integer constraints over setpoint steps, and each charger's terms in them.

Layout of the constraint list: the three grid phases (house load and
reserved current taken out; in fallback only the reserved current), three
per sub-circuit, six for the unbalance limit (one per ordered pair of
phases: high minus low), and one power budget per cap in force last
(``NetworkLimits.power_caps_in_force``, reserved power taken out), tightest
first. A charger's terms say how much one step of its setpoint uses
of each: 1 per phase it loads, the number of phases for each power budget,
and +1, -1 or 0 for an unbalance pair.

Every power budget has the same terms, so only the tightest can bind; the
caps are sorted by power, so it comes first and its code is the one a
charger reports. Among caps of equal power the one listed first names the
limit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from itertools import permutations
from operator import attrgetter

from . import reasons as why
from .model import NetworkLimits

# Relative tolerance when turning amps into whole steps: 21.7 A / 0.1 A is
# 216.99999999999997 in binary floating point and must still be 217 steps.
_STEP_EPSILON = 1e-9

Terms = list[tuple[int, int]]


def units_down(amount: float, step: float) -> int:
    """Whole steps that fit in ``amount`` (a limit or a maximum: round towards less current)."""
    return math.floor(amount / step + _STEP_EPSILON)


def units_up(amount: float, step: float) -> int:
    """Whole steps needed to reach at least ``amount`` (a minimum the vehicle must get)."""
    return math.ceil(amount / step - _STEP_EPSILON)


@dataclass
class Constraints:
    """Working state of one allocation: mutable on purpose, it lives for one call only."""

    codes: list[str]
    slack: list[int]
    circuit_base: dict[str, int]
    pairs: list[tuple[int, int, int]]
    power_rows: list[int]
    _terms: dict[tuple[tuple[int, ...], str | None], Terms] = field(default_factory=dict)

    def terms(self, grid_phases: tuple[int, ...], sub_circuit: str | None) -> Terms:
        """A charger's terms; chargers alike share one list, which nobody may change."""
        key = (grid_phases, sub_circuit)
        found = self._terms.get(key)
        if found is not None:
            return found
        terms: Terms = [(p, 1) for p in grid_phases]
        if sub_circuit is not None:
            base = self.circuit_base[sub_circuit]
            terms.extend((base + p, 1) for p in grid_phases)
        for high, low, index in self.pairs:
            coefficient = (high in grid_phases) - (low in grid_phases)
            if coefficient:
                terms.append((index, coefficient))
        if self.power_rows:
            drawn = len(grid_phases)
            terms.extend([(row, drawn) for row in self.power_rows])
        self._terms[key] = terms
        return terms


def build_constraints(limits: NetworkLimits, room_a: tuple[float, ...], fallback: bool, reserved_w: float = 0.0) -> Constraints:
    """The constraints for one cycle.

    ``room_a`` is each grid phase's limit minus house load and reserved
    current; ``reserved_w`` is the reserved power, taken off every power cap.
    """
    step = limits.current_step_a
    codes = [why.limited_by_phase(p) for p in range(3)]
    slack = [units_down(room_a[p], step) for p in range(3)]
    circuit_base: dict[str, int] = {}
    for circuit in limits.sub_circuits:
        circuit_base[circuit.id] = len(slack)
        for p in range(3):
            codes.append(why.sub_circuit(circuit.id))
            slack.append(units_down(circuit.max_current_per_phase_a[p], step))
    pairs: list[tuple[int, int, int]] = []
    if limits.max_unbalance_a is not None:
        for high, low in permutations(range(3), 2):
            pairs.append((high, low, len(slack)))
            codes.append(why.UNBALANCE_LIMIT)
            slack.append(units_down(limits.max_unbalance_a, step))
    caps = limits.power_caps_in_force(fallback=fallback)
    if len(caps) > 1:
        # Tightest first; sorting is stable, so among equal caps the first listed names the limit.
        caps = tuple(sorted(caps, key=attrgetter("limit_w")))
    power_rows: list[int] = []
    for cap in caps:
        power_rows.append(len(slack))
        codes.append(cap.reason)
        budget_w = cap.limit_w - reserved_w
        # Power per step and phase is step x voltage, so the budget in
        # phase-steps is the cap over (voltage x step), rounded down.
        slack.append(units_down(budget_w / limits.nominal_voltage_v, step) if budget_w > 0 else 0)
    return Constraints(codes, slack, circuit_base, pairs, power_rows)
