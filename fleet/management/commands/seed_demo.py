"""Seed the embedded demo: one organisation, a login for it and three simulated sites."""

import os
import secrets
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from fleet.models import Charger, ChargingNetwork, Gateway, Membership, Meter, Organization, Role, Site

DEMO_USERNAME = "demo"


@dataclass(frozen=True)
class DemoSite:
    """One simulated site of the demo."""

    name: str
    gateway: str
    meter_model: str
    max_current_per_phase_a: int
    fallback_power_w: int | None
    chargers: tuple[tuple, ...]  # (name, phase rotation, phases[, driver]); the driver defaults to "simulated"
    flaky_meter: bool = False


DEMO_SITES = (
    DemoSite("Garage North", "garage-north", "carlo-gavazzi-em24", 32, 4140,
             (("cp1", "L1L2L3", 3), ("cp2", "L2L3L1", 3), ("cp3", "L3L1L2", 3))),
    DemoSite("Office Park", "office-park", "siemens-7km2200", 40, 8280,
             (("east-1", "L1L2L3", 3), ("east-2", "L2L3L1", 3), ("west-1", "L3L1L2", 1), ("west-2", "L1L2L3", 1),
              ("wallbox-ocpp", "L2L3L1", 3, "ocpp16"))),  # a simulated OCPP 1.6J charge point dialing in
    DemoSite("Riverside Flats", "riverside-flats", "kostal-ksem", 25, None,
             (("flat-a", "L1L2L3", 3), ("flat-b", "L2L3L1", 3)), flaky_meter=True),
)


class Command(BaseCommand):
    """Create (or refresh) the demo organisation and print how to sign in."""

    help = "Create the demo organisation, three simulated sites and an operator login, and print the login."

    def handle(self, *args, **options) -> None:
        password = os.environ.get("FUSEGUARD_DEMO_PASSWORD") or secrets.token_urlsafe(12)
        with transaction.atomic():
            organization, _ = Organization.objects.get_or_create(slug="demo", defaults={"name": "Demo Energy"})
            user, _ = get_user_model().objects.get_or_create(username=DEMO_USERNAME)
            user.is_staff = True
            user.set_password(password)
            user.save()
            Membership.objects.update_or_create(user=user, organization=organization, defaults={"role": Role.ADMIN})
            for number, demo in enumerate(DEMO_SITES):
                seed_site(organization, demo, meter_port=15020 + number)
        self.stdout.write(
            self.style.SUCCESS(f"Demo login: user {DEMO_USERNAME!r}, password {password!r} (organisation {organization.name})")
        )


def seed_site(organization: Organization, demo: DemoSite, meter_port: int) -> Site:
    """Create one demo site with its gateway, network, meter and chargers, unless it exists."""
    site, _ = Site.objects.get_or_create(
        organization=organization, name=demo.name, defaults={"address": "Demo street 1", "time_zone": "Europe/Berlin"}
    )
    Gateway.objects.get_or_create(site=site, name=demo.gateway)
    network, created = ChargingNetwork.objects.get_or_create(
        site=site,
        name="main",
        defaults={"max_current_per_phase_a": demo.max_current_per_phase_a, "max_power_w": 22000 if len(demo.chargers) < 4 else 44000,
                  "fallback_power_w": demo.fallback_power_w},
    )
    if not created:
        return site
    meter = Meter(network=network, model=demo.meter_model, host="127.0.0.1", port=meter_port)
    meter.full_clean()
    meter.save()
    for name, rotation, phases, *driver in demo.chargers:
        ocpp = driver == ["ocpp16"]
        charger = Charger(network=network, name=name, driver=driver[0] if driver else "simulated",
                          phase_rotation=rotation, phases=phases, max_current_a=16,
                          charge_point_id=f"{demo.gateway}-{name}" if ocpp else "")
        charger.full_clean()
        charger.save()
    return site
