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
    """One source holding the network's chargers to one power, from `start` to `end` (None: still in force)."""

    source: str
    power_w: int | None
    start: datetime
    end: datetime | None
    detail: str


def power_cap_history(network: ChargingNetwork, start: datetime, end: datetime) -> list[CapInterval]:
    """The cap intervals of `network` that overlap [start, end), oldest first."""
    events = (
        TelemetryEvent.objects.filter(network=network, type__in=(CAP_STARTED, CAP_ENDED), ts__lt=end)
        .order_by("ts", "gateway_id", "seq")
        .values_list("type", "subject", "ts", "detail")
    )
    open_by_source: dict[str, tuple[datetime, str]] = {}
    intervals: list[CapInterval] = []

    def close(source: str, at: datetime | None) -> None:
        opened_at, detail = open_by_source.pop(source)
        match = _POWER.match(detail)
        intervals.append(CapInterval(source, int(match.group(1)) if match else None, opened_at, at, detail))

    for type_, source, ts, detail in events.iterator():
        if source in open_by_source:
            close(source, ts)
        if type_ == CAP_STARTED:
            open_by_source[source] = (ts, detail)
    for source in list(open_by_source):
        close(source, None)
    overlapping = [i for i in intervals if i.end is None or i.end > start]
    return sorted(overlapping, key=lambda i: (i.start, i.source))
