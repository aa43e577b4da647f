"""The site config a gateway fetches: its site's networks, meters, chargers and limits.

Built from the models in the shape of `gateways.protocol` (the agent's TOML
shape, one function per object in `fleet.config_wire`) and checked with the
same parser the agent uses, so the server never hands out a config the agent
would reject. The gateway, networks and chargers are keyed by their primary
keys as strings, which stay stable when operators rename them; the names
travel along for people.
"""

import hashlib
import json
import logging

from gateways.protocol import ConfigError, parse_site_config

from fleet.config_wire import gateway_wire, network_wire
from django.db.models import Prefetch

from django.db.models import Q
from django.utils import timezone

from fleet.models import Charger, ChargingNetwork, Gateway, NetworkPowerCap, NetworkRecurringCap
from gateways.protocol.limits import MAX_POWER_CAPS_PER_NETWORK, MAX_RECURRING_CAPS_PER_NETWORK

log = logging.getLogger(__name__)


class SiteConfigInconsistent(Exception):
    """The site's objects are each valid but do not fit together (changed concurrently around validation)."""


def site_config_build(gateway: Gateway) -> dict:
    """The gateway's config as plain data; networks without a meter are left out (they cannot be regulated).

    Each network carries its caps not yet ended, soonest first, as many as the
    protocol allows: the gateway starts and ends them by its own clock, and an
    ended cap leaves the config (and so changes its ETag) at the next poll.
    The recurring caps go along whole; the gateway judges their windows on the
    site's wall clock.
    """
    caps_open = NetworkPowerCap.objects.filter(Q(end__isnull=True) | Q(end__gt=timezone.now())).order_by("start", "pk")
    networks = (
        ChargingNetwork.objects.filter(site=gateway.site)
        .select_related("meter")
        .prefetch_related(
            Prefetch("chargers", queryset=Charger.objects.order_by("pk")),
            Prefetch("power_caps", queryset=caps_open, to_attr="caps_open"),
            Prefetch("recurring_caps", queryset=NetworkRecurringCap.objects.order_by("pk"), to_attr="caps_recurring"),
        )
        .order_by("pk")
    )
    data = {
        "gateway": gateway_wire(gateway),
        "networks": [
            network_wire(n, n.meter, n.chargers.all(), n.caps_open[:MAX_POWER_CAPS_PER_NETWORK],
                         n.caps_recurring[:MAX_RECURRING_CAPS_PER_NETWORK])
            for n in networks
            if hasattr(n, "meter")
        ],
    }
    try:
        parse_site_config(data)
    except ConfigError as problem:
        # Every object passed the protocol's validation on its own; only edits racing each other get here.
        log.error("gateway %s: site config does not validate: %s", gateway.pk, problem)
        raise SiteConfigInconsistent(str(problem)) from None
    return data


def config_etag(config: dict) -> str:
    """A strong ETag over the canonical JSON of a config."""
    canonical = json.dumps(config, sort_keys=True, separators=(",", ":")).encode()
    return '"' + hashlib.sha256(canonical).hexdigest()[:32] + '"'
