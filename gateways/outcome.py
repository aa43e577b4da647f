"""Device I/O as outcomes: a call's result or the exception it ended with, never a raise.

The regulation loop reads and commands many devices side by side; one that
hangs or fails must neither hold up nor break the others. Every call goes out
bounded by a deadline and comes back as a value the loop judges (a reading, a
confirmation, or the failure as an exception object).
"""

from __future__ import annotations

import asyncio


async def outcome_within(awaitable, timeout_s: float):
    """Await with a deadline; return the result or the exception (a `TimeoutError` when the deadline passed)."""
    try:
        async with asyncio.timeout(timeout_s):
            return await awaitable
    except TimeoutError:
        return TimeoutError(f"no answer within {timeout_s:.2f} s")
    except Exception as problem:  # noqa: BLE001 - every failure becomes an outcome the loop handles
        return problem


def failure_text(problem: BaseException) -> str:
    """A failed outcome in words for the log, the status page and telemetry: its type and message."""
    return f"{type(problem).__name__}: {problem}"
