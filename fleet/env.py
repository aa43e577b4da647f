"""Settings from the environment, read through helpers that fail loudly.

A typo in a deployment's environment must stop the server at start with a
message naming the variable, not run it half-configured.
"""

import os


class EnvironmentConfigError(RuntimeError):
    """An environment variable is missing or malformed."""


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str | None = None) -> str:
    """Return a string variable; without a default, a missing one is an error."""
    value = os.environ.get(name)
    if value is None:
        if default is None:
            raise EnvironmentConfigError(f"{name} must be set")
        return default
    return value


def env_bool(name: str, default: bool) -> bool:
    """Return a boolean variable written as 1/0, true/false, yes/no or on/off."""
    raw = os.environ.get(name)
    if raw is None:
        return default
    lowered = raw.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise EnvironmentConfigError(f"{name}={raw!r} is not a boolean (use 1/0, true/false, yes/no, on/off)")


def env_int(name: str, default: int, *, minimum: int | None = None, maximum: int | None = None) -> int:
    """Return an integer variable, checked against an optional range."""
    raw = os.environ.get(name)
    if raw is None:
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        raise EnvironmentConfigError(f"{name}={raw!r} is not an integer") from None
    if minimum is not None and value < minimum:
        raise EnvironmentConfigError(f"{name}={value} is below the minimum {minimum}")
    if maximum is not None and value > maximum:
        raise EnvironmentConfigError(f"{name}={value} is above the maximum {maximum}")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    """Return a comma-separated list variable, blanks dropped."""
    raw = os.environ.get(name)
    if raw is None:
        return list(default)
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    """Return a variable that must be one of a fixed set of words."""
    value = os.environ.get(name, default).strip()
    if value not in choices:
        raise EnvironmentConfigError(f"{name}={value!r} must be one of: {', '.join(choices)}")
    return value
