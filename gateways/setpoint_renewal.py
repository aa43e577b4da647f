"""When the regulator sends a charger its setpoint: on a change, on a disagreeing reading, on renewal.

The regulator owns renewal, not the drivers (see `gateways.chargers.base`).
A setpoint goes out when

- it was never sent, or the last send failed or was held back, or the charger
  has just come back (when in doubt, resend);
- it differs from the last one sent;
- a reading taken after the last send shows the station not holding it: on
  when told off, off or offering nothing when told on, or offering more than
  told (offering less is a hardware cap such as KEBA's DIP switches, and safe);
- the last send is due for renewal.

Every setpoint is sent valid for `valid_for_s` (the gateway's failsafe
timeout: a charger that hears nothing for that long falls back by itself) and
renewed after `renew_after_s`: a third of that, but never more often than the
station asks for between repeated commands (KEBA: 5 s) and never later than
half of it, so one lost renewal never lets a setpoint lapse. Where the
station's spacing and half the lifetime conflict, the lifetime wins.
"""

from __future__ import annotations

from gateways.chargers.base import ChargerReading

SETPOINT_TOLERANCE_A = 0.01
"""Read-back rounding (KEBA reports mA) that still counts as holding the setpoint."""


def renew_after_s(valid_for_s: float, min_resend_interval_s: float) -> float:
    """Seconds after a send at which the same setpoint is sent again."""
    return min(valid_for_s / 2, max(valid_for_s / 3, min_resend_interval_s))


def holds(reading: ChargerReading, sent_a: float) -> bool:
    """Whether a reading shows the station holding the setpoint we sent (see the module docstring)."""
    if sent_a == 0:
        return not reading.enabled or reading.setpoint_a == 0
    if not reading.enabled:
        return False
    if reading.setpoint_a is None:
        return True  # the station cannot tell; renewal covers it
    return 0 < reading.setpoint_a <= sent_a + SETPOINT_TOLERANCE_A


def send_reason(
    target_a: float,
    sent_a: float | None,
    sent_at_s: float | None,
    sent_done_s: float | None,
    reading: ChargerReading | None,
    now_s: float,
    renew_after: float,
) -> str | None:
    """Why the setpoint must go out this cycle (`first`, `changed`, `not_held`, `renewal`), or None to leave it."""
    if sent_a is None or sent_at_s is None or sent_done_s is None:
        return "first"
    if target_a != sent_a:
        return "changed"
    if reading is not None and reading.monotonic_s >= sent_done_s and not holds(reading, sent_a):
        return "not_held"
    if now_s - sent_at_s >= renew_after:
        return "renewal"
    return None
