"""The fast check for samples in the common shape: plain type and range tests, no per-field objects.

Batches hold thousands of samples, and on the server each costs more to
validate than to store. A sample as the agent writes it (every value of the
expected type, ASCII keys and reasons, a canonical UTC time inside the
window) is checked here with plain comparisons and returned as a
`SampleRecord` that reuses the decoded lists and dicts. Anything else gives
None and the full parser (`telemetry_parse.parse_item`) decides: it gives the
precise error, or reads the rare valid shapes left to it (non-ASCII keys,
integers where floats are usual, offsets other than Z...). The fast check
must therefore accept only what the full parser accepts and read it the same;
a property test holds it to that.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from gateways.protocol.telemetry import (
    FUTURE_WINDOW,
    MAX_CHARGERS_PER_SAMPLE,
    MAX_KEY_CHARS,
    MAX_PHASE_CURRENT_A,
    MAX_REASON_CHARS,
    MAX_SEQ,
    MAX_SETPOINT_A,
    MODES,
    PAST_WINDOW,
    SampleRecord,
)
from gateways.protocol.telemetry_time import CLOCK_UNSET_BEFORE, check_timestamp

_SAMPLE_KEYS = frozenset(("seq", "kind", "ts", "network", "mode", "grid_current_a", "headroom_a", "chargers"))
_CHARGER_KEYS = frozenset(("current_a", "setpoint_a", "reason", "available", "failsafe_confirmed"))

_CANONICAL_UTC = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{6})?Z").fullmatch
"""The form `utc_text` writes (what the agent sends): such a text is stored as it is, once it parses."""


@dataclass(frozen=True, slots=True)
class PlainCheck:
    """What the fast check compares with, worked out once per batch: the server's time window and networks."""

    now: datetime | None
    earliest: datetime | None
    latest: datetime | None
    networks: frozenset[str] | None

    @classmethod
    def around(cls, now: datetime | None, networks: Collection[str] | None) -> PlainCheck:
        """The check for a batch received at `now` (None: no window) by a site with `networks` (None: any)."""
        keys = None if networks is None else frozenset(networks)
        if now is None:
            return cls(None, None, None, keys)
        # Before CLOCK_UNSET_BEFORE a time is re-stamped: check_timestamp does that, off the fast path.
        return cls(now, max(now - PAST_WINDOW, CLOCK_UNSET_BEFORE), now + FUTURE_WINDOW, keys)


def plain_sample_record(raw, check: PlainCheck) -> SampleRecord | None:
    """The sample if it is in the common shape and valid, else None (the full parser decides)."""
    if type(raw) is not dict or raw.get("kind") != "sample" or not raw.keys() <= _SAMPLE_KEYS:
        return None
    seq = raw.get("seq")
    network = raw.get("network")
    mode = raw.get("mode")
    if type(seq) is not int or not 1 <= seq <= MAX_SEQ or type(mode) is not str or mode not in MODES:
        return None
    if not _plain_key(network) or (check.networks is not None and network not in check.networks):
        return None
    grid = _plain_phases(raw.get("grid_current_a"))
    headroom = _plain_phases(raw.get("headroom_a"))
    if grid is False or headroom is False:
        return None
    ts = _plain_ts(raw.get("ts"), check)
    if ts is None:
        return None
    chargers = _plain_chargers(raw.get("chargers"))
    if chargers is None:
        return None
    return SampleRecord(seq, ts, network, mode, grid, headroom, chargers)


def _plain_key(value) -> bool:
    return type(value) is str and 0 < len(value) <= MAX_KEY_CHARS and value.isascii() and "\x00" not in value \
        and not value.isspace()


_LOW_A, _HIGH_A = -MAX_PHASE_CURRENT_A, MAX_PHASE_CURRENT_A


def _plain_phases(value):
    """The three values as given, None for null, or False when the full parser must look."""
    if value is None:
        return None
    if type(value) is not list or len(value) != 3:
        return False
    a, b, c = value
    if (type(a) is float and type(b) is float and type(c) is float
            and _LOW_A <= a <= _HIGH_A and _LOW_A <= b <= _HIGH_A and _LOW_A <= c <= _HIGH_A):  # NaN fails these
        return value
    return False


def _plain_ts(value, check: PlainCheck) -> str | None:
    """The time as stored, or None when it is invalid or outside the window (the full parser names why)."""
    if type(value) is str and _CANONICAL_UTC(value) and not value.endswith(".000000Z"):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return None
        if check.now is None or check.earliest <= moment <= check.latest:
            return value  # already what utc_text would write
    ts, problem = check_timestamp(value, check.now)  # other zones, unset clocks: still valid, just not canonical
    return None if problem else ts


def _plain_chargers(raw_chargers) -> dict | None:
    """The chargers as stored (each as `ChargerSample.to_dict()` gives it), or None when the full parser must look.

    A charger the agent wrote is already in that form and is kept as decoded;
    one that leaves out a default or sends `failsafe_confirmed: null` is
    rewritten, so the stored JSON does not depend on how the agent spelt it.
    The key and phase checks are `_plain_key` and `_plain_phases` written out:
    this loop runs for every charger of every sample.
    """
    if raw_chargers is None:
        return {}
    if type(raw_chargers) is not dict or len(raw_chargers) > MAX_CHARGERS_PER_SAMPLE:
        return None
    rewritten = None
    for key, c in raw_chargers.items():
        if (type(c) is not dict or type(key) is not str or not 0 < len(key) <= MAX_KEY_CHARS or not key.isascii()
                or "\x00" in key or key.isspace() or not c.keys() <= _CHARGER_KEYS):
            return None
        setpoint = c.get("setpoint_a")
        reason = c.get("reason")
        current = c.get("current_a")
        if current is not None:
            if type(current) is not list or len(current) != 3:
                return None
            a, b, d = current
            if not (type(a) is float and type(b) is float and type(d) is float
                    and _LOW_A <= a <= _HIGH_A and _LOW_A <= b <= _HIGH_A and _LOW_A <= d <= _HIGH_A):
                return None
        if (type(setpoint) is not float or not 0 <= setpoint <= MAX_SETPOINT_A or type(reason) is not str
                or len(reason) > MAX_REASON_CHARS or not reason.isascii() or "\x00" in reason):
            return None
        if len(c) == 4 and "current_a" in c and "available" in c:  # as the agent writes it: kept
            if type(c["available"]) is not bool:
                return None
            continue
        available = c.get("available", True)
        confirmed = c.get("failsafe_confirmed")
        if type(available) is not bool or (confirmed is not None and type(confirmed) is not bool):
            return None
        if confirmed is None or "current_a" not in c or "available" not in c:
            if rewritten is None:
                rewritten = dict(raw_chargers)
            rewritten[key] = {"current_a": current, "setpoint_a": setpoint, "reason": reason, "available": available}
            if confirmed is not None:
                rewritten[key]["failsafe_confirmed"] = confirmed
    return raw_chargers if rewritten is None else rewritten
