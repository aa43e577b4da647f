"""The site config a gateway fetches: its site's networks, meters, chargers and limits.

Built from the models in the shape of `gateways.protocol` (the agent's TOML
shape) and checked with the same parser the agent uses, so the server never
hands out a config the agent would reject. Networks and chargers are keyed
by their primary keys as strings, which stay stable when operators rename
them; the names travel along for people.
"""

import hashlib
import json
import logging

from gateways.protocol import ConfigError, parse_site_config

from fleet.models import ChargingNetwork, Gateway

log = logging.getLogger(__name__)

DEFAULT_POLL_INTERVAL_S = 1.0


def _network_dict(network: ChargingNetwork) -> dict:
    meter = network.meter
    return {
        "id": str(network.pk),
        "name": network.name,
        "max_current_per_phase_a": network.max_current_per_phase_a,
        "max_power_w": network.max_power_w,
        "fallback_power_w": network.fallback_power_w,
        "nominal_voltage_v": network.nominal_voltage_v,
        "meter": {
            "model": meter.model,
            "host": meter.host,
            "port": meter.port,
            "unit_id": meter.unit_id,
            "phase_rotation": meter.phase_rotation,
            "timeout_s": meter.timeout_s,
        },
        "chargers": [
            {
                "id": str(charger.pk),
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
            }
            for charger in network.chargers.order_by("pk")
        ],
    }


def site_config_build(gateway: Gateway) -> dict:
    """The gateway's config as plain data; networks without a meter are left out (they cannot be regulated)."""
    networks = (
        ChargingNetwork.objects.filter(site=gateway.site).select_related("meter").prefetch_related("chargers").order_by("pk")
    )
    usable = [n for n in networks if hasattr(n, "meter")]
    poll_interval_s = min((n.meter.poll_interval_s for n in usable), default=DEFAULT_POLL_INTERVAL_S)
    data = {
        "gateway": {
            "id": gateway.name,
            "poll_interval_s": poll_interval_s,
            "failsafe_timeout_s": gateway.failsafe_timeout_s,
            "stale_after_polls": gateway.stale_after_polls,
            "time_zone": gateway.site.time_zone,
        },
        "networks": [_network_dict(n) for n in usable],
    }
    try:
        parse_site_config(data)
    except ConfigError as problem:
        # The models validate the same rules, so this means data was changed around the validation.
        log.error("gateway %s: site config does not validate: %s", gateway.pk, problem)
        raise
    return data


def config_etag(config: dict) -> str:
    """A strong ETag over the canonical JSON of a config."""
    canonical = json.dumps(config, sort_keys=True, separators=(",", ":")).encode()
    return '"' + hashlib.sha256(canonical).hexdigest()[:32] + '"'
