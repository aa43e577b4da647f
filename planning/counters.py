"""What the managed replay counts step by step about the network: peaks, headroom, limits that bound."""

from __future__ import annotations

import math

# Float sums of amps: a phase counts as over its fuse only beyond this.
OVER_TOLERANCE_A = 1e-6
CONTROLLER_CODES = frozenset({"paced_increase", "resume_pending"})
"""Codes of the controller's own holding back; every other code is a limit of the installation."""


class NetworkCounters:
    """Running totals over the steps of one replay (mutable on purpose: it lives for one replay)."""

    def __init__(self, fuse_a: tuple[float, float, float], power_cap_w: float | None) -> None:
        self.fuse_a = fuse_a
        self.power_cap_w = power_cap_w
        self.steps = 0
        self.limited_steps = 0
        self.bound_steps: dict[str, int] = {}
        self.peak_a = [-math.inf] * 3
        self.peak_power_w = 0.0
        self.headroom_sum_a = [0.0, 0.0, 0.0]
        self.min_headroom_a = [math.inf] * 3
        self.over_limit_steps = 0
        self.house_over_steps = 0

    def add(self, house_a, load_a, power_w: float, bound) -> None:
        """One step: house load and chargers' load per grid phase, chargers' power, the codes that held vehicles back."""
        self.steps += 1
        over = self.power_cap_w is not None and power_w > self.power_cap_w + 1e-6
        house_over = False
        for p in range(3):
            current = house_a[p] + load_a[p]
            if current > self.peak_a[p]:
                self.peak_a[p] = current
            headroom = self.fuse_a[p] - current
            self.headroom_sum_a[p] += headroom
            if headroom < self.min_headroom_a[p]:
                self.min_headroom_a[p] = headroom
            if house_a[p] > self.fuse_a[p]:
                # The house alone is over: the chargers' promise is to add nothing here.
                house_over = True
                over = over or load_a[p] > 0
            elif headroom < -OVER_TOLERANCE_A:
                over = True
        if power_w > self.peak_power_w:
            self.peak_power_w = power_w
        self.over_limit_steps += over
        self.house_over_steps += house_over
        if bound:
            if not bound <= CONTROLLER_CODES:
                self.limited_steps += 1
            for code in bound:
                self.bound_steps[code] = self.bound_steps.get(code, 0) + 1
