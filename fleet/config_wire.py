"""Fleet objects written in the site config's wire shape, and the protocol's verdict on them as Django errors.

One function per object turns a model instance into the dict the gateway
receives (`gateways.protocol`'s field names). The site config endpoint joins
them; each model's `clean()` hands its own dict to the protocol's validator
for that object. So the server accepts exactly what the agent accepts, with
one set of rules, and the error names the model field (the keys are the
field names).

Reads attributes only; importing no models keeps it usable from the models.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError

from gateways.protocol import ConfigError
from gateways.protocol.limits import DEFAULT_OCPP_PORT
from gateways.protocol.power_caps import utc_text

PLACEHOLDER_ID = "new"
"""The id a not yet saved object is validated under (its key in the config is its primary key)."""


def gateway_wire(gateway) -> dict[str, Any]:
    """A gateway's own settings: `id` is its stable key, `name` is for people."""
    return {
        "id": str(gateway.pk or PLACEHOLDER_ID),
        "name": gateway.name,
        "poll_interval_s": gateway.poll_interval_s,
        "failsafe_timeout_s": gateway.failsafe_timeout_s,
        "frozen_after_s": gateway.frozen_after_s,
        "time_zone": gateway.site.time_zone if gateway.site_id else "UTC",
        "ocpp_listen": gateway.ocpp_listen or f"0.0.0.0:{DEFAULT_OCPP_PORT}",
        "ocpp_tls_cert": gateway.ocpp_tls_cert or None,
        "ocpp_tls_key": gateway.ocpp_tls_key or None,
    }


def network_limits_wire(network) -> dict[str, Any]:
    """A network's own settings: its key, name and limits."""
    return {
        "id": str(network.pk or PLACEHOLDER_ID),
        "name": network.name,
        "max_current_per_phase_a": network.max_current_per_phase_a,
        "max_power_w": network.max_power_w,
        "fallback_power_w": network.fallback_power_w,
        "nominal_voltage_v": network.nominal_voltage_v,
    }


def meter_wire(meter) -> dict[str, Any]:
    """A grid meter's settings."""
    return {
        "model": meter.model,
        "host": meter.host,
        "port": meter.port,
        "unit_id": meter.unit_id,
        "phase_rotation": meter.phase_rotation,
        "timeout_s": meter.timeout_s,
    }


def charger_wire(charger) -> dict[str, Any]:
    """A charger's settings; an empty host means none (drivers that run in the agent need none)."""
    return {
        "id": str(charger.pk or PLACEHOLDER_ID),
        "name": charger.name,
        "driver": charger.driver,
        "host": charger.host or None,
        "port": charger.port,
        "unit_id": charger.unit_id,
        "phase_rotation": charger.phase_rotation,
        "phases": charger.phases,
        "min_current_a": charger.min_current_a,
        "max_current_a": charger.max_current_a,
        "priority": charger.priority,
        # OCPP's keys; empty means unset, which the protocol requires of other drivers.
        "charge_point_id": charger.charge_point_id or None,
        "connector_id": charger.connector_id,
        "password": charger.password or None,
    }


def power_cap_wire(cap) -> dict[str, Any]:
    """An external cap on a network's power; times in UTC, as the gateway keeps them."""
    return {
        "id": str(cap.pk or PLACEHOLDER_ID),
        "source": cap.source,
        "power_w": cap.power_w,
        "start": utc_text(cap.start),
        "end": utc_text(cap.end) if cap.end is not None else None,
        "reason": cap.reason or None,
    }


def _time_of_day_text(moment) -> str:
    """HH:MM, or the full time when it has seconds (which the protocol then refuses, naming the field)."""
    return moment.strftime("%H:%M") if not (moment.second or moment.microsecond) else moment.isoformat()


def recurring_cap_wire(cap) -> dict[str, Any]:
    """A weekly window on a network's power; times are the site's wall clock (the gateway's time_zone)."""
    return {
        "id": str(cap.pk or PLACEHOLDER_ID),
        "source": cap.source,
        "power_w": cap.power_w,
        "days": cap.days,
        "start_time": _time_of_day_text(cap.start_time),
        "end_time": _time_of_day_text(cap.end_time),
        "reason": cap.reason or None,
    }


def network_wire(network, meter, chargers, power_caps=(), recurring_caps=()) -> dict[str, Any]:
    """A network with its meter, chargers, the caps not yet ended and the recurring ones, as the gateway receives it."""
    return {
        **network_limits_wire(network),
        "meter": meter_wire(meter),
        "chargers": [charger_wire(c) for c in chargers],
        "power_caps": [power_cap_wire(cap) for cap in power_caps],
        "recurring_caps": [recurring_cap_wire(cap) for cap in recurring_caps],
    }


class ProtocolChecked:
    """Model mixin: remembers which fields failed their own validators, so the protocol does not repeat them."""

    def clean_fields(self, exclude=None):
        self.fields_refused = set()
        try:
            super().clean_fields(exclude=exclude)
        except ValidationError as error:
            self.fields_refused = set(error.error_dict)
            raise


def protocol_verdict(validate: Callable[..., Any], data: dict[str, Any], *, instance, **options) -> Any:
    """Run a protocol validator on an object's wire dict; its complaint becomes a ValidationError on the field.

    Returns the validated protocol object. The protocol stops at its first
    problem; a problem with a field whose own validators already refused it
    (the same rule, see `gateways.protocol.limits`) is not reported twice; a
    key that is no field of the model is reported for the object as a whole.
    """
    try:
        return validate(data, **options)
    except ConfigError as problem:
        key = problem.path.split(".")[0].split("[")[0]
        if key in getattr(instance, "fields_refused", ()):
            return None
        field = key if key in {f.name for f in instance._meta.get_fields()} else NON_FIELD_ERRORS
        raise ValidationError({field: _sentence(problem.problem)}) from None


def _sentence(problem: str) -> str:
    """The protocol's problem text as a sentence for a form ("must be at most 1000, got 5000.")."""
    text = problem[0].upper() + problem[1:] if problem else problem
    return text if text.endswith(".") else text + "."
