"""Turns cycles and edges into telemetry items in the on-disk buffer."""

from __future__ import annotations

import logging
from datetime import datetime, timezone

from gateways.buffer import TelemetryBuffer

log = logging.getLogger(__name__)


def utc_timestamp() -> str:
    """Now as ISO 8601 UTC with a Z, millisecond resolution."""
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _rounded(values, digits: int = 3):
    return None if values is None else [round(float(v), digits) for v in values]


class Recorder:
    """Writes samples and events; a full or broken disk is logged, never allowed to stop regulation."""

    def __init__(self, buffer: TelemetryBuffer | None):
        self.buffer = buffer
        self.events_recorded = 0

    def _append(self, kind: str, payload: dict) -> None:
        if self.buffer is None:
            return
        try:
            self.buffer.append(kind, payload)
        except Exception:  # noqa: BLE001 - telemetry is secondary to keeping the fuses safe
            log.exception("could not record %s telemetry", kind)

    def event(self, type_: str, network: str | None, detail: str = "", *, subject: str | None = None) -> None:
        """Record an edge."""
        self.events_recorded += 1
        self._append("event", {"ts": utc_timestamp(), "network": network, "type": type_, "detail": detail, "subject": subject})

    def sample(self, network: str, allocation, grid, slots) -> None:
        """Record one cycle of one network."""
        chargers = {}
        for charger_id, slot in slots.items():
            reading = slot.reading if slot.available else None
            chargers[charger_id] = {
                "current_a": _rounded(reading.current_a) if reading else None,
                "setpoint_a": allocation.setpoints_a.get(charger_id, 0.0),
                "reason": allocation.reasons.get(charger_id, ""),
                "available": slot.available,
            }
        self._append(
            "sample",
            {
                "ts": utc_timestamp(),
                "network": network,
                "mode": allocation.mode,
                "grid_current_a": _rounded(grid.current_a) if grid else None,
                "headroom_a": _rounded(allocation.headroom_a),
                "chargers": chargers,
            },
        )
