"""Ending a power cap before its time, and withdrawing one that has not started.

A cap in force ends by getting ``end = now``: it is then no longer among the
caps the site config carries (`site_config.site_config_build` keeps only
caps not yet ended), so the config's ETag changes and the gateway lifts the
cap at its next config poll, recording the edge like any other end. A cap
that has not started yet was never applied: withdrawing it removes it.

Both are one conditional statement that acts only on a cap in the expected
state, so two operators pressing at once, or a retried request, change it
once; the loser is told why nothing happened.
"""

from __future__ import annotations

import enum
from datetime import datetime

from django.db.models import Q
from django.utils import timezone

from fleet.models import NetworkPowerCap


class CapState(enum.Enum):
    """Where a cap stands at a moment, as far as ending it is concerned."""

    SCHEDULED = "scheduled"
    IN_FORCE = "in_force"
    ENDED = "ended"


class CapNotChanged(Exception):
    """The cap was not in the state the action needs; ``state`` says which it was in."""

    def __init__(self, state: CapState, message: str):
        super().__init__(message)
        self.state = state


def power_cap_state(cap: NetworkPowerCap, now: datetime) -> CapState:
    """Whether ``cap`` has not started, holds, or has ended at ``now`` (start included, end excluded)."""
    if cap.start > now:
        return CapState.SCHEDULED
    if cap.end is not None and cap.end <= now:
        return CapState.ENDED
    return CapState.IN_FORCE


def power_cap_end(cap: NetworkPowerCap, *, now: datetime | None = None) -> NetworkPowerCap:
    """End the cap in force now; refresh ``cap``. Raises `CapNotChanged` for a cap scheduled or already ended."""
    now = now or timezone.now()
    # start < now, strictly: the database requires end > start.
    changed = (
        NetworkPowerCap.objects.filter(pk=cap.pk, start__lt=now)
        .filter(Q(end__isnull=True) | Q(end__gt=now))
        .update(end=now)
    )
    cap.refresh_from_db()
    if changed:
        return cap
    state = power_cap_state(cap, now)
    if state is CapState.ENDED:
        raise CapNotChanged(state, f"The cap ended at {cap.end:%Y-%m-%d %H:%M:%S} UTC already.")
    raise CapNotChanged(state, "The cap has not started yet; withdraw it (DELETE) instead of ending it.")


def power_cap_withdraw(cap: NetworkPowerCap, *, now: datetime | None = None) -> None:
    """Remove a cap that has not started yet. Raises `CapNotChanged` for a cap that has started (it is on record)."""
    now = now or timezone.now()
    deleted, _ = NetworkPowerCap.objects.filter(pk=cap.pk, start__gt=now).delete()
    if deleted:
        return
    state = power_cap_state(cap, now)
    if state is CapState.IN_FORCE:
        raise CapNotChanged(state, "The cap is in force; end it (POST .../end/) instead: what was applied stays on record.")
    raise CapNotChanged(state, "The cap has ended; it stays on record.")
