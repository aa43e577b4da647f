"""Telemetry the agent sends up: samples (one per network and cycle) and events (edges), numbered.

Each item carries the gateway's sequence number; the server stores each
(gateway, seq) once and answers the highest contiguous seq it holds, so the
agent can resend after any failure without loss or doubles.

The dataclasses here are the wire format on both sides: the agent builds its
items with them and sends their `to_dict()`, the server gets them back from
`parse_batch` and stores them. Every limit a value must meet to be stored
(integer ranges of the columns, text lengths, times PostgreSQL and Python can
both represent and that lie near the server's clock) is checked in
`parse_batch`, so a batch is either stored whole or refused whole with an error
naming the item and field (see `gateways.protocol.telemetry_parse`).

The server stores thousands of samples per request and needs no objects for
them: `parse_batch_records` validates the same way and gives each sample as a
`SampleRecord`, a named tuple holding its chargers as the wire data they are
stored as.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, NamedTuple

from gateways.protocol.fields import SchemaError

MAX_BATCH_ITEMS = 5000
"""Largest batch the server accepts; the agent sends at most this many items per request."""

MAX_SEQ = 2**63 - 1
"""Sequence numbers are stored as PostgreSQL bigint."""

MAX_KEY_CHARS = 100
"""Network and charger keys (primary keys as strings from the server, names in a standalone config)."""
MAX_REASON_CHARS = 64
"""A charger's reason code, as stored in the latest charger state."""
MAX_SUBJECT_CHARS = 100
"""An event's subject: 'meter' or a charger's key."""
MAX_DETAIL_CHARS = 2000
"""An event's free text; the recorder cuts longer text."""
MAX_CHARGERS_PER_SAMPLE = 1000
MAX_PHASE_CURRENT_A = 10_000.0
"""Bound of any per-phase current (grid, headroom, charger): far above any house connection."""
MAX_SETPOINT_A = 1000.0

MAX_UTC_OFFSET = timedelta(hours=15, minutes=59)
"""PostgreSQL accepts UTC offsets up to +-15:59; ISO 8601 parsers take up to +-23:59."""
PAST_WINDOW = timedelta(days=30)
"""A time more than this before the server's clock is refused: a wrong clock, not a late upload."""
FUTURE_WINDOW = timedelta(days=1)
"""A time more than this after the server's clock is refused: it would pose as the newest state."""

EVENT_TYPE_LABELS: dict[str, str] = {
    "meter_lost": "Meter lost",
    "meter_restored": "Meter restored",
    "charger_lost": "Charger unreachable",
    "charger_restored": "Charger reachable again",
    "failsafe_armed": "Charger failsafe armed",
    "failsafe_failed": "Charger failsafe not confirmed",
    "config_applied": "Configuration applied",
    "config_rejected": "Configuration rejected",
    "agent_started": "Gateway agent started",
    "telemetry_rejected": "Telemetry refused by the server (kept on the gateway)",
    # External caps (grid operator dimming under EnWG section 14a, operators' and scheduled caps): the
    # subject is the cap's source, the detail starts with the power in force in whole watts ("4200 W ...").
    "power_cap_started": "Power cap in force",
    "power_cap_ended": "Power cap lifted",
}
"""Short stable codes of the edges the agent reports, with their text for people; add new ones, never rename."""

EVENT_TYPES: tuple[str, ...] = tuple(EVENT_TYPE_LABELS)

MODES: tuple[str, ...] = ("normal", "fallback")


class TelemetryError(SchemaError):
    """A telemetry document is malformed; the message names the field."""

    @property
    def item_index(self) -> int | None:
        """The index of the refused item when the error is in one (`items[3].ts` -> 3)."""
        if not self.path.startswith("items["):
            return None
        index = self.path[len("items["): self.path.find("]")]
        return int(index) if index.isdigit() else None


@dataclass(frozen=True)
class ChargerSample:
    """One charger in one cycle: what it drew (its own phase order), what it was given, and why."""

    current_a: tuple[float, float, float] | None
    setpoint_a: float
    reason: str
    available: bool = True
    failsafe_confirmed: bool | None = None
    """Whether the charger's own watchdog is armed and read back; None from agents that do not say."""

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able data; `failsafe_confirmed` only when known, so older servers still read it."""
        data = {"current_a": _list(self.current_a), "setpoint_a": self.setpoint_a, "reason": self.reason,
                "available": self.available}
        if self.failsafe_confirmed is not None:
            data["failsafe_confirmed"] = self.failsafe_confirmed
        return data


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
            "chargers": {cid: c.to_dict() for cid, c in self.chargers.items()},
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
    """The sending gateway's key, for people reading logs; the server knows the gateway by its token."""
    items: tuple[TelemetrySample | TelemetryEvent, ...]
    gaps: tuple[tuple[int, int], ...] = ()
    """Ranges (first, last) of sequence numbers the agent dropped on purpose (thinned or refused items)."""

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able data."""
        return {
            "gateway": self.gateway,
            "items": [item.to_dict() for item in self.items],
            "gaps": [list(gap) for gap in self.gaps],
        }


class SampleRecord(NamedTuple):
    """A validated sample as the server stores it: a tuple (cheap to build by the thousand), chargers as wire data.

    `chargers` maps each charger key to what its `ChargerSample.to_dict()`
    gives, which is what the server stores; the phase values are lists or
    tuples of three floats.
    """

    seq: int
    ts: str
    network: str
    mode: str
    grid_current_a: Sequence[float] | None
    headroom_a: Sequence[float] | None
    chargers: dict[str, dict[str, Any]]


@dataclass(frozen=True)
class BatchRecords:
    """A validated batch as the server stores it: samples as `SampleRecord`s, events (few) as dataclasses."""

    gateway: str
    items: list[SampleRecord | TelemetryEvent]
    gaps: tuple[tuple[int, int], ...] = ()


@dataclass(frozen=True)
class TelemetryAck:
    """The server's answer: every seq up to `acked_seq` is stored."""

    acked_seq: int


def _list(values):
    return None if values is None else list(values)
