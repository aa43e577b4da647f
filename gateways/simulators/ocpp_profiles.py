"""A simulated charge point's charging profiles and the limit they compose to (OCPP 1.6 ed. 2, 3.13, p. 20-28).

Independent of the agent's own profile code on purpose: the simulator plays
the charger, so it reads profiles as a charger would.

- Installing (3.13.2 p. 21; 5.16.3 / 5.16.4 p. 54): a profile replaces the
  one with the same chargingProfileId, or with the same stackLevel and
  purpose; on the same connector, our reading of 3.13.1 (p. 20), where a
  connector's TxDefaultProfile replaces connector 0's for that connector only.
- Clearing (5.5 p. 47, 6.13 p. 63, errata v4.0 3.25 / 3.26): by id alone, or
  by every criterion given (connector, purpose, stack level; all must
  match); no criterion clears them all.
- Stacking (3.13.2 p. 21): among the profiles of one purpose whose
  validFrom/validTo (7.8 p. 79) cover now, the highest stackLevel prevails;
  within its schedule the period whose startPeriod was passed last applies;
  a schedule that has ended or not started yet leaves that profile without
  a limit now, and a lower stack level applies (3.13.2 note p. 21, 5.16.4
  notes p. 55).
- Combining purposes: TxProfile (during a transaction) overrules
  TxDefaultProfile (3.13.1 p. 20); ChargePointMaxProfile caps whichever
  applies, the composite being the minimum (3.13.3 p. 21).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


def parse_time(text: str | None) -> datetime | None:
    """An OCPP dateTime, or None."""
    if not text:
        return None
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@dataclass
class InstalledProfile:
    """One profile as the charger keeps it."""

    connector_id: int
    profile: dict  # snake_case keys, as the ocpp package hands them over

    @property
    def id(self) -> int:
        """chargingProfileId."""
        return self.profile["charging_profile_id"]

    @property
    def stack_level(self) -> int:
        """stackLevel."""
        return self.profile["stack_level"]

    @property
    def purpose(self) -> str:
        """chargingProfilePurpose."""
        return self.profile["charging_profile_purpose"]

    def valid_at(self, now: datetime) -> bool:
        """Whether validFrom/validTo cover `now`."""
        valid_from, valid_to = parse_time(self.profile.get("valid_from")), parse_time(self.profile.get("valid_to"))
        return (valid_from is None or valid_from <= now) and (valid_to is None or now < valid_to)

    def limit_at(self, now: datetime, session_start: datetime | None) -> tuple[float, int | None] | None:
        """(limit, numberPhases) of the period in force now, or None when the schedule does not cover now."""
        schedule = self.profile["charging_schedule"]
        kind = self.profile["charging_profile_kind"]
        start = parse_time(schedule.get("start_schedule"))
        if kind == "Relative" or start is None:
            start = session_start or now
        elif kind == "Recurring":
            period_s = 86400 if self.profile.get("recurrency_kind") == "Daily" else 7 * 86400
            while start + timedelta(seconds=period_s) <= now:
                start += timedelta(seconds=period_s)
        elapsed_s = (now - start).total_seconds()
        duration = schedule.get("duration")
        if elapsed_s < 0 or (duration is not None and elapsed_s >= duration):
            return None
        current = None
        for period in sorted(schedule["charging_schedule_period"], key=lambda p: p["start_period"]):
            if period["start_period"] <= elapsed_s:
                current = period
        if current is None:
            return None
        return float(current["limit"]), current.get("number_phases")


class ProfileStore:
    """The charger's installed profiles."""

    def __init__(self):
        self.profiles: list[InstalledProfile] = []

    def install(self, connector_id: int, profile: dict) -> None:
        """Add a profile, replacing one with the same id or the same stack level and purpose on that connector."""
        new = InstalledProfile(connector_id, profile)
        self.profiles = [
            p for p in self.profiles
            if p.id != new.id and not (p.connector_id == connector_id and p.stack_level == new.stack_level
                                       and p.purpose == new.purpose)
        ]
        self.profiles.append(new)

    def clear(self, *, id=None, connector_id=None, charging_profile_purpose=None, stack_level=None) -> bool:
        """Remove the profiles matching the criteria; whether any went."""
        def matches(p: InstalledProfile) -> bool:
            if id is not None:
                return p.id == id
            return ((connector_id is None or p.connector_id == connector_id)
                    and (charging_profile_purpose is None or p.purpose == charging_profile_purpose)
                    and (stack_level is None or p.stack_level == stack_level))
        kept = [p for p in self.profiles if not matches(p)]
        removed = len(kept) != len(self.profiles)
        self.profiles = kept
        return removed

    def _prevailing(self, connector_id: int, purpose: str, now: datetime, session_start):
        candidates = [
            p for p in self.profiles
            if p.purpose == purpose and p.connector_id in (connector_id, 0) and p.valid_at(now)
        ]
        # Highest stack level first; a connector's own profile before the charge point's at the same level.
        for profile in sorted(candidates, key=lambda p: (p.stack_level, p.connector_id != 0), reverse=True):
            limit = profile.limit_at(now, session_start)
            if limit is not None:
                return limit
        return None

    def composite_limit(self, connector_id: int, now: datetime, *, in_transaction: bool,
                        session_start: datetime | None = None) -> tuple[float, int | None] | None:
        """(limit A, numberPhases) the profiles allow the connector now, or None when no profile applies."""
        limit = None
        if in_transaction:
            limit = self._prevailing(connector_id, "TxProfile", now, session_start)
        if limit is None:
            limit = self._prevailing(connector_id, "TxDefaultProfile", now, session_start)
        cap = self._prevailing(0, "ChargePointMaxProfile", now, session_start)
        if cap is not None and (limit is None or cap[0] < limit[0]):
            limit = (cap[0], limit[1] if limit else cap[1])
        return limit
