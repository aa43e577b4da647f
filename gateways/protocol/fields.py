"""Reading typed fields out of untrusted mappings, with errors that name the exact key.

The same parser reads an installer's TOML file and the server's JSON, so an
error must point at the key (`networks[0].chargers[1].max_current_a`) and say
what is wrong with it; unknown keys are errors too, because a misspelt limit
silently ignored is a limit not applied.
"""

from __future__ import annotations

import ipaddress
import math
import re
from collections.abc import Mapping
from typing import Any

from gateways.protocol.limits import HOST_MAX_LENGTH

_HOSTNAME_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")


class SchemaError(ValueError):
    """A value in a config or telemetry document is missing, of the wrong type, or out of range."""

    def __init__(self, path: str, problem: str):
        super().__init__(f"{path}: {problem}")
        self.path = path
        self.problem = problem


_MISSING = object()


class Fields:
    """A mapping being read at a path; remembers which keys were used so leftovers can be rejected."""

    def __init__(self, data: Any, path: str, error: type[SchemaError] = SchemaError):
        self.error = error
        if not isinstance(data, Mapping):
            raise error(path or "(document)", f"must be a table/object, got {type(data).__name__}")
        self.data = data
        self.path = path
        self.used: set[str] = set()

    def at(self, key: str) -> str:
        """The path of a key inside this mapping."""
        return f"{self.path}.{key}" if self.path else key

    def raw(self, key: str, default: Any = _MISSING) -> Any:
        """The value as it is; a missing key without default is an error."""
        self.used.add(key)
        if key in self.data:
            return self.data[key]
        if default is _MISSING:
            raise self.error(self.at(key), "is required")
        return default

    def string(self, key: str, default: Any = _MISSING, *, choices: tuple[str, ...] | None = None,
               max_chars: int | None = None) -> str:
        """A non-empty string, optionally one of `choices` or at most `max_chars` long (and then storable as text)."""
        value = self.raw(key, default)
        if value is None and default is None:
            return None  # type: ignore[return-value]
        if not isinstance(value, str) or not value.strip():
            raise self.error(self.at(key), f"must be a non-empty string, got {shown(value)}")
        if choices is not None and value not in choices:
            raise self.error(self.at(key), f"must be one of {', '.join(choices)}, got {shown(value)}")
        if max_chars is not None:
            problem = text_problem(value, max_chars)
            if problem:
                raise self.error(self.at(key), problem)
        return value

    def number(
        self,
        key: str,
        default: Any = _MISSING,
        *,
        minimum: float | None = None,
        maximum: float | None = None,
        nullable: bool = False,
    ) -> float | None:
        """A finite number within [minimum, maximum]; None only when `nullable`."""
        value = self.raw(key, default)
        return check_number(self.error, self.at(key), value, minimum=minimum, maximum=maximum, nullable=nullable)

    def integer(self, key: str, default: Any = _MISSING, *, minimum: int | None = None, maximum: int | None = None,
                nullable: bool = False) -> int | None:
        """An integer within [minimum, maximum]."""
        value = self.raw(key, default)
        if value is None and nullable:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(self.at(key), f"must be an integer, got {shown(value)}")
        check_number(self.error, self.at(key), value, minimum=minimum, maximum=maximum)
        return value

    def host(self, key: str, default: Any = _MISSING) -> str:
        """An IPv4/IPv6 address or a DNS host name, nothing else."""
        value = self.string(key, default)
        if value is not None:
            problem = host_error(value)
            if problem:
                raise self.error(self.at(key), problem)
        return value

    def boolean(self, key: str, default: Any = _MISSING) -> bool:
        """true or false."""
        value = self.raw(key, default)
        if not isinstance(value, bool):
            raise self.error(self.at(key), f"must be true or false, got {shown(value)}")
        return value

    def table(self, key: str) -> Fields:
        """A nested mapping."""
        return Fields(self.raw(key), self.at(key), self.error)

    def tables(self, key: str, default: Any = _MISSING) -> list[Fields]:
        """A list of nested mappings."""
        value = self.raw(key, default)
        if not isinstance(value, list):
            raise self.error(self.at(key), f"must be a list, got {type(value).__name__}")
        return [Fields(item, f"{self.at(key)}[{index}]", self.error) for index, item in enumerate(value)]

    def reject_unknown(self) -> None:
        """Fail on keys nobody asked for: they are typos or settings this version does not know."""
        unknown = sorted(set(self.data) - self.used)
        if unknown:
            raise self.error(self.at(unknown[0]), "is not a known setting")


def check_number(error, path: str, value: Any, *, minimum=None, maximum=None, nullable=False) -> float | None:
    """Validate one number (shared by fields and lists of numbers)."""
    if value is None and nullable:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise error(path, f"must be a number, got {shown(value)}")
    if isinstance(value, float) and not math.isfinite(value):  # ints are finite, and too large for math.isfinite
        raise error(path, f"must be a finite number, got {value!r}")
    if minimum is not None and value < minimum:
        raise error(path, f"must be at least {minimum}, got {shown(value)}")
    if maximum is not None and value > maximum:
        raise error(path, f"must be at most {maximum}, got {shown(value)}")
    return value


def host_error(value: str) -> str | None:
    """Why `value` is neither an IP address nor a host name, or None when it is one."""
    try:
        ipaddress.ip_address(value)
        return None
    except ValueError:
        pass
    labels = value.rstrip(".").split(".")
    if len(value) > HOST_MAX_LENGTH or not all(_HOSTNAME_LABEL.match(label) for label in labels):
        return f"{value!r} is neither an IP address nor a host name"
    return None
def text_problem(value: str, max_chars: int) -> str | None:
    """Why a string cannot be stored as text (too long, NUL, lone surrogates), or None if it can.

    PostgreSQL text and jsonb refuse NUL characters, and a lone UTF-16
    surrogate (which JSON may carry as an escape) has no UTF-8 form at all.
    """
    if len(value) > max_chars:
        return f"must be at most {max_chars} characters, got {len(value)}"
    if "\x00" in value:
        return "must not contain NUL characters"
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return "must be valid Unicode text (no lone surrogates)"
    return None


def shown(value: Any, max_chars: int = 60) -> str:
    """A value for an error message, cut short so a huge input does not make a huge answer."""
    text = repr(value)
    return text if len(text) <= max_chars else text[: max_chars - 5] + "...'" + f" ({len(text)} chars)"
