"""Progressive filling over integer linear constraints: the arithmetic core of the engine.

Everything here counts in whole setpoint steps (``units``), so that no float
rounding can ever push a sum past a limit. A constraint ``r`` is a slack (how
many more units-times-coefficient fit) and each charger ``i`` has ``terms[i]``,
the pairs ``(r, coefficient)`` it appears in. Coefficients are positive
(a phase, a power budget counting phases drawn) or, for the unbalance limit,
also negative (load on the low phase of a pair eases it).

Like evcc's circuit tree, an increase is clamped to the headroom of every
constraint the charger touches. Fairness comes from raising all rising
chargers together (equal amps), event by event, instead of one by one.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Sequence

Terms = Sequence[tuple[int, int]]


def first_blocking(terms: Terms, amount: int, slack: Sequence[int]) -> int | None:
    """The first constraint that cannot take ``amount`` more units of this charger, or None."""
    for r, a in terms:
        if a > 0 and a * amount > slack[r]:
            return r
    return None


def take(terms: Terms, amount: int, slack: list[int]) -> None:
    """Book ``amount`` units of a charger against every constraint it touches."""
    for r, a in terms:
        slack[r] -= a * amount


def admit(order: Iterable[int], mins: Sequence[int], terms: Sequence[Terms], slack: list[int]) -> tuple[list[int], list[int]]:
    """Give chargers their minimum in ``order`` while it fits; return (admitted, refused).

    A charger that does not fit is skipped, not a stop: a smaller or 1-phase
    charger further down may still fit on the capacity that is left.
    """
    admitted: list[int] = []
    refused: list[int] = []
    for i in order:
        if first_blocking(terms[i], mins[i], slack) is None:
            take(terms[i], mins[i], slack)
            admitted.append(i)
        else:
            refused.append(i)
    return admitted, refused


def water_fill(
    admitted: Sequence[int], mins: Sequence[int], maxs: Sequence[int], terms: Sequence[Terms], slack: list[int], units: list[int]
) -> None:
    """Raise admitted chargers (already booked at their minimum) to a common level.

    The level ``t`` rises; a charger rises with it once ``t`` reaches its own
    minimum and stops at its maximum or when a constraint it loads cannot take
    another step for every rising charger on it. Work is per event (a level
    where something changes), not per step, so 1000 chargers stay cheap.
    """
    for i in admitted:
        units[i] = mins[i]
    joins = sorted((i for i in admitted if mins[i] < maxs[i]), key=mins.__getitem__)
    if not joins:
        return
    count = len(slack)
    rate = [0] * count
    # dicts, not sets: insertion order keeps the result independent of hashing.
    rising_on: list[dict[int, None]] = [{} for _ in range(count)]
    rising: set[int] = set()
    at_max: list[tuple[int, int]] = []

    def freeze(i: int, level: int) -> None:
        rising.discard(i)
        units[i] = level
        for r, a in terms[i]:
            rate[r] -= a
            if a > 0:
                del rising_on[r][i]

    next_join = 0
    level = mins[joins[0]]
    while True:
        while next_join < len(joins) and mins[joins[next_join]] <= level:
            i = joins[next_join]
            next_join += 1
            rising.add(i)
            heapq.heappush(at_max, (maxs[i], i))
            for r, a in terms[i]:
                rate[r] += a
                if a > 0:
                    rising_on[r][i] = None
        while at_max and at_max[0][0] <= level:
            i = heapq.heappop(at_max)[1]
            if i in rising:
                freeze(i, level)
        # Freezing a charger with a negative coefficient raises another
        # constraint's rate, so settle until nothing binds any more.
        settled = False
        while not settled:
            settled = True
            for r in range(count):
                if rate[r] > 0 and slack[r] < rate[r]:
                    for i in list(rising_on[r]):
                        freeze(i, level)
                    settled = False
        if not rising:
            if next_join >= len(joins):
                return
            level = mins[joins[next_join]]
            continue
        while at_max[0][1] not in rising:
            heapq.heappop(at_max)
        target = at_max[0][0]
        if next_join < len(joins):
            target = min(target, mins[joins[next_join]])
        for r in range(count):
            if rate[r] > 0:
                target = min(target, level + slack[r] // rate[r])
        rise = target - level
        for r in range(count):
            if rate[r]:
                slack[r] -= rate[r] * rise
        level = target


def top_up(order: Sequence[int], maxs: Sequence[int], terms: Sequence[Terms], slack: list[int], units: list[int]) -> None:
    """Hand out the remainder one step per charger per round, in ``order``.

    Filling stops a group when a constraint cannot give every member another
    step; the few steps left would be wasted without this. A refused charger
    stays refused unless the constraint that refused it gained slack since,
    which only a charger with a negative coefficient on it (the unbalance
    limit) taking a step can cause; then it is asked again.
    """
    position = {i: k for k, i in enumerate(order)}
    candidates = [i for i in order if units[i] < maxs[i]]
    refused_by: dict[int, int] = {}
    while candidates:
        took: list[int] = []
        eased: set[int] = set()
        for i in candidates:
            charger_terms = terms[i]
            blocking = first_blocking(charger_terms, 1, slack)
            if blocking is not None:
                refused_by[i] = blocking
                continue
            for r, a in charger_terms:
                slack[r] -= a
                if a < 0:
                    eased.add(r)
            units[i] += 1
            if units[i] < maxs[i]:
                took.append(i)
        if eased:
            again = [i for i, r in refused_by.items() if r in eased]
            for i in again:
                del refused_by[i]
            took.extend(again)
            took.sort(key=position.__getitem__)
        candidates = took
