"""Short human durations for the pages ("45 s", "12 min", "3 h 5 min"), precise where operators need it.

Django's `timesince` says "0 minutes" for the first minute, which is exactly
when an operator wants to know whether a gateway spoke 5 or 55 seconds ago.
"""

from datetime import datetime


def duration_text(seconds: float) -> str:
    """A duration in the two largest units that matter."""
    seconds = max(0, int(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


def age_text(since: datetime | None, now: datetime) -> str:
    """How long ago `since` was, or an empty string when it is unknown."""
    return "" if since is None else duration_text((now - since).total_seconds())
