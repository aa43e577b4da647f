"""A network's recorded house load as the planner wants it: grid minus chargers, per-interval maxima, no gaps.

Raw samples (one per regulation cycle) become one-minute intervals; a window
that reaches back into the retention job's 5-minute rollups (`TelemetryHistory` holds both) is planned at 5
minutes throughout, since one series has one resolution. Each sample's house
load is computed first (grid minus each charger on its own grid phases, the
regulation loop's rule, `planning.house`), then each interval keeps its
maximum: the difference of two maxima is not the maximum of the difference,
and a mean hides the peaks a fuse sees. The retention job's rows hold means,
so an old window is somewhat kinder to the fuse than the raw one was.

Intervals without a usable sample (gateway offline, meter lost, fallback)
carry the last recorded interval forward, as the planner needs a meter that
is never lost; the share of such intervals is reported with the load.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from balancing import ScenarioError
from planning import HouseLoad
from planning.house import house_current_a

from fleet.models import Charger, ChargingNetwork, TelemetryHistory

RAW_RESOLUTION_S = 60
"""Raw samples are planned per minute: fine enough for the fuse, 43,200 steps for 30 days."""

_UNKNOWN_CHARGER = ("L1L2L3", 3)
"""A charger no longer configured: its current is taken off the grid phases in order (its own phase order)."""


@dataclass(frozen=True)
class RecordedLoad:
    """The house load series and how much of it was recorded rather than carried forward."""

    load: HouseLoad
    samples_used: int
    intervals_recorded: int
    intervals_filled: int

    def to_dict(self) -> dict:
        """What the plan's result says about its input."""
        return {
            "start": self.load.start.isoformat(),
            "resolution_s": self.load.resolution_s,
            "intervals": len(self.load.house_current_a),
            "samples_used": self.samples_used,
            "intervals_recorded": self.intervals_recorded,
            "intervals_filled": self.intervals_filled,
        }


def plan_house_load(network: ChargingNetwork, start: datetime, end: datetime) -> RecordedLoad:
    """The house load of `network` over [start, end), in the site's time zone; ScenarioError("from") without data."""
    rows = TelemetryHistory.objects.filter(network=network, ts__gte=start, ts__lt=end)
    coarsest_s = max(rows.order_by("-resolution_s").values_list("resolution_s", flat=True)[:1] or [0])
    resolution_s = max(RAW_RESOLUTION_S, int(coarsest_s))
    first_s = int(start.timestamp()) // resolution_s * resolution_s
    count = math.ceil((end.timestamp() - first_s) / resolution_s)
    wiring = {str(pk): (rotation, phases) for pk, rotation, phases in
              Charger.objects.filter(network=network).values_list("pk", "phase_rotation", "phases")}
    maxima: list[list[float] | None] = [None] * count
    used = 0
    columns = ("ts", "grid_l1_a", "grid_l2_a", "grid_l3_a", "chargers")
    for ts, l1, l2, l3, chargers in rows.order_by("ts").values_list(*columns).iterator(chunk_size=10_000):
        if l1 is None or l2 is None or l3 is None:
            continue  # no meter reading (fallback): not a house load, the gap is filled below
        house = house_current_a((l1, l2, l3), _drawing(chargers or {}, wiring))
        index = (int(ts.timestamp()) - first_s) // resolution_s
        current = maxima[index]
        maxima[index] = list(house) if current is None else [max(a, b) for a, b in zip(current, house)]
        used += 1
    recorded = sum(sample is not None for sample in maxima)
    if not recorded:
        raise ScenarioError("from", f"no grid readings of this network between {start.isoformat()} and {end.isoformat()}")
    series = _carried_forward(maxima)
    zone = ZoneInfo(network.site.time_zone or "UTC")
    load = HouseLoad(datetime.fromtimestamp(first_s, tz=UTC).astimezone(zone), resolution_s, series)
    return RecordedLoad(load, used, recorded, count - recorded)


def _drawing(chargers: dict, wiring: dict[str, tuple[str, int]]) -> list[tuple[str, int, list[float]]]:
    """(rotation, phases, current_a) of every charger in a sample that reported its current."""
    drawing = []
    for charger_id, values in chargers.items():
        current_a = values.get("current_a") if isinstance(values, dict) else None
        if not current_a:
            continue
        rotation, phases = wiring.get(charger_id, _UNKNOWN_CHARGER)
        drawing.append((rotation, min(phases, len(current_a)), [float(c or 0.0) for c in current_a]))
    return drawing


def _carried_forward(maxima: list[list[float] | None]) -> tuple[tuple[float, float, float], ...]:
    """Each empty interval takes the last recorded one (the first recorded one before any)."""
    last = next(sample for sample in maxima if sample is not None)
    series = []
    for sample in maxima:
        last = sample if sample is not None else last
        series.append((round(last[0], 3), round(last[1], 3), round(last[2], 3)))
    return tuple(series)


def default_window(now: datetime, days: int = 30) -> tuple[datetime, datetime]:
    """The window a plan covers unless told otherwise: the last `days` whole days up to now."""
    end = now.replace(second=0, microsecond=0)
    return end - timedelta(days=days), end
