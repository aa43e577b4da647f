"""Consistency checks between a charging network's limits and its chargers."""

from collections.abc import Iterable
from dataclasses import dataclass

from balancing import DEFAULT_MIN_CURRENT_A


@dataclass(frozen=True)
class ChargerMinimum:
    """The least a charger needs to charge at all: its minimum current on all its wired phases."""

    name: str
    min_current_a: int
    phases: int

    def power_w(self, nominal_voltage_v: int) -> int:
        """Power at the minimum current, counted on every wired phase (the worst case)."""
        return self.min_current_a * self.phases * nominal_voltage_v


def network_fallback_error(
    fallback_power_w: int | None, nominal_voltage_v: int, chargers: Iterable[ChargerMinimum]
) -> str | None:
    """Explain why a positive fallback power cannot run any charger, or return None when it can.

    A fallback below every charger's minimum would look like "keep charging" in
    the configuration while in fact every charger stays paused; operators must
    choose 0 (stop) or a power that lets at least one charger run.
    """
    if not fallback_power_w:
        return None
    minimums = list(chargers) or [ChargerMinimum("a 1-phase charger", DEFAULT_MIN_CURRENT_A, 1)]
    smallest = min(minimums, key=lambda charger: charger.power_w(nominal_voltage_v))
    needed_w = smallest.power_w(nominal_voltage_v)
    if fallback_power_w >= needed_w:
        return None
    return (
        f"Fallback power {fallback_power_w} W cannot run any charger: the smallest need is {needed_w} W "
        f"({smallest.name}: {smallest.min_current_a} A x {smallest.phases} phase(s) x {nominal_voltage_v} V). "
        f"Enter 0 or leave it empty to stop charging while the meter cannot be read, or at least {needed_w} W."
    )
