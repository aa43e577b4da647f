"""Turns cycles and edges into telemetry items in the on-disk buffer.

Items are built as the protocol's dataclasses and stored as their `to_dict()`,
the same form the server parses; texts are cut to the lengths the protocol
allows, so nothing the agent records is refused for its length.

Times are the gateway's wall clock in UTC. A gateway whose clock is not set yet
(a board without a battery-backed clock before NTP) stamps 1970; the server
re-stamps such items with its receive time (`gateways.protocol.telemetry_parse`),
so they are neither refused nor placed decades back.
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone

from gateways.buffer import TelemetryBuffer
from gateways.protocol.telemetry import (
    MAX_DETAIL_CHARS,
    MAX_REASON_CHARS,
    MAX_SUBJECT_CHARS,
    ChargerSample,
    TelemetryEvent,
    TelemetrySample,
)
from gateways.protocol.telemetry_parse import utc_text

log = logging.getLogger(__name__)

UNNUMBERED = 0
"""The seq of an item not stored yet; the buffer numbers it."""


def utc_timestamp() -> str:
    """Now in the wire's canonical form (UTC with a Z), to the millisecond."""
    now = datetime.now(timezone.utc)
    return utc_text(now.replace(microsecond=now.microsecond // 1000 * 1000))


def _rounded(values, digits: int = 3):
    return None if values is None else tuple(round(float(v), digits) for v in values)


class Recorder:
    """Writes samples and events; a full or broken disk is logged, never allowed to stop regulation."""

    def __init__(self, buffer: TelemetryBuffer | None):
        self.buffer = buffer
        self.events_recorded = 0

    def _append(self, item: TelemetrySample | TelemetryEvent) -> None:
        if self.buffer is None:
            return
        try:
            self.buffer.add(item)
        except Exception:  # noqa: BLE001 - telemetry is secondary to keeping the fuses safe
            log.exception("could not record %s telemetry", item.kind)

    def event(self, type_: str, network: str | None, detail: str = "", *, subject: str | None = None) -> None:
        """Record an edge."""
        self.events_recorded += 1
        self._append(TelemetryEvent(
            seq=UNNUMBERED, ts=utc_timestamp(), network=network, type=type_, detail=detail[:MAX_DETAIL_CHARS],
            subject=None if subject is None else subject[:MAX_SUBJECT_CHARS],
        ))

    def sample(self, network: str, allocation, grid, slots) -> None:
        """Record one cycle of one network, with each charger's setpoint, reason and failsafe state."""
        chargers = {}
        for charger_id, slot in slots.items():
            reading = slot.reading if slot.available else None
            chargers[charger_id] = ChargerSample(
                current_a=_rounded(reading.current_a) if reading else None,
                setpoint_a=float(allocation.setpoints_a.get(charger_id, 0.0)),
                reason=allocation.reasons.get(charger_id, "")[:MAX_REASON_CHARS],
                available=slot.available,
                failsafe_confirmed=slot.failsafe_confirmed is not None,
            )
        self._append(TelemetrySample(
            seq=UNNUMBERED, ts=utc_timestamp(), network=network, mode=allocation.mode,
            grid_current_a=_rounded(grid.current_a) if grid else None,
            headroom_a=_rounded(allocation.headroom_a), chargers=chargers,
        ))
