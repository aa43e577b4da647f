"""The pure allocation: limits + grid measurement + charger states -> setpoints with reasons.

Order of work, which is also the order of precedence:
1. Fallback when the grid reading is missing or stale (house load unknown).
2. Chargers on a grid phase where the house alone is over the limit: paused.
3. Constraints in whole setpoint steps: each grid phase (house load taken
   out), each sub-circuit phase, the unbalance limit, the power budget.
4. Priority classes, highest first. In a class, chargers get their minimum
   in turn order while it fits (the rest wait); then all rise together
   (equal amps) until their maximum or a binding constraint; the steps left
   over are handed out one by one. A lower class only gets what is left.
5. Every setpoint gets the code of what stops it from being higher.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from itertools import permutations

from . import reasons as why
from .filling import admit, first_blocking, take, top_up, water_fill
from .model import MODE_FALLBACK, MODE_NORMAL, Allocation, ChargerState, GridMeasurement, NetworkLimits, check_unique_ids
from .phases import drawn_grid_phases, house_current_a

# Relative tolerance when turning amps into whole steps: 21.7 A / 0.1 A is
# 216.99999999999997 in binary floating point and must still be 217 steps.
_STEP_EPSILON = 1e-9


def units_down(amount: float, step: float) -> int:
    """Whole steps that fit in ``amount`` (a limit or a maximum: round towards less current)."""
    return math.floor(amount / step + _STEP_EPSILON)


def units_up(amount: float, step: float) -> int:
    """Whole steps needed to reach at least ``amount`` (a minimum the vehicle must get)."""
    return math.ceil(amount / step - _STEP_EPSILON)


def is_fallback(limits: NetworkLimits, grid: GridMeasurement | None) -> bool:
    """Whether this cycle runs without a usable grid reading (missing or too old)."""
    return grid is None or grid.age_s > limits.max_measurement_age_s


def _amps(units: int, step: float) -> float:
    return round(units * step, 6)


def allocate(limits: NetworkLimits, grid: GridMeasurement | None, chargers: Sequence[ChargerState], *, turn_order: Sequence[str] = ()) -> Allocation:
    """Setpoints for every charger that keep the house connection within its limits.

    ``turn_order`` lists charger ids to serve first within their priority
    class, in that order (the Controller's queue); the others follow in input
    order. Pure: same input, same output.
    """
    chargers = tuple(chargers)
    check_unique_ids(chargers, limits)
    step = limits.current_step_a
    fallback = is_fallback(limits, grid)
    mode = MODE_FALLBACK if fallback else MODE_NORMAL
    setpoints: dict[str, float] = {}
    reasons: dict[str, str] = {}
    for charger in chargers:
        setpoints[charger.id] = 0.0
        reasons[charger.id] = why.INACTIVE
    active = [(index, charger) for index, charger in enumerate(chargers) if charger.active]

    if fallback:
        house = None
        room_a = limits.max_current_per_phase_a
        if not limits.fallback_power_w:
            for _, charger in active:
                reasons[charger.id] = why.FALLBACK_ZERO
            return Allocation(mode, setpoints, reasons, None, None)
    else:
        assert grid is not None
        house = house_current_a(grid, chargers)
        room_a = tuple(limit - load for limit, load in zip(limits.max_current_per_phase_a, house))

    # Constraint layout: grid phases, sub-circuit phases, unbalance pairs, power.
    codes: list[str] = [why.limited_by_phase(p) for p in range(3)]
    slack: list[int] = [units_down(room_a[p], step) for p in range(3)]
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
    power_cap_w = limits.max_power_w
    power_code = why.NETWORK_POWER
    if fallback:
        assert limits.fallback_power_w is not None
        if power_cap_w is None or limits.fallback_power_w < power_cap_w:
            power_cap_w = limits.fallback_power_w
            power_code = why.FALLBACK
    power_r: int | None = None
    if power_cap_w is not None:
        power_r = len(slack)
        codes.append(power_code)
        slack.append(units_down(power_cap_w / limits.nominal_voltage_v, step))

    # Per charger: the grid phases it loads and its terms in the constraints.
    rank = {charger_id: position for position, charger_id in enumerate(turn_order)}
    ids: list[str] = []
    drawn: list[tuple[int, ...]] = []
    mins: list[int] = []
    maxs: list[int] = []
    terms: list[list[tuple[int, int]]] = []
    priorities: list[int] = []
    sort_keys: list[tuple[int, int, int]] = []
    for index, charger in active:
        phases = drawn_grid_phases(charger)
        if house is not None:
            over = [p for p in phases if house[p] > limits.max_current_per_phase_a[p]]
            if over:
                reasons[charger.id] = why.house_over_limit(over[0])
                continue
        low, high = units_up(charger.min_current_a, step), units_down(charger.max_current_a, step)
        if high < low:
            # Rounding the minimum up would exceed the maximum: no safe setpoint exists.
            reasons[charger.id] = why.NO_VALID_SETPOINT
            continue
        charger_terms = [(p, 1) for p in phases]
        if charger.sub_circuit is not None:
            base = circuit_base[charger.sub_circuit]
            charger_terms.extend((base + p, 1) for p in phases)
        for high_p, low_p, r in pairs:
            coefficient = (high_p in phases) - (low_p in phases)
            if coefficient:
                charger_terms.append((r, coefficient))
        if power_r is not None:
            charger_terms.append((power_r, len(phases)))
        ids.append(charger.id)
        drawn.append(phases)
        mins.append(low)
        maxs.append(high)
        terms.append(charger_terms)
        priorities.append(charger.priority)
        sort_keys.append((-charger.priority, rank.get(charger.id, len(rank)), index))

    order = sorted(range(len(ids)), key=sort_keys.__getitem__)
    units = [0] * len(ids)
    base_slack = list(slack)
    slack_before_class: dict[int, list[int]] = {}
    refused_all: list[int] = []
    start = 0
    while start < len(order):
        end = start
        while end < len(order) and priorities[order[end]] == priorities[order[start]]:
            end += 1
        members = order[start:end]
        slack_before_class[priorities[order[start]]] = list(slack)
        admitted, refused = admit(members, mins, terms, slack)
        water_fill(admitted, mins, maxs, terms, slack, units)
        top_up(admitted, maxs, terms, slack, units, recheck_all=bool(pairs))
        refused_all.extend(refused)
        start = end

    if pairs:
        # With an unbalance limit, load added later (a lower class on the
        # low phase) can make room for a charger that was stopped or refused
        # before; give each its chance, in priority order.
        while True:
            before = sum(units)
            late, refused_all = admit(refused_all, mins, terms, slack)
            for i in late:
                units[i] = mins[i]
            top_up([i for i in order if units[i]], maxs, terms, slack, units, recheck_all=True)
            if sum(units) == before:
                break

    refused_set = set(refused_all)
    for i in order:
        charger_id = ids[i]
        if i in refused_set:
            blocking = first_blocking(terms[i], mins[i], base_slack)
            if blocking is not None:
                reasons[charger_id] = codes[blocking]
            elif first_blocking(terms[i], mins[i], slack_before_class[priorities[i]]) is not None:
                reasons[charger_id] = why.PRIORITY
            else:
                reasons[charger_id] = why.WAITING_TURN
            continue
        setpoints[charger_id] = _amps(units[i], step)
        if units[i] >= maxs[i]:
            reasons[charger_id] = why.AT_MAX
        else:
            blocking = first_blocking(terms[i], 1, slack)
            reasons[charger_id] = codes[blocking] if blocking is not None else why.AT_MAX

    headroom = None
    if house is not None:
        load_a = [0.0, 0.0, 0.0]
        for i in order:
            for p in drawn[i]:
                load_a[p] += units[i] * step
        headroom = tuple(round(room_a[p] - load_a[p], 6) for p in range(3))
        house = tuple(round(h, 6) for h in house)
    return Allocation(mode, setpoints, reasons, headroom, house)  # type: ignore[arg-type]
