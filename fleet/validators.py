"""Field validators whose vocabularies are defined outside Django.

Meter model keys live in the `meters` catalog and charger driver keys in
`gateways.protocol`; validating against them (instead of copying them into
`choices`) keeps one definition and keeps migrations stable when the catalog
grows.
"""

import zoneinfo

from django.core.exceptions import ValidationError

from balancing import PHASE_ROTATIONS
from gateways.protocol import CHARGER_DRIVERS
from gateways.protocol.fields import host_error


def meter_model_keys() -> tuple[str, ...]:
    """Keys of every meter model in the catalog."""
    from meters.catalog import model_keys

    return tuple(model_keys())


def validate_meter_model(value: str) -> None:
    """Reject a meter model key the catalog does not know."""
    keys = meter_model_keys()
    if value not in keys:
        raise ValidationError(
            "Unknown meter model %(value)r; choose one of the catalog's keys, e.g. %(examples)s.",
            code="unknown_meter_model",
            params={"value": value, "examples": ", ".join(keys[:4])},
        )


def validate_charger_driver(value: str) -> None:
    """Reject a charger driver key the gateway agent does not ship."""
    if value not in CHARGER_DRIVERS:
        raise ValidationError(
            "Unknown charger driver %(value)r; use one of %(drivers)s.",
            code="unknown_charger_driver",
            params={"value": value, "drivers": ", ".join(CHARGER_DRIVERS)},
        )


def validate_time_zone(value: str) -> None:
    """Reject a name that is not an IANA time zone, such as Europe/Berlin."""
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValidationError(
            "%(value)r is not a time zone name such as Europe/Berlin.", code="invalid_time_zone", params={"value": value}
        ) from None


def validate_host(value: str) -> None:
    """Accept an IPv4/IPv6 address or a DNS host name, nothing else (the protocol's rule)."""
    problem = host_error(value)
    if problem:
        raise ValidationError("%(problem)s.", code="invalid_host", params={"problem": problem})


PHASE_ROTATION_CHOICES = [(rotation, rotation) for rotation in PHASE_ROTATIONS]
