"""The two layers of charging profiles FuseGuard keeps on an OCPP 1.6J charge point.

Both are `TxDefaultProfile`s on the configured connector, in amperes
(OCPP 1.6 edition 2, 3.13.1 purposes, 7.8 ChargingProfile, 7.9 ChargingSchedule):

- the failsafe layer, stack level 0, permanent: what the charger may draw
  when it hears nothing from the agent;
- the live layer, the highest stack level the charger allows
  (`ChargeProfileMaxStackLevel`, 9.4), holding the setpoint with a `validTo`
  one failsafe timeout ahead. The highest stack level whose validity covers
  now wins (3.13.2 stacking), so the live layer rules while the agent renews
  it and the failsafe layer takes over by itself when it lapses.

The two have distinct profile ids: a profile replaces another with the same
id, or with the same stack level and purpose (5.16 SetChargingProfile), so
ours replace only ours and whatever sat at their levels.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

FAILSAFE_PROFILE_ID = 4100
"""chargingProfileId of the permanent stack-level-0 layer."""
LIVE_PROFILE_ID = 4101
"""chargingProfileId of the live layer that expires unless renewed."""
FAILSAFE_STACK_LEVEL = 0
SCHEDULE_START_MARGIN_S = 300
"""`startSchedule` lies this far back, so a charger whose clock runs a little behind still applies the profile now."""


def utc_now() -> datetime:
    """Wall-clock time in UTC: OCPP's timestamps (and `validTo`) run on it, not on the monotonic clock."""
    return datetime.now(UTC)


def ocpp_time(moment: datetime) -> str:
    """An OCPP dateTime (RFC 3339 in UTC with a Z, 7.x 'dateTime')."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_ocpp_time(text: str) -> datetime:
    """An OCPP dateTime back into an aware datetime; raises ValueError."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def limit_a(current_a: float) -> float:
    """A current as a profile limit: OCPP 1.6 allows one decimal (7.10 ChargingSchedulePeriod); rounded down, to draw less."""
    return math.floor(current_a * 10 + 1e-9) / 10


def tx_default_profile(profile_id: int, stack_level: int, current_a: float, number_phases: int, now: datetime,
                       valid_for_s: float | None = None) -> dict:
    """A one-period `TxDefaultProfile` in A, starting now and lasting forever or `valid_for_s` (its `validTo`)."""
    profile = {
        "charging_profile_id": profile_id,
        "stack_level": stack_level,
        "charging_profile_purpose": "TxDefaultProfile",
        "charging_profile_kind": "Absolute",
        "charging_schedule": {
            "charging_rate_unit": "A",
            "start_schedule": ocpp_time(now - timedelta(seconds=SCHEDULE_START_MARGIN_S)),
            "charging_schedule_period": [
                {"start_period": 0, "limit": limit_a(current_a), "number_phases": number_phases},
            ],
        },
    }
    if valid_for_s is not None:
        profile["valid_to"] = ocpp_time(now + timedelta(seconds=valid_for_s))
    return profile
