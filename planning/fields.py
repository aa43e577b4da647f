"""Validation of the planner's JSON input: numbers, times and strict objects, each error naming its field.

The planner reuses ``balancing.ScenarioError`` so that a caller (the CLI, the
fleet's task) handles one error type whose message starts with the field path.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, time
from typing import Any

from balancing import ScenarioError
from balancing.checks import number, optional_number, strict_object  # number checks shared with the engine


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
    return strict_object(path, value, allowed, required, whole="plan")


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
