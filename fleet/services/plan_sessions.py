"""The sessions a network's installed chargers actually served, read back from stored telemetry.

Telemetry records what each charger drew, not when a car was plugged in: a
session here is a run of samples in which the charger drew (above the
engine's 1 A "drawing" threshold), with pauses shorter than `PAUSE_MERGE_S`
(waiting for its turn, a full fuse) inside the same session. Arrival is the
first drawing sample, departure the last one plus one sample interval and
`DEPARTURE_SLACK`, the energy the integral of the current over the run. A car
that stayed plugged in longer after it was full leaves earlier in the replay
than in reality: recorded sessions are a conservative view of the existing chargers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from balancing.phases import DRAWING_THRESHOLD_A
from planning import Session

from fleet.models import ChargingNetwork, TelemetryHistory

PAUSE_MERGE_S = 1800
"""A pause up to half an hour (turns, a full fuse) is the same car; longer means it left."""

DEPARTURE_SLACK = timedelta(minutes=15)
"""Cars stay a while after their last drawing sample; without slack a replay that ramps up a minute
later than the recording (pacing at coarse steps) would call every recorded session incomplete.
Below half of `PAUSE_MERGE_S`, so a charger's sessions never overlap."""

MAX_SAMPLE_GAP_S = 300
"""Energy is integrated over gaps up to one rollup interval; a longer gap (gateway offline) adds none."""


@dataclass
class _Run:
    first: datetime
    last: datetime
    energy_wh: float
    phases: int
    peak_a: float


def plan_recorded_sessions(network: ChargingNetwork, start: datetime, end: datetime) -> list[Session]:
    """Per installed charger (by name), the sessions it served within [start, end), in arrival order."""
    names = {str(pk): (name, max_a) for pk, name, max_a in network.chargers.values_list("pk", "name", "max_current_a")}
    voltage_v = float(network.nominal_voltage_v)
    rows = TelemetryHistory.objects.filter(network=network, ts__gte=start, ts__lt=end).order_by("ts")
    open_runs: dict[str, _Run] = {}
    sessions: list[Session] = []
    previous_ts: datetime | None = None
    step = timedelta(seconds=60)
    for ts, resolution_s, chargers in rows.values_list("ts", "resolution_s", "chargers").iterator(chunk_size=10_000):
        gap_s = 0.0 if previous_ts is None else (ts - previous_ts).total_seconds()
        if resolution_s:
            step = timedelta(seconds=resolution_s)
        elif 0 < gap_s <= MAX_SAMPLE_GAP_S:
            step = timedelta(seconds=gap_s)
        for key, values in (chargers or {}).items():
            if key not in names or not isinstance(values, dict) or not values.get("current_a"):
                continue
            current_a = [float(c or 0.0) for c in values["current_a"]]
            drawing = [c for c in current_a if c > DRAWING_THRESHOLD_A]
            run = open_runs.get(key)
            if run is not None and (ts - run.last).total_seconds() > PAUSE_MERGE_S:
                sessions.append(_session(names[key], open_runs.pop(key), step, end))
                run = None
            if not drawing:
                continue
            if run is None:
                run = open_runs[key] = _Run(ts, ts, 0.0, 0, 0.0)
            run.energy_wh += sum(drawing) * voltage_v * min(step.total_seconds(), MAX_SAMPLE_GAP_S) / 3600
            run.last, run.phases, run.peak_a = ts, max(run.phases, len(drawing)), max(run.peak_a, max(drawing))
        previous_ts = ts
    sessions.extend(_session(names[key], run, step, end) for key, run in open_runs.items())
    return sorted(sessions, key=lambda s: (s.arrival, s.charger))


def _session(charger: tuple[str, int], run: _Run, step: timedelta, end: datetime) -> Session:
    name, max_current_a = charger
    return Session(
        charger=name,
        arrival=run.first,
        departure=min(run.last + step + DEPARTURE_SLACK, end),
        energy_wh=round(run.energy_wh, 1),
        vehicle_phases=max(1, min(run.phases, 3)),
        vehicle_max_current_a=min(float(max_current_a), float(round(run.peak_a + 0.5))),
    )
