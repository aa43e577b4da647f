"""Creating and removing the fleet that the load simulator (`gateways.fleetsim`) drives.

Everything is made with bulk inserts, so ten thousand sites take seconds, not
minutes: one organisation per 100 sites, each site with one gateway (token
issued, the same hash as `gateway_issue_token`), one charging network with a
meter and one or two simulated chargers. Organisations are named
`fleetsim <prefix> <number>`, which is how `simulated_fleet_remove` finds
them again and nothing else.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from django.db import transaction

from fleet.models import Charger, ChargingNetwork, Gateway, Meter, Organization, Site
from fleet.services.gateway_tokens import gateway_token_new
from fleet.services.site_config import site_config_build

SITES_PER_ORGANIZATION = 100
BULK_BATCH = 2000
_PREFIX_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,30}$")


class FleetPrefixInvalid(ValueError):
    """The prefix is not a short lowercase slug, or a fleet with it exists already."""


@dataclass(frozen=True)
class SimulatedFleet:
    """What was created: the gateways' tokens in clear (shown only now), and the counts."""

    tokens: list[str]
    organizations: int
    sites: int
    chargers: int


def _organization_name(prefix: str, index: int) -> str:
    return f"fleetsim {prefix} {index:04d}"


def _check_prefix(prefix: str) -> None:
    if not _PREFIX_PATTERN.match(prefix):
        raise FleetPrefixInvalid(f"prefix {prefix!r}: use 1-31 lowercase letters, digits and hyphens (e.g. fs10k)")


def _organizations(prefix: str):
    return Organization.objects.filter(name__regex=rf"^fleetsim {re.escape(prefix)} [0-9]{{4,}}$")


def simulated_fleet_create(count: int, prefix: str) -> SimulatedFleet:
    """Create `count` sites with a gateway, a network, a meter and one or two chargers each; return their tokens."""
    _check_prefix(prefix)
    if count < 1:
        raise ValueError("count must be at least 1")
    if _organizations(prefix).exists():
        raise FleetPrefixInvalid(f"a simulated fleet with the prefix {prefix!r} exists; remove it first")
    organization_count = math.ceil(count / SITES_PER_ORGANIZATION)
    with transaction.atomic():
        organizations = Organization.objects.bulk_create(
            [Organization(name=_organization_name(prefix, i), slug=f"fleetsim-{prefix}-{i:04d}")
             for i in range(organization_count)],
            batch_size=BULK_BATCH,
        )
        sites = Site.objects.bulk_create(
            [Site(organization=organizations[i // SITES_PER_ORGANIZATION], name=f"{prefix}-site-{i:05d}", time_zone="UTC")
             for i in range(count)],
            batch_size=BULK_BATCH,
        )
        issued = [gateway_token_new() for _ in range(count)]
        Gateway.objects.bulk_create(
            [Gateway(site=site, name="gw", token_hash=token_hash, token_prefix=token_prefix)
             for site, (_, token_hash, token_prefix) in zip(sites, issued, strict=True)],
            batch_size=BULK_BATCH,
        )
        networks = ChargingNetwork.objects.bulk_create(
            [ChargingNetwork(site=site, name="main", max_current_per_phase_a=32, fallback_power_w=4140) for site in sites],
            batch_size=BULK_BATCH,
        )
        Meter.objects.bulk_create(
            [Meter(network=network, model="carlo-gavazzi-em24", host="127.0.0.1", port=502) for network in networks],
            batch_size=BULK_BATCH,
        )
        # Every second site has two chargers: samples of both sizes, as in a real fleet.
        chargers = Charger.objects.bulk_create(
            [Charger(network=network, name=f"cp{n}", driver="simulated", max_current_a=16)
             for i, network in enumerate(networks) for n in range(1, 2 + i % 2)],
            batch_size=BULK_BATCH,
        )
        # The first site's config as the server hands it out: proves the bulk rows fit the protocol.
        site_config_build(Gateway.objects.select_related("site").get(site=sites[0]))
    return SimulatedFleet([token for token, _, _ in issued], len(organizations), len(sites), len(chargers))


def simulated_fleet_remove(prefix: str) -> int:
    """Delete the simulated fleet with this prefix, its telemetry and incidents included; returns the sites removed."""
    _check_prefix(prefix)
    organizations = _organizations(prefix)
    with transaction.atomic():
        sites = Site.objects.filter(organization__in=organizations)
        removed = sites.count()
        sites.delete()  # sites protect their organisation: they go first
        organizations.delete()
    return removed
