"""Telemetry the server refused as malformed, kept on the gateway instead of blocking the upload.

A batch the server refuses (400: a value out of range, an unknown network...)
would be refused again on every resend, and everything behind it would wait
for ever. The upload narrows such a refusal down to the single item at fault,
appends that item here with the server's answer, and goes on with the next.
The file is JSON lines in the state folder, one refusal per line, so an
operator can read it, fix the cause, and replay it; its size is on the status
page and in the metrics.
"""

from __future__ import annotations

import json
import logging
import os
from datetime import datetime, timezone
from pathlib import Path

log = logging.getLogger(__name__)

DEAD_LETTER_FILE = "telemetry-rejected.jsonl"


class DeadLetters:
    """An append-only file of refused telemetry items, with a count that survives restarts."""

    def __init__(self, path: Path | str):
        self.path = Path(path)
        self.items = 0
        try:
            with self.path.open(encoding="utf-8") as lines:
                self.items = sum(len(json.loads(line).get("items", ())) for line in lines if line.strip())
        except FileNotFoundError:
            pass
        except (OSError, ValueError) as problem:
            log.error("cannot count the refused telemetry in %s: %s", self.path, problem)

    def add(self, items: list[dict], status_code: int, answer: str) -> None:
        """Keep refused items with the server's answer (flushed before the buffer forgets them)."""
        record = {
            "refused_at": datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z"),
            "status": status_code, "answer": answer, "items": items,
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as file:
            file.write(json.dumps(record, separators=(",", ":")) + "\n")
            file.flush()
            os.fsync(file.fileno())  # on disk before the buffer forgets the items
        self.items += len(items)
