"""The JSON the site page polls: the latest states, and the samples stored since the page's cursor.

Column-oriented so that the page's script hands the numbers to the chart as
they are, without reshaping every sample.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from gateways.protocol.telemetry import FUTURE_WINDOW

from fleet.dashboard.incidents import site_incidents
from fleet.dashboard.selectors import NetworkPanel, site_detail
from fleet.models import Charger, Site, TelemetryEvent, TelemetrySample
from fleet.services.power_cap_history import cap_intervals

LIVE_WINDOW_S = 600
"""How far back the site chart reaches when it first loads."""
MAX_LIVE_WINDOW_S = 3600
MAX_LIVE_ROWS = 5000
"""Most samples one poll returns; at one sample per second and network this is over an hour of one network."""



def _peak(values) -> float | None:
    """A charger's highest phase current: the one its setpoint caps."""
    numbers = [v for v in values or () if isinstance(v, int | float)]
    return max(numbers) if numbers else None


def site_samples(site: Site, now: datetime, window_s: int = LIVE_WINDOW_S, after_id: int | None = None) -> dict:
    """The site's samples of the last `window_s` seconds (only those stored after `after_id`, when given), per network.

    Column-oriented so that the chart can append them as they are: times in
    epoch milliseconds, grid current per phase, whether the network ran on its
    fallback, and per charger (keyed by its id) the highest phase current and
    the setpoint. `last_id` is the cursor for the next poll; ids grow with
    storage order, so samples a gateway uploads late from its buffer still
    arrive on the next poll.
    """
    window_s = max(10, min(int(window_s), MAX_LIVE_WINDOW_S))
    # The upper bound is the newest time the server accepts: it changes no answer, and lets PostgreSQL
    # skip the day partitions created ahead.
    samples = TelemetrySample.objects.filter(
        network__site=site, ts__gte=now - timedelta(seconds=window_s), ts__lte=now + FUTURE_WINDOW
    )
    if after_id is not None:
        samples = samples.filter(id__gt=after_id)
    rows = list(
        samples.order_by("-id").values_list("id", "network_id", "ts", "mode", "grid_l1_a", "grid_l2_a", "grid_l3_a", "chargers")[
            :MAX_LIVE_ROWS
        ]
    )
    rows.sort(key=lambda row: (row[2], row[0]))
    charger_ids = charger_ids_per_network(site)
    series: dict[int, dict] = {
        network_id: {
            "t": [],
            "grid_a": [[], [], []],
            "fallback": [],
            "chargers": {key: {"current_a": [], "setpoint_a": []} for key in keys},
        }
        for network_id, keys in charger_ids.items()
    }
    for _, network_id, ts, mode, l1, l2, l3, chargers in rows:
        network = series.get(network_id)
        if network is None:
            continue
        network["t"].append(int(ts.timestamp() * 1000))
        for phase, value in enumerate((l1, l2, l3)):
            network["grid_a"][phase].append(value)
        network["fallback"].append(mode == "fallback")
        for key, values in network["chargers"].items():
            reported = (chargers or {}).get(key) or {}
            values["current_a"].append(_peak(reported.get("current_a")))
            values["setpoint_a"].append(reported.get("setpoint_a"))
    return {"last_id": max((row[0] for row in rows), default=after_id), "window_s": window_s, "networks": series}


def charger_ids_per_network(site: Site) -> dict[int, list[str]]:
    """Each of the site's networks with its chargers' ids as the samples key them (strings), in one query."""
    ids: dict[int, list[int]] = {pk: [] for pk in site.networks.values_list("pk", flat=True)}
    for network_id, charger_id in Charger.objects.filter(network__site=site).values_list("network_id", "pk"):
        ids[network_id].append(str(charger_id))
    return ids


def site_live(site: Site, user, now: datetime, window_s: int = LIVE_WINDOW_S, after_id: int | None = None) -> dict:
    """The JSON the site page polls: the site's state and open incidents, each network's latest state and chargers, and new samples."""
    detail = site_detail(site, now)
    spans = cap_spans(site, now, window_s)
    return {
        "now": now.isoformat(),
        "site": {"id": site.pk, "status": detail.status.value, "status_label": detail.status.label},
        "incidents": [row.as_json() for row in site_incidents(site, user, now)],
        "networks": [{**_network_json(panel), "cap_spans": spans.get(panel.id, [])} for panel in detail.networks],
        "samples": site_samples(site, now, window_s, after_id),
    }


def cap_spans(site: Site, now: datetime, window_s: int = LIVE_WINDOW_S) -> dict[int, list[list]]:
    """Per network, the periods an external cap (dimming, operator, schedule) held within the window, for shading.

    Each span is [start, end] in epoch milliseconds, end null while the cap
    holds; one query for the whole site.
    """
    window_s = max(10, min(int(window_s), MAX_LIVE_WINDOW_S))
    spans: dict[int, list[list]] = {}
    events = TelemetryEvent.objects.filter(network__site=site)
    for interval in cap_intervals(events, now - timedelta(seconds=window_s), now + timedelta(days=1)):
        end_ms = None if interval.end is None else int(interval.end.timestamp() * 1000)
        spans.setdefault(interval.network_id, []).append([int(interval.start.timestamp() * 1000), end_ms])
    return spans


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _network_json(panel: NetworkPanel) -> dict:
    meter = panel.meter
    return {
        "id": panel.id,
        "name": panel.name,
        "limit_a": panel.max_current_per_phase_a,
        "status": panel.status.value,
        "status_label": panel.status.label,
        "mode": panel.mode,
        "grid_current_a": panel.grid_current_a,
        "sample_ts": _iso(panel.sample_ts),
        "grid_stale": panel.grid_stale,
        "grid_age": panel.grid_age,
        "meter": None
        if meter is None
        else {
            "available": meter.available,
            "last_reading_at": _iso(meter.last_reading_at),
            "lost_since": _iso(meter.lost_since),
            "detail": meter.detail,
        },
        "chargers": [
            {
                "id": row.id,
                "name": row.name,
                "available": row.available,
                "setpoint_a": row.setpoint_a,
                "current_a": row.current_a,
                "reason": row.reason,
                "reason_text": row.reason_text,
                "sample_ts": _iso(row.sample_ts),
                "stale": row.stale,
                "age": row.age,
            }
            for row in panel.chargers
        ],
    }
