"""The site chart's longer ranges: samples averaged into buckets in SQL, in the live JSON's column layout.

The 10 min and 1 h ranges are the live poll's own window (one sample a
second). A day or a week would be 86,400 or 604,800 samples per network, so
those ranges ask the database for bucket means instead, with the same
bucketing as the telemetry API (`fleet.api.downsampling`): one query per site
however many networks and chargers it has.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Avg, F

from fleet.api.downsampling import JsonNumber, downsample_samples
from fleet.dashboard.live import charger_ids_per_network
from fleet.models import Site, TelemetryHistory

RANGES: dict[str, tuple[int, int | None]] = {
    "10m": (600, None),
    "1h": (3600, None),
    "24h": (86_400, 60),
    "7d": (7 * 86_400, 600),
}
"""Each range of the chart: its span in seconds and its bucket width (None: every sample, from the live poll)."""


def site_history(site: Site, now: datetime, range_key: str) -> dict:
    """Bucket means of the site's networks over a long range: times (bucket starts, epoch ms), grid per phase,
    whether the network ran mostly on its fallback, and per charger its highest mean phase current and mean setpoint."""
    span_s, resolution_s = RANGES[range_key]
    if resolution_s is None:
        raise ValueError(f"{range_key} is served by the live poll")
    chargers = charger_ids_per_network(site)
    means = {}
    for keys in chargers.values():
        for key in keys:
            means[f"c{key}_l1"] = Avg(JsonNumber(F("chargers"), key, "current_a", 0))
            means[f"c{key}_l2"] = Avg(JsonNumber(F("chargers"), key, "current_a", 1))
            means[f"c{key}_l3"] = Avg(JsonNumber(F("chargers"), key, "current_a", 2))
            means[f"c{key}_sp"] = Avg(JsonNumber(F("chargers"), key, "setpoint_a"))
    samples = TelemetryHistory.objects.filter(network__site=site, ts__gte=now - timedelta(seconds=span_s), ts__lte=now)
    rows = downsample_samples(samples, resolution_s).annotate(**means)
    series = {
        network_id: {"t": [], "grid_a": [[], [], []], "fallback": [], "chargers": {k: {"current_a": [], "setpoint_a": []} for k in keys}}
        for network_id, keys in chargers.items()
    }
    for row in rows:
        network = series.get(row["network"])
        if network is None:
            continue
        network["t"].append(row["bucket_epoch_s"] * 1000)
        for phase in range(3):
            network["grid_a"][phase].append(_round(row[f"avg_grid_l{phase + 1}_a"]))
        network["fallback"].append((row["fallback_share"] or 0) >= 0.5)
        for key, values in network["chargers"].items():
            phases = [row.get(f"c{key}_l{phase}") for phase in (1, 2, 3)]
            peak = max((value for value in phases if value is not None), default=None)
            values["current_a"].append(_round(peak))
            values["setpoint_a"].append(_round(row.get(f"c{key}_sp")))
    return {"range": range_key, "window_s": span_s, "resolution_s": resolution_s, "networks": series}


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)
