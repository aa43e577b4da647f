"""What the simulated gateways' uploads did: latencies, answers, items, and the backlog over the run.

One `RunStats` per process; the runner merges them (`to_dict` carries the raw
latencies, so the percentiles of the merged run are exact) and prints the
summary.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field


@dataclass(frozen=True)
class UploadRecord:
    """One POST of a batch: how long it took, what came back, how many items went and left the gateway."""

    latency_s: float
    status: str
    """The HTTP status as text ("200", "503"), or "timeout" / "error" when no answer came."""
    items_sent: int
    items_acked: int


@dataclass(frozen=True)
class BacklogSnapshot:
    """The gateways' unacknowledged items at one moment of the run."""

    at_s: float
    """Seconds since the start of the run."""
    total: int
    mean: float
    max: int
    gateways_behind: int
    """Gateways holding more than two upload intervals' worth of items: behind, not merely between uploads."""


def backlog_snapshot(backlogs: list[int], at_s: float, items_per_interval: float) -> BacklogSnapshot:
    """Summarise per-gateway backlogs taken at `at_s` seconds into the run."""
    if not backlogs:
        return BacklogSnapshot(at_s, 0, 0.0, 0, 0)
    behind = sum(1 for count in backlogs if count > 2 * items_per_interval)
    return BacklogSnapshot(at_s, sum(backlogs), sum(backlogs) / len(backlogs), max(backlogs), behind)


def backlog_growing(snapshots: dict[str, dict], items_per_interval: float) -> bool:
    """Whether the gateways fall behind: the mean backlog rises steadily, or ends past two upload intervals' worth and rising.

    Between uploads a healthy gateway holds up to one interval's worth (half
    of it on average over a fleet whose uploads are spread), and that mean
    hardly moves. A mean that climbs from start to middle to end by more than
    half an interval's worth, or that ends above two intervals and higher
    than in the middle, means the server no longer keeps up.
    """
    start, middle, end = (snapshots.get(name) for name in ("start", "middle", "end"))
    if not middle or not end:
        return False
    if end["mean"] > 2 * items_per_interval and end["mean"] > middle["mean"]:
        return True
    return bool(start) and start["mean"] < middle["mean"] < end["mean"] and end["mean"] - start["mean"] > items_per_interval / 2


def percentile(sorted_values: list[float], fraction: float) -> float | None:
    """The value below which `fraction` of the values lie (nearest rank); None without values."""
    if not sorted_values:
        return None
    rank = max(1, math.ceil(fraction * len(sorted_values)))
    return sorted_values[rank - 1]


@dataclass
class RunStats:
    """Counters of one process's gateways, mergeable across processes."""

    gateways: int = 0
    uploads: int = 0
    latencies_s: list[float] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)
    config_statuses: Counter = field(default_factory=Counter)
    items_sent: int = 0
    items_acked: int = 0
    samples_made: int = 0
    events_made: int = 0
    backlog: dict[str, list[int]] = field(default_factory=dict)
    """Per snapshot name ("start", "middle", "end", "after_drain"): every gateway's backlog."""
    backlog_at_s: dict[str, float] = field(default_factory=dict)
    acked_at: dict[str, int] = field(default_factory=dict)
    """Per snapshot name: items acknowledged so far, for the steady stored rate between snapshots."""
    per_gateway: list[dict] = field(default_factory=list)
    """Each gateway's key, highest seq issued and the server's mark at the end."""

    def record_upload(self, record: UploadRecord) -> None:
        """Count one upload."""
        self.uploads += 1
        self.latencies_s.append(record.latency_s)
        self.statuses[record.status] += 1
        self.items_sent += record.items_sent
        self.items_acked += record.items_acked

    def to_dict(self) -> dict:
        """Everything, raw latencies included, as JSON-able data (for merging across processes)."""
        return {
            "gateways": self.gateways, "uploads": self.uploads, "latencies_s": self.latencies_s,
            "statuses": dict(self.statuses), "config_statuses": dict(self.config_statuses),
            "items_sent": self.items_sent, "items_acked": self.items_acked, "samples_made": self.samples_made,
            "events_made": self.events_made, "backlog": self.backlog, "backlog_at_s": self.backlog_at_s,
            "acked_at": self.acked_at,
            "per_gateway": self.per_gateway,
        }

    @classmethod
    def merged(cls, parts: list[dict]) -> RunStats:
        """The stats of several processes as one."""
        total = cls()
        for part in parts:
            total.gateways += part["gateways"]
            total.uploads += part["uploads"]
            total.latencies_s.extend(part["latencies_s"])
            total.statuses.update(part["statuses"])
            total.config_statuses.update(part["config_statuses"])
            total.items_sent += part["items_sent"]
            total.items_acked += part["items_acked"]
            total.samples_made += part["samples_made"]
            total.events_made += part["events_made"]
            for name, values in part["backlog"].items():
                total.backlog.setdefault(name, []).extend(values)
            for name, at_s in part["backlog_at_s"].items():
                total.backlog_at_s.setdefault(name, at_s)
            for name, acked in part["acked_at"].items():
                total.acked_at[name] = total.acked_at.get(name, 0) + acked
            total.per_gateway.extend(part["per_gateway"])
        return total

    def steady_acked_per_s(self) -> float | None:
        """Items acknowledged per second between the start and the end snapshot (after the first uploads)."""
        if "start" not in self.acked_at or "end" not in self.acked_at:
            return None
        span_s = self.backlog_at_s["end"] - self.backlog_at_s["start"]
        return (self.acked_at["end"] - self.acked_at["start"]) / span_s if span_s > 0 else None

    def summary(self, *, duration_s: float, items_per_interval: float, per_gateway: bool = True) -> dict:
        """The figures of the run: uploads, p50/p99 latency, errors, backlog at start/middle/end, items."""
        latencies = sorted(self.latencies_s)
        errors = sum(count for status, count in self.statuses.items() if status != "200")
        snapshots = {
            name: backlog_snapshot(values, self.backlog_at_s.get(name, 0.0), items_per_interval).__dict__
            for name, values in self.backlog.items()
        }
        result = {
            "gateways": self.gateways,
            "duration_s": duration_s,
            "uploads": self.uploads,
            "upload_errors": errors,
            "statuses": dict(sorted(self.statuses.items())),
            "config_statuses": dict(sorted(self.config_statuses.items())),
            "latency_p50_s": percentile(latencies, 0.50),
            "latency_p99_s": percentile(latencies, 0.99),
            "latency_max_s": latencies[-1] if latencies else None,
            "items_sent": self.items_sent,
            "items_acked": self.items_acked,
            "acked_per_s_steady": self.steady_acked_per_s(),
            "samples_made": self.samples_made,
            "events_made": self.events_made,
            "backlog": snapshots,
            "backlog_items_per_interval": items_per_interval,
            "backlog_growing": backlog_growing(snapshots, items_per_interval),
        }
        if per_gateway:
            result["per_gateway"] = self.per_gateway
        return result
