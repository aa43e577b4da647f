"""Times on the telemetry wire: checked against the server's clock and written in one canonical UTC form.

A gateway whose clock was never set stamps its items in the 1970s. The server
re-stamps any time before `CLOCK_UNSET_BEFORE` with its own receive time
instead of refusing it: regulation does not wait for a clock, and telemetry
of such a gateway arrives with the time it reached the server.
"""

from __future__ import annotations

from datetime import UTC, datetime

from gateways.protocol.fields import shown
from gateways.protocol.telemetry import FUTURE_WINDOW, MAX_UTC_OFFSET, PAST_WINDOW

CLOCK_UNSET_BEFORE = datetime(2020, 1, 1, tzinfo=UTC)
"""A time before this comes from a gateway clock that was never set (RTC-less boards boot in 1970)."""

MAX_TS_CHARS = 40


def check_timestamp(value, now: datetime | None) -> tuple[str | None, str | None]:
    """The time as canonical UTC text (`...Z`) and None, or None and what is wrong with it.

    With `now` (the server's clock), a time from a never-set clock becomes
    `now` and one outside the window around `now` is refused.
    """
    if not isinstance(value, str) or len(value) > MAX_TS_CHARS:
        return None, f"must be an ISO 8601 time with a zone, got {shown(value)}"
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None, f"must be an ISO 8601 time, got {shown(value)}"
    offset = parsed.utcoffset()
    if offset is None:
        return None, "must carry a time zone (use Z for UTC)"
    if abs(offset) > MAX_UTC_OFFSET:
        return None, f"has a UTC offset beyond +-15:59 ({shown(value)})"
    try:
        utc = parsed.astimezone(UTC)
    except (OverflowError, ValueError):
        return None, f"lies outside the years 1 to 9999 in UTC ({shown(value)})"
    if now is not None:
        if utc < CLOCK_UNSET_BEFORE:
            utc = now.astimezone(UTC)  # the gateway's clock was never set: the receive time is the best we know
        elif utc < now - PAST_WINDOW:
            return None, (f"is more than {PAST_WINDOW.days} days before the server's time ({shown(value)}); "
                          "is the gateway's clock wrong?")
        elif utc > now + FUTURE_WINDOW:
            return None, (f"is more than {FUTURE_WINDOW.days} day after the server's time ({shown(value)}); "
                          "is the gateway's clock wrong?")
    return utc_text(utc), None


def utc_text(moment: datetime) -> str:
    """The canonical form of a time on the wire: ISO 8601 in UTC with a Z (microseconds when not zero)."""
    return moment.astimezone(UTC).isoformat()[:-6] + "Z"
