"""Seed the embedded demo: one organisation, a login for it and a simulated site."""

import os
import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from fleet.models import Charger, ChargingNetwork, Gateway, Membership, Meter, Organization, Role, Site

DEMO_USERNAME = "demo"


class Command(BaseCommand):
    """Create (or refresh) the demo organisation and print how to sign in."""

    help = "Create the demo organisation, a simulated site and an operator login, and print the login."

    def handle(self, *args, **options) -> None:
        password = os.environ.get("FUSEGUARD_DEMO_PASSWORD") or secrets.token_urlsafe(12)
        with transaction.atomic():
            organization, _ = Organization.objects.get_or_create(slug="demo", defaults={"name": "Demo Energy"})
            user, _ = get_user_model().objects.get_or_create(username=DEMO_USERNAME)
            user.is_staff = True
            user.set_password(password)
            user.save()
            Membership.objects.update_or_create(user=user, organization=organization, defaults={"role": Role.ADMIN})
            self._seed_site(organization)
        self.stdout.write(
            self.style.SUCCESS(f"Demo login: user {DEMO_USERNAME!r}, password {password!r} (organisation {organization.name})")
        )

    def _seed_site(self, organization: Organization) -> None:
        site, _ = Site.objects.get_or_create(
            organization=organization, name="Garage North", defaults={"address": "Demo street 1", "time_zone": "Europe/Berlin"}
        )
        Gateway.objects.get_or_create(site=site, name="garage-north")
        network, created = ChargingNetwork.objects.get_or_create(
            site=site,
            name="main",
            defaults={"max_current_per_phase_a": 32, "max_power_w": 22000, "fallback_power_w": 4140},
        )
        if not created:
            return
        meter = Meter(network=network, model="carlo-gavazzi-em24", host="127.0.0.1", port=15020, unit_id=1)
        meter.full_clean()
        meter.save()
        for name, rotation in (("cp1", "L1L2L3"), ("cp2", "L2L3L1"), ("cp3", "L3L1L2")):
            charger = Charger(network=network, name=name, driver="simulated", phase_rotation=rotation, max_current_a=16)
            charger.full_clean()
            charger.save()
