"""The two layers of charging profiles FuseGuard keeps on an OCPP 1.6J charge point.

Both are `TxDefaultProfile`s on the configured connector, in amperes per
phase (OCPP 1.6 ed. 2, see `gateways.ocpp16`: 3.13.1 Charging profile
purposes p. 20, 7.8 ChargingProfile p. 78, 7.12 ChargingRateUnitType p. 80,
7.13 ChargingSchedule p. 80):

- the failsafe layer, stack level 0, permanent: what the charger may draw
  when it hears nothing from the agent (a charger keeps its profiles across
  reboots: errata v4.0, 3.37);
- the live layer, the highest stack level the charger allows
  (`ChargeProfileMaxStackLevel`, 9.4.1 p. 107), holding the setpoint with a
  `validTo` one failsafe timeout ahead. The profile with the highest stack
  level among those valid now by their validFrom/validTo prevails (3.13.2
  Stacking charging profiles p. 21; 7.8 p. 79: without validTo a profile is
  valid until replaced), so the live layer rules while the agent renews it
  and the failsafe layer takes over by itself when it lapses.

The two have distinct profile ids: a profile replaces another with the same
id, or with the same stack level and purpose (3.13.2 p. 21; 5.16.3 / 5.16.4
p. 54), so ours replace only ours and whatever sat at their levels.
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
    """An OCPP dateTime: ISO 8601, in UTC with a Z (OCPP 1.6 ed. 2, 3.14 Time zones / 3.15 Time notations, p. 29)."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_ocpp_time(text: str) -> datetime:
    """An OCPP dateTime back into an aware datetime; raises ValueError."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def limit_a(current_a: float) -> float:
    """A current as a profile limit: one decimal at most (OCPP 1.6 ed. 2, 7.14, p. 81), rounded down to draw less."""
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
