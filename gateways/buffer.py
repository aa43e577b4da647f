"""The on-disk telemetry buffer: numbered samples and events kept until the server has them.

SQLite in WAL mode, so a power cut loses at most the last uncommitted cycle
and never corrupts the file. Sequence numbers come from AUTOINCREMENT and are
never reused, also across restarts. The buffer is bounded: when it is full,
old samples are thinned (every second one of the oldest half dropped, so
history keeps its span at a coarser step) and events are never dropped. The
dropped sequence numbers are remembered as gaps and sent with the next batch,
so the server can tell "thinned on purpose" from "lost". Items the server
refused as malformed leave the buffer the same way (`discard`), after the
upload has kept them in its dead-letter file.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path

DEFAULT_MAX_ITEMS = 200_000
"""About two days of 1-second samples for one network."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS items (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL CHECK (kind IN ('sample', 'event')),
    payload TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS gaps (
    first_seq INTEGER NOT NULL,
    last_seq INTEGER NOT NULL
);
"""


@dataclass(frozen=True)
class PendingBatch:
    """Items to send, oldest first, with the thinned ranges that fall among them."""

    items: list[dict]
    gaps: list[tuple[int, int]]

    @property
    def last_seq(self) -> int | None:
        """The highest sequence number in this batch."""
        return self.items[-1]["seq"] if self.items else None


class TelemetryBuffer:
    """Appends telemetry with sequence numbers, hands it out in order, forgets what the server acknowledged."""

    def __init__(self, path: Path | str, max_items: int = DEFAULT_MAX_ITEMS):
        if max_items < 10:
            raise ValueError("max_items must be at least 10")
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.max_items = max_items
        self._db = sqlite3.connect(self.path, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        self._count = self._db.execute("SELECT count(*) FROM items").fetchone()[0]

    def close(self) -> None:
        """Checkpoint and close the file."""
        self._db.close()

    def __len__(self) -> int:
        return self._count

    def append(self, kind: str, payload: dict) -> int:
        """Store one item and return its sequence number; events are synced to disk at once."""
        if kind not in ("sample", "event"):
            raise ValueError(f"unknown telemetry kind {kind!r}")
        if kind == "event":
            # An edge (meter lost, ...) must survive a power cut; samples may lose the last cycle.
            self._db.execute("PRAGMA synchronous=FULL")
        try:
            cursor = self._db.execute(
                "INSERT INTO items (kind, payload) VALUES (?, ?)", (kind, json.dumps(payload, separators=(",", ":")))
            )
        finally:
            if kind == "event":
                self._db.execute("PRAGMA synchronous=NORMAL")
        self._count += 1
        if self._count > self.max_items:
            self._thin()
        return cursor.lastrowid

    def add(self, item) -> int:
        """Store a protocol item (`TelemetrySample` or `TelemetryEvent`) in its wire form; returns its seq."""
        payload = item.to_dict()
        del payload["seq"], payload["kind"]  # the buffer numbers the item; pending() puts both back
        return self.append(item.kind, payload)

    def pending(self, limit: int) -> PendingBatch:
        """The oldest `limit` items (each with its `seq` and `kind`) and the gaps among them."""
        rows = self._db.execute("SELECT seq, kind, payload FROM items ORDER BY seq LIMIT ?", (limit,)).fetchall()
        items = [{**json.loads(payload), "seq": seq, "kind": kind} for seq, kind, payload in rows]
        gaps: list[tuple[int, int]] = []
        if items:
            gaps = [
                tuple(row)
                for row in self._db.execute(
                    "SELECT first_seq, last_seq FROM gaps WHERE first_seq <= ? ORDER BY first_seq", (items[-1]["seq"],)
                )
            ]
        return PendingBatch(items, gaps)

    def acknowledge(self, acked_seq: int) -> int:
        """Forget every item (and gap) up to `acked_seq`; returns how many items were dropped."""
        with self._db:
            self._db.execute("BEGIN")
            removed = self._db.execute("DELETE FROM items WHERE seq <= ?", (acked_seq,)).rowcount
            self._db.execute("DELETE FROM gaps WHERE last_seq <= ?", (acked_seq,))
        self._count -= removed
        return removed

    def discard(self, first_seq: int, last_seq: int) -> int:
        """Drop the items from `first_seq` to `last_seq` and declare the range a gap; returns how many were dropped.

        For a batch the server refused as malformed: sent as a gap, the range
        counts as arrived, so the server's mark moves past it and the items
        after it are acknowledged as usual.
        """
        known = list(self._db.execute("SELECT first_seq, last_seq FROM gaps"))
        with self._db:
            self._db.execute("BEGIN")
            removed = self._db.execute("DELETE FROM items WHERE seq BETWEEN ? AND ?", (first_seq, last_seq)).rowcount
            self._db.execute("DELETE FROM gaps")
            self._db.executemany("INSERT INTO gaps (first_seq, last_seq) VALUES (?, ?)",
                                 merge_ranges(known + [(first_seq, last_seq)]))
        self._count -= removed
        return removed

    def highest_issued_seq(self) -> int:
        """The highest sequence number ever handed out by this file (0 for a new one)."""
        row = self._db.execute("SELECT seq FROM sqlite_sequence WHERE name = 'items'").fetchone()
        return row[0] if row else 0

    def renumber_after(self, floor_seq: int) -> None:
        """Give every buffered item a new number above `floor_seq`, keeping their order.

        For a gateway whose state folder was lost: the server already holds items
        up to `floor_seq` from its earlier life and would take new items with
        lower numbers for resent ones and drop them.
        """
        with self._db:
            self._db.execute("BEGIN")
            rows = self._db.execute("SELECT seq, kind, payload FROM items ORDER BY seq").fetchall()
            self._db.execute("DELETE FROM items")
            self._db.execute("DELETE FROM gaps")
            self._db.execute("UPDATE sqlite_sequence SET seq = ? WHERE name = 'items'", (floor_seq,))
            if self._db.execute("SELECT changes()").fetchone()[0] == 0:
                self._db.execute("INSERT INTO sqlite_sequence (name, seq) VALUES ('items', ?)", (floor_seq,))
            self._db.executemany("INSERT INTO items (kind, payload) VALUES (?, ?)", [(k, p) for _, k, p in rows])

    def _thin(self) -> None:
        """Drop every second sample of the oldest half of the samples, recording the dropped seqs as gaps."""
        samples = [
            seq for (seq,) in self._db.execute("SELECT seq FROM items WHERE kind = 'sample' ORDER BY seq")
        ]
        oldest_half = samples[: len(samples) // 2]
        doomed = oldest_half[1::2]
        if not doomed:
            return  # only events left: they are never dropped, the buffer may exceed its bound
        known = list(self._db.execute("SELECT first_seq, last_seq FROM gaps"))
        merged = merge_ranges(known + [(seq, seq) for seq in doomed])
        with self._db:
            self._db.execute("BEGIN")
            self._db.executemany("DELETE FROM items WHERE seq = ?", [(seq,) for seq in doomed])
            self._db.execute("DELETE FROM gaps")
            self._db.executemany("INSERT INTO gaps (first_seq, last_seq) VALUES (?, ?)", merged)
        self._count -= len(doomed)


def merge_ranges(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Join overlapping or touching (first, last) ranges so the gap list stays short."""
    merged: list[tuple[int, int]] = []
    for first, last in sorted(ranges):
        if merged and first <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], last))
        else:
            merged.append((first, last))
    return merged
