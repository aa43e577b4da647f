"""Validation of the planner's JSON input: numbers, times and strict objects, each error naming its field.

The planner reuses ``balancing.ScenarioError`` so that a caller (the CLI, the
fleet's task) handles one error type whose message starts with the field path.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime, time
from typing import Any

from balancing import ScenarioError


def number(name: str, value: object, *, minimum: float | None = None, positive: bool = False) -> float:
    """A finite real number (bools refused), optionally bounded below."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ScenarioError(name, f"must be a number, not {type(value).__name__}")
    result = float(value)
    if not math.isfinite(result):
        raise ScenarioError(name, f"must be a finite number, not {value!r}")
    if positive and result <= 0:
        raise ScenarioError(name, f"must be greater than 0, not {value!r}")
    if minimum is not None and result < minimum:
        raise ScenarioError(name, f"must be at least {minimum:g}, not {value!r}")
    return result


def optional_number(name: str, value: object, *, minimum: float | None = None) -> float | None:
    """None, or a number as ``number`` accepts it."""
    return None if value is None else number(name, value, minimum=minimum)


def integer(name: str, value: object, *, choices: tuple[int, ...] | None = None) -> int:
    """An int (bools refused), optionally one of ``choices``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ScenarioError(name, f"must be an integer, not {value!r}")
    if choices is not None and value not in choices:
        raise ScenarioError(name, f"must be one of {', '.join(map(str, choices))}, not {value!r}")
    return value


def text(name: str, value: object) -> str:
    """A non-empty string."""
    if not isinstance(value, str) or not value:
        raise ScenarioError(name, "must be a non-empty string")
    return value


def moment(name: str, value: object) -> datetime:
    """An aware datetime, or an ISO 8601 string with a UTC offset ("2026-11-02T18:30:00+01:00" or "...Z")."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise ScenarioError(name, f"must be an ISO 8601 date and time, not {value!r}") from None
    if not isinstance(value, datetime):
        raise ScenarioError(name, "must be an ISO 8601 date and time")
    if value.tzinfo is None or value.utcoffset() is None:
        # A naive time is ambiguous across DST and between the site and the server.
        raise ScenarioError(name, "must carry a UTC offset (for example +01:00 or Z)")
    return value


def clock(name: str, value: object) -> time:
    """A time of day, or an "HH:MM" string."""
    if isinstance(value, str):
        try:
            value = time.fromisoformat(value)
        except ValueError:
            raise ScenarioError(name, f"must be a time of day HH:MM, not {value!r}") from None
    if not isinstance(value, time) or value.tzinfo is not None:
        raise ScenarioError(name, "must be a time of day HH:MM")
    return value


def strict(path: str, value: object, allowed: set[str], required: set[str] = frozenset()) -> Mapping[str, Any]:
    """A JSON object with only known keys and all required ones; a misspelled key is an error, not a default."""
    if not isinstance(value, Mapping):
        raise ScenarioError(path or "plan", "must be an object")
    for key in value:
        if key not in allowed:
            raise ScenarioError(
                f"{path}.{key}" if path else str(key), f"unknown field (expected one of {', '.join(sorted(allowed))})"
            )
    for key in sorted(required):
        if key not in value:
            raise ScenarioError(f"{path}.{key}" if path else key, "is required")
    return value


def listed(path: str, value: object) -> list[Any]:
    """A JSON array."""
    if not isinstance(value, (list, tuple)):
        raise ScenarioError(path, "must be a list")
    return list(value)


def within(path: str, build, *args, **kwargs):
    """Call ``build``, re-raising its validation error under ``path``."""
    try:
        return build(*args, **kwargs)
    except ScenarioError as error:
        raise error.within(path) from None
