"""Telemetry the agent sends up: samples (one per network and cycle) and events (edges), numbered.

Each item carries the gateway's sequence number; the server stores each
(gateway, seq) once and answers the highest contiguous seq it holds, so the
agent can resend after any failure without loss or doubles.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from gateways.protocol.fields import Fields, SchemaError, check_number

MAX_BATCH_ITEMS = 5000
"""Largest batch the server accepts; the agent sends at most this many items per request."""

EVENT_TYPES: tuple[str, ...] = (
    "meter_lost",
    "meter_restored",
    "charger_lost",
    "charger_restored",
    "failsafe_armed",
    "failsafe_failed",
    "config_applied",
    "config_rejected",
    "agent_started",
)
"""Short stable codes of the edges the agent reports; add new ones, never rename."""

MODES: tuple[str, ...] = ("normal", "fallback")


class TelemetryError(SchemaError):
    """A telemetry document is malformed; the message names the field."""


@dataclass(frozen=True)
class ChargerSample:
    """One charger in one cycle: what it drew (its own phase order), what it was given, and why."""

    current_a: tuple[float, float, float] | None
    setpoint_a: float
    reason: str
    available: bool = True


@dataclass(frozen=True)
class TelemetrySample:
    """One regulation cycle of one network."""

    seq: int
    ts: str
    network: str
    mode: str
    grid_current_a: tuple[float, float, float] | None
    headroom_a: tuple[float, float, float] | None
    chargers: dict[str, ChargerSample] = field(default_factory=dict)
    kind: str = "sample"

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able data."""
        return {
            "seq": self.seq, "kind": "sample", "ts": self.ts, "network": self.network, "mode": self.mode,
            "grid_current_a": _list(self.grid_current_a), "headroom_a": _list(self.headroom_a),
            "chargers": {
                cid: {"current_a": _list(c.current_a), "setpoint_a": c.setpoint_a, "reason": c.reason, "available": c.available}
                for cid, c in self.chargers.items()
            },
        }


@dataclass(frozen=True)
class TelemetryEvent:
    """An edge: a meter lost or back, a charger unreachable, a failsafe armed, a config applied..."""

    seq: int
    ts: str
    network: str | None
    type: str
    detail: str = ""
    subject: str | None = None
    kind: str = "event"

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able data."""
        return {"seq": self.seq, "kind": "event", "ts": self.ts, "network": self.network, "type": self.type,
                "detail": self.detail, "subject": self.subject}


@dataclass(frozen=True)
class TelemetryBatch:
    """What one POST carries."""

    gateway: str
    items: tuple[TelemetrySample | TelemetryEvent, ...]
    gaps: tuple[tuple[int, int], ...] = ()
    """Ranges (first, last) of sequence numbers the agent dropped on purpose (thinned samples)."""

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able data."""
        return {
            "gateway": self.gateway,
            "items": [item.to_dict() for item in self.items],
            "gaps": [list(gap) for gap in self.gaps],
        }


@dataclass(frozen=True)
class TelemetryAck:
    """The server's answer: every seq up to `acked_seq` is stored."""

    acked_seq: int


def _list(values):
    return None if values is None else list(values)


def _is_finite_number(value) -> bool:
    return type(value) in (int, float) and math.isfinite(value)


def _phases(f: Fields, key: str) -> tuple[float, float, float] | None:
    value = f.raw(key, None)
    if value is None:
        return None
    if not isinstance(value, list) or len(value) != 3:
        raise TelemetryError(f.at(key), "must be a list of three numbers or null")
    a, b, c = value
    if _is_finite_number(a) and _is_finite_number(b) and _is_finite_number(c):
        return (a, b, c)  # the common case, checked without building error paths (batches hold thousands)
    return tuple(check_number(TelemetryError, f"{f.at(key)}[{i}]", v) for i, v in enumerate(value))


def _timestamp(f: Fields) -> str:
    value = f.string("ts")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise TelemetryError(f.at("ts"), f"must be an ISO 8601 time, got {value!r}") from None
    if parsed.tzinfo is None:
        raise TelemetryError(f.at("ts"), "must carry a time zone (use Z for UTC)")
    return value


def parse_item(f: Fields) -> TelemetrySample | TelemetryEvent:
    """Validate one telemetry item."""
    kind = f.string("kind", choices=("sample", "event"))
    seq = f.integer("seq", minimum=1)
    ts = _timestamp(f)
    if kind == "event":
        item = TelemetryEvent(
            seq=seq, ts=ts, network=f.string("network", None), type=f.string("type", choices=EVENT_TYPES),
            detail=str(f.raw("detail", "") or ""), subject=f.string("subject", None),
        )
    else:
        chargers = {}
        charger_fields = f.table("chargers") if f.raw("chargers", None) is not None else None
        if charger_fields is not None:
            for charger_id in charger_fields.data:
                c = charger_fields.table(str(charger_id))
                chargers[str(charger_id)] = ChargerSample(
                    current_a=_phases(c, "current_a"), setpoint_a=c.number("setpoint_a", minimum=0),
                    reason=c.string("reason"), available=c.boolean("available", True),
                )
                c.reject_unknown()
        item = TelemetrySample(
            seq=seq, ts=ts, network=f.string("network"), mode=f.string("mode", choices=MODES),
            grid_current_a=_phases(f, "grid_current_a"), headroom_a=_phases(f, "headroom_a"), chargers=chargers,
        )
    f.reject_unknown()
    return item


def parse_batch(data) -> TelemetryBatch:
    """Validate a whole batch; raises `TelemetryError` naming the first bad field."""
    root = Fields(data, "", TelemetryError)
    gateway = root.string("gateway")
    items = root.tables("items")
    if len(items) > MAX_BATCH_ITEMS:
        raise TelemetryError("items", f"has {len(items)} items; at most {MAX_BATCH_ITEMS} per batch")
    parsed = tuple(parse_item(item) for item in items)
    gaps = tuple(_parse_gaps(root))
    root.reject_unknown()
    return TelemetryBatch(gateway=gateway, items=parsed, gaps=gaps)


def _parse_gaps(root: Fields):
    value = root.raw("gaps", [])
    if not isinstance(value, list):
        raise TelemetryError("gaps", "must be a list of [first_seq, last_seq] pairs")
    for index, gap in enumerate(value):
        valid = (
            isinstance(gap, list) and len(gap) == 2
            and all(isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in gap)
            and gap[0] <= gap[1]
        )
        if not valid:
            raise TelemetryError(f"gaps[{index}]", f"must be [first_seq, last_seq] with 1 <= first <= last, got {gap!r}")
        yield (gap[0], gap[1])
