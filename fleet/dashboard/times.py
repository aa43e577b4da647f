"""One rule for every time on the dashboard: in the viewer's time zone (their profile), else the site's, labelled.

An operator in Lisbon watching a site in Berlin must never wonder which clock a
time is on: every time carries its zone's abbreviation, and pages that are not
about one site (the overview's clock) use the viewer's zone, else UTC.
"""

from __future__ import annotations

import zoneinfo
from datetime import datetime

from django.utils import timezone

FLEET_DEFAULT_ZONE = "UTC"
"""The zone of times that belong to no one site (the overview's clock) for a viewer who chose none."""


def viewer_time_zone(user) -> str:
    """The zone the user chose in their profile, or an empty string when they chose none."""
    if not user.is_authenticated:
        return ""
    profile = getattr(user, "operator_profile", None)  # a missing profile is an AttributeError subclass
    return profile.time_zone if profile is not None else ""


def display_zone(viewer_zone: str, site_zone: str | None = None) -> str:
    """The zone a time is shown in: the viewer's choice, else the site's, else UTC."""
    return viewer_zone or site_zone or FLEET_DEFAULT_ZONE


def time_text(value: datetime | None, zone: str, *, seconds: bool = True, date: bool = True) -> str:
    """`value` in `zone`, labelled with the zone's abbreviation ("2026-11-30 13:00:05 CET"); empty when unknown."""
    if value is None:
        return ""
    local = timezone.localtime(value, zoneinfo.ZoneInfo(zone))
    pattern = ("%Y-%m-%d " if date else "") + ("%H:%M:%S" if seconds else "%H:%M")
    return f"{local.strftime(pattern)} {local.tzname()}"
