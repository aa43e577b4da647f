"""Fixtures for the fleet server: two organisations, each with a full site, and their users."""

from dataclasses import dataclass

import pytest
from django.contrib.auth import get_user_model

from fleet.models import Charger, ChargingNetwork, Gateway, Membership, Meter, Organization, Role, Site


@dataclass
class Tenant:
    """One organisation with a site, a gateway, a network, its meter and a charger, plus one user per role."""

    organization: Organization
    site: Site
    gateway: Gateway
    network: ChargingNetwork
    meter: Meter
    charger: Charger
    operator: object
    viewer: object


def make_tenant(slug: str) -> Tenant:
    """Create a complete tenant whose object names all carry the slug, so leaks are easy to spot."""
    organization = Organization.objects.create(name=f"Org {slug}", slug=slug)
    site = Site.objects.create(organization=organization, name=f"site-{slug}", time_zone="Europe/Berlin")
    gateway = Gateway.objects.create(site=site, name=f"gw-{slug}")
    network = ChargingNetwork.objects.create(
        site=site, name=f"net-{slug}", max_current_per_phase_a=32, max_power_w=22000, fallback_power_w=4140
    )
    meter = Meter.objects.create(network=network, model="carlo-gavazzi-em24", host=f"meter-{slug}.example", port=502, unit_id=1)
    charger = Charger.objects.create(network=network, name=f"cp-{slug}", driver="simulated", max_current_a=16)
    users = {}
    for role in (Role.OPERATOR, Role.VIEWER):
        user = get_user_model().objects.create_user(username=f"{role}-{slug}", password="pw-for-tests-only", is_staff=True)
        Membership.objects.create(user=user, organization=organization, role=role)
        users[role] = user
    return Tenant(organization, site, gateway, network, meter, charger, users[Role.OPERATOR], users[Role.VIEWER])


@pytest.fixture
def tenant_a(db) -> Tenant:
    return make_tenant("alpha")


@pytest.fixture
def tenant_b(db) -> Tenant:
    return make_tenant("bravo")
