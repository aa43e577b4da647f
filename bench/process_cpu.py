"""CPU time of process trees from /proc, sampled in the background so processes that exit still count."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

TICKS_PER_S = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> tuple[int, float] | None:
    """(parent pid, CPU seconds of user and system) of one process, None when it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2:].split()
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / TICKS_PER_S


def tree_pids(root: int, parents: dict[int, int]) -> set[int]:
    """`root` and its descendants, given every process's parent."""
    children: dict[int, list[int]] = {}
    for pid, parent in parents.items():
        children.setdefault(parent, []).append(pid)
    found, todo = set(), [root]
    while todo:
        pid = todo.pop()
        if pid not in found:
            found.add(pid)
            todo.extend(children.get(pid, ()))
    return found


class TreeCpu:
    """Polls named process trees once a second; `seconds(name)` is the CPU they used, exited processes included."""

    def __init__(self, roots: dict[str, int], poll_s: float = 1.0):
        self.roots = dict(roots)
        self.poll_s = poll_s
        self._seen: dict[str, dict[int, float]] = {name: {} for name in roots}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def add(self, name: str, root: int) -> None:
        """Follow one more tree (a process started later)."""
        with self._lock:
            self.roots[name] = root
            self._seen[name] = {}

    def poll(self) -> None:
        """Read every process once and add what each tree's processes used."""
        stats = {}
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                found = _stat(int(entry))
                if found is not None:
                    stats[int(entry)] = found
        parents = {pid: parent for pid, (parent, _) in stats.items()}
        with self._lock:
            for name, root in self.roots.items():
                seen = self._seen[name]
                for pid in tree_pids(root, parents):
                    if pid in stats:
                        seen[pid] = max(seen.get(pid, 0.0), stats[pid][1])

    def seconds(self) -> dict[str, float]:
        """CPU seconds per tree so far."""
        self.poll()
        with self._lock:
            return {name: sum(seen.values()) for name, seen in self._seen.items()}

    def _run(self) -> None:
        while not self._stop.wait(self.poll_s):
            self.poll()

    def stop(self) -> None:
        """Stop polling."""
        self._stop.set()
        self._thread.join(timeout=5)


def machine_busy_s() -> float:
    """CPU seconds the whole machine spent busy since boot (all CPUs), from /proc/stat."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    values = [int(v) for v in fields]
    idle = values[3] + values[4]
    return (sum(values[:8]) - idle) / TICKS_PER_S


def now_s() -> float:
    """Monotonic seconds, for the wall time between two readings."""
    return time.monotonic()
