"""Python's cyclic garbage collector held off while a telemetry batch is decoded, validated and stored.

A batch of 2,000 samples decodes into some 100,000 lists and dicts that live
until the request ends. Allocating them sets off the collector over and over
(~140 young collections and a full one every batch or two, each walking every
object of the worker, Django's own included), and none of them can find
anything: decoded JSON is a tree, freed by reference counting alone. Measured
in a worker, that was a quarter of the server's CPU time per sample.

Held off per request rather than for the whole process, so garbage cycles
made elsewhere are still collected; the collector runs as usual once the
request is done. Safe with threaded workers: it is back on only when the
last paused request ends, and left alone if it was off already.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_paused = 0
_was_enabled = False


@contextmanager
def gc_paused() -> Iterator[None]:
    """Run the body with the cyclic collector off (reference counting still frees everything acyclic)."""
    global _paused, _was_enabled
    with _lock:
        if _paused == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _paused += 1
    try:
        yield
    finally:
        with _lock:
            _paused -= 1
            if _paused == 0 and _was_enabled:
                gc.enable()
