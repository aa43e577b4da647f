"""Checks of untrusted numbers and JSON objects, with errors that start with the field's path.

Shared by the engine's self-validating dataclasses, the scenario parser of
the CLI and the capacity planner's input, so that all three refuse the same
things with the same words.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from .errors import ScenarioError


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
    """None, or a number as `number` accepts it."""
    return None if value is None else number(name, value, minimum=minimum)


def strict_object(
    path: str, value: object, allowed: set[str], required: set[str] = frozenset(), *, whole: str = "scenario"
) -> Mapping[str, Any]:
    """A JSON object with only known keys and all required ones: a misspelt key is an error, not a default.

    `whole` names the document in errors about the top level (path "").
    """
    if not isinstance(value, Mapping):
        raise ScenarioError(path or whole, "must be an object")
    for key in value:
        if key not in allowed:
            raise ScenarioError(
                f"{path}.{key}" if path else str(key), f"unknown field (expected one of {', '.join(sorted(allowed))})"
            )
    for key in sorted(required):
        if key not in value:
            raise ScenarioError(f"{path}.{key}" if path else key, "is required")
    return value
