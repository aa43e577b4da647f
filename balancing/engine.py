"""The pure allocation: limits + grid measurement + charger states -> setpoints with reasons.

Order of work, which is also the order of precedence:
1. Fallback when the grid reading is missing or stale (house load unknown).
2. Chargers on a grid phase where the house alone (with the reserved
   current, ``phases.load_besides_chargers_a``) is over the limit: paused.
3. Constraints in whole setpoint steps: each grid phase (house load and
   reserved current taken out), each sub-circuit phase, the unbalance
   limit, one power budget per cap in force (reserved power taken out).
4. Priority classes, highest first. In a class, chargers get their minimum
   in turn order while it fits (the rest wait); then all rise together
   (equal amps) until their maximum or a binding constraint; the steps left
   over are handed out one by one. A lower class only gets what is left.
5. Every setpoint gets the code of what stops it from being higher.
"""

from __future__ import annotations

from collections.abc import Sequence

from . import reasons as why
from .constraints import build_constraints, units_down, units_up
from .errors import ScenarioError
from .filling import admit, first_blocking, top_up, water_fill
from .model import (
    MODE_FALLBACK,
    MODE_NORMAL,
    Allocation,
    ChargerState,
    GridMeasurement,
    NetworkLimits,
    Phases3,
    Reservation,
    check_chargers,
)
from .phases import chargers_current_a, drawn_grid_phases, load_besides_chargers_a


def is_fallback(limits: NetworkLimits, grid: GridMeasurement | None) -> bool:
    """Whether this cycle runs without a usable grid reading (missing or too old)."""
    return grid is None or grid.age_s > limits.max_measurement_age_s


def _amps(units: int, step: float) -> float:
    return round(units * step, 6)


def _less(minuend: Phases3, subtrahend: Phases3) -> Phases3:
    """Per grid phase, one triple less the other."""
    return (minuend[0] - subtrahend[0], minuend[1] - subtrahend[1], minuend[2] - subtrahend[2])


def _reserved(limits: NetworkLimits, reserved: Reservation | None) -> tuple[Phases3, float]:
    """The reserved current per grid phase and its power (nothing reserved without a reservation)."""
    if reserved is None:
        return (0.0, 0.0, 0.0), 0.0
    if not isinstance(reserved, Reservation):
        raise ScenarioError("reserved", "must be a Reservation or None")
    return reserved.current_a, reserved.power_w(limits.nominal_voltage_v)


def allocate(
    limits: NetworkLimits,
    grid: GridMeasurement | None,
    chargers: Sequence[ChargerState],
    *,
    turn_order: Sequence[str] = (),
    reserved: Reservation | None = None,
) -> Allocation:
    """Setpoints for every charger that keep the house connection within its limits.

    ``turn_order`` lists charger ids to serve first within their priority
    class, in that order (the Controller's queue); the others follow in input
    order. ``reserved`` is current kept free for load the engine cannot set
    (chargers the gateway cannot reach): off every grid phase and, as power,
    off every power cap, in normal and fallback mode. Pure: same input, same
    output.
    """
    chargers = tuple(chargers)
    check_chargers(chargers, limits)
    reserved_a, reserved_w = _reserved(limits, reserved)
    step = limits.current_step_a
    fallback = is_fallback(limits, grid)
    mode = MODE_FALLBACK if fallback else MODE_NORMAL
    setpoints: dict[str, float] = {}
    reasons: dict[str, str] = {}
    for charger in chargers:
        setpoints[charger.id] = 0.0
        reasons[charger.id] = why.INACTIVE
    active = [(index, charger) for index, charger in enumerate(chargers) if charger.active]

    limit_a = limits.max_current_per_phase_a
    if fallback:
        house = None
        # The per-phase limit then bounds the chargers' own current, reserved included.
        room_a = _less(limit_a, reserved_a)
        if (limits.fallback_power_w or 0.0) - reserved_w <= 0:
            for _, charger in active:
                reasons[charger.id] = why.FALLBACK_ZERO
            return Allocation(mode, setpoints, reasons, None, None)
        over_limit = (False, False, False)
    else:
        assert grid is not None
        own_a = chargers_current_a(chargers)
        house = load_besides_chargers_a(grid.current_a, own_a)
        besides_a = house if reserved is None else load_besides_chargers_a(grid.current_a, own_a, reserved_a)
        room_a = _less(limit_a, besides_a)
        # Grid phases where the house alone (with the reserved current) is over the limit.
        over_limit = (room_a[0] < 0, room_a[1] < 0, room_a[2] < 0)

    constraints = build_constraints(limits, room_a, fallback, reserved_w)
    codes, slack = constraints.codes, constraints.slack

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
        over = [p for p in phases if over_limit[p]]
        if over:
            reasons[charger.id] = why.house_over_limit(over[0])
            continue
        low, high = units_up(charger.min_current_a, step), units_down(charger.max_current_a, step)
        if high < low:
            # Rounding the minimum up would exceed the maximum: no safe setpoint exists.
            reasons[charger.id] = why.NO_VALID_SETPOINT
            continue
        charger_terms = constraints.terms(phases, charger.sub_circuit)
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
    class_count = 0
    while start < len(order):
        class_count += 1
        end = start
        while end < len(order) and priorities[order[end]] == priorities[order[start]]:
            end += 1
        members = order[start:end]
        slack_before_class[priorities[order[start]]] = list(slack)
        admitted, refused = admit(members, mins, terms, slack)
        water_fill(admitted, mins, maxs, terms, slack, units)
        top_up(admitted, maxs, terms, slack, units)
        refused_all.extend(refused)
        start = end

    if constraints.pairs:
        # With an unbalance limit, load added later (a lower class on the
        # low phase) can make room for a charger that was stopped or refused
        # before; give each its chance, in priority order.
        dirty = class_count > 1
        while True:
            late, refused_all = admit(refused_all, mins, terms, slack)
            for i in late:
                units[i] = mins[i]
            if not (late or dirty):
                break
            before = sum(units)
            top_up([i for i in order if units[i]], maxs, terms, slack, units)
            dirty = sum(units) != before

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
