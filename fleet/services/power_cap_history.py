"""The record of the caps a network was held to, built from the gateway's cap events.

The gateway reports each start and end of an external cap as an event
(`power_cap_started` / `power_cap_ended`, the subject naming the source, the
detail starting with the power in whole watts; see
`gateways.external_caps`). What the grid operator wants to see is intervals:
this source held the chargers to this power from then to then. A start for a
source already in force (a new power or a new cause, such as the control box
input becoming unreadable) closes the previous interval and opens the next.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from fleet.models import ChargingNetwork, TelemetryEvent

CAP_STARTED = "power_cap_started"
CAP_ENDED = "power_cap_ended"
_POWER = re.compile(r"^(\d+) W")


@dataclass(frozen=True)
class CapInterval:
    """One source holding a network's chargers to one power, from `start` to `end` (None: still in force)."""

    network_id: int
    source: str
    power_w: int | None
    start: datetime
    end: datetime | None
    detail: str


def power_cap_history(network: ChargingNetwork, start: datetime, end: datetime) -> list[CapInterval]:
    """The cap intervals of `network` that overlap [start, end), oldest first."""
    return cap_intervals(TelemetryEvent.objects.filter(network=network), start, end)


def cap_intervals(events, start: datetime, end: datetime) -> list[CapInterval]:
    """The cap intervals in `events` (a TelemetryEvent queryset, any networks) that overlap [start, end), in one query."""
    rows = (
        events.filter(type__in=(CAP_STARTED, CAP_ENDED), ts__lt=end, network__isnull=False)
        .order_by("ts", "gateway_id", "seq")
        .values_list("network_id", "type", "subject", "ts", "detail")
    )
    open_caps: dict[tuple[int, str], tuple[datetime, str]] = {}
    intervals: list[CapInterval] = []

    def close(key: tuple[int, str], at: datetime | None) -> None:
        opened_at, detail = open_caps.pop(key)
        match = _POWER.match(detail)
        intervals.append(CapInterval(key[0], key[1], int(match.group(1)) if match else None, opened_at, at, detail))

    for network_id, type_, source, ts, detail in rows.iterator():
        key = (network_id, source)
        if key in open_caps:
            close(key, ts)
        if type_ == CAP_STARTED:
            open_caps[key] = (ts, detail)
    for key in list(open_caps):
        close(key, None)
    overlapping = [i for i in intervals if i.end is None or i.end > start]
    return sorted(overlapping, key=lambda i: (i.start, i.network_id, i.source))
