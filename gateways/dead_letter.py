"""Telemetry the server refused as malformed, kept on the gateway instead of blocking the upload.

A batch the server refuses (400: a value out of range, an unknown network...)
would be refused again on every resend, and everything behind it would wait
for ever. The upload narrows such a refusal down to the single item at fault,
appends that item here with the server's answer, and goes on with the next.
The file is JSON lines in the state folder, one refusal per line, so an
operator can read it, fix the cause, and replay it; the count of items is on
the status page and in the metrics. Past `MAX_FILE_BYTES` the file becomes
`telemetry-rejected.jsonl.1` (replacing an older one), so a gateway that keeps
sending something the server refuses cannot fill its storage.
"""

from __future__ import annotations

import json
import logging
import os
from datetime import datetime, timezone
from pathlib import Path

log = logging.getLogger(__name__)

DEAD_LETTER_FILE = "telemetry-rejected.jsonl"
MAX_FILE_BYTES = 20_000_000


class DeadLetters:
    """An append-only file of refused telemetry items, with a count that survives restarts."""

    def __init__(self, path: Path | str, max_file_bytes: int = MAX_FILE_BYTES):
        self.path = Path(path)
        self.older = self.path.with_name(self.path.name + ".1")
        self.max_file_bytes = max_file_bytes
        self.items = sum(self._count(file) for file in (self.older, self.path))
        """Items refused since the state folder was made (in this file and the one before it)."""

    @staticmethod
    def _count(path: Path) -> int:
        try:
            with path.open(encoding="utf-8") as lines:
                return sum(len(json.loads(line).get("items", ())) for line in lines if line.strip())
        except FileNotFoundError:
            return 0
        except (OSError, ValueError, AttributeError) as problem:
            log.error("cannot count the refused telemetry in %s: %s", path, problem)
            return 0

    def add(self, items: list[dict], status_code: int, answer: str) -> None:
        """Keep refused items with the server's answer (flushed before the buffer forgets them)."""
        record = {
            "refused_at": datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z"),
            "status": status_code, "answer": answer, "items": items,
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if self.path.exists() and self.path.stat().st_size > self.max_file_bytes:
            os.replace(self.path, self.older)
        with self.path.open("a", encoding="utf-8") as file:
            file.write(json.dumps(record, separators=(",", ":")) + "\n")
            file.flush()
            os.fsync(file.fileno())  # on disk before the buffer forgets the items
        self.items += len(items)
