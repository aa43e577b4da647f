"""The grid meter as the regulation loop sees it: a fresh measurement in grid phase order, or none.

Decides when the meter counts as lost: at once on a failed read (the house
load may be rising unseen, so the loop must not regulate on an old value), or
when every value of the reading stayed exactly the same for `frozen_after_s`
seconds (frozen data from a hung meter or datalogger; a live grid's voltages
and frequency never hold still to the last digit for long). The rule counts
time, not reads: a real meter refreshes its registers about once a second, so
at a 0.25 s poll four identical reads in a row are normal. It
reports each edge once, and maps the meter's phases onto grid phases by its
phase rotation. Currents come from meters as RMS magnitudes; the sign of each
phase's active power gives them direction (export is negative) where the
meter measures it, otherwise they count as import, the safe assumption.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

from balancing.phases import grid_phase
from meters import MeterError, MeterReading

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class GridReading:
    """Grid currents L1..L3 (A, negative = export) and how the meter produced them."""

    current_a: tuple[float, float, float]
    monotonic_s: float
    reading: MeterReading


@dataclass(frozen=True)
class MeterEdge:
    """A change of the meter's availability, for telemetry and the log."""

    type: str  # "meter_lost" | "meter_restored"
    detail: str


def to_grid_phases(values: tuple, rotation: str) -> tuple:
    """Reorder per-phase values from the meter's phases 1..3 to grid L1..L3."""
    grid = [None, None, None]
    for meter_phase, value in enumerate(values):
        grid[grid_phase(rotation, meter_phase)] = value
    return tuple(grid)


def signed_currents(reading: MeterReading) -> tuple[float, float, float]:
    """Per-phase current with the direction of that phase's active power."""
    currents = reading.current_a
    if currents is None or any(value is None or not math.isfinite(value) for value in currents):
        raise ValueError("the meter gives no current for every phase")
    powers = reading.power_w or (None, None, None)
    signed = []
    for current, power in zip(currents, powers):
        magnitude = abs(current)
        signed.append(-magnitude if power is not None and power < 0 else magnitude)
    return tuple(signed)


class MeterWatch:
    """Tracks one meter's freshness across cycles and turns reads into grid measurements or None."""

    def __init__(self, phase_rotation: str, frozen_after_s: float):
        self.phase_rotation = phase_rotation
        self.frozen_after_s = frozen_after_s
        self.available = True  # optimistic at start: the first failure reports the loss
        self._last_values: tuple | None = None
        self._values_since_s = 0.0
        """Monotonic time of the first read that showed `_last_values`."""
        self.last_reason = ""

    def observe(self, outcome: MeterReading | BaseException) -> tuple[GridReading | None, MeterEdge | None]:
        """Digest one read attempt: the measurement to regulate with (None: fallback) and an edge if one happened."""
        grid, reason = self._judge(outcome)
        edge = None
        if grid is None and self.available:
            self.available = False
            self.last_reason = reason
            log.warning("grid meter lost: %s", reason)
            edge = MeterEdge("meter_lost", reason)
        elif grid is not None and not self.available:
            self.available = True
            log.info("grid meter restored after: %s", self.last_reason)
            edge = MeterEdge("meter_restored", f"readings again after: {self.last_reason}")
        return grid, edge

    def _judge(self, outcome) -> tuple[GridReading | None, str]:
        if isinstance(outcome, MeterError):
            self._last_values = None
            return None, f"{type(outcome).__name__}: {outcome}"
        if isinstance(outcome, BaseException):
            self._last_values = None
            return None, f"unexpected {type(outcome).__name__}: {outcome}"
        try:
            current_a = to_grid_phases(signed_currents(outcome), self.phase_rotation)
        except ValueError as problem:
            return None, str(problem)
        values = (outcome.current_a, outcome.voltage_v, outcome.power_w, outcome.power_total_w,
                  outcome.energy_import_wh, outcome.energy_export_wh, outcome.frequency_hz)
        if values != self._last_values:
            self._last_values = values
            self._values_since_s = outcome.monotonic_s
        unchanged_s = outcome.monotonic_s - self._values_since_s
        if unchanged_s >= self.frozen_after_s:
            return None, f"values unchanged for {unchanged_s:.1f} s (frozen meter data)"
        return GridReading(current_a, outcome.monotonic_s, outcome), ""
