"""The demo seed creates a usable login and a valid simulated site, and can run again."""

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command

from fleet.models import Charger, ChargingNetwork, Membership, Role

pytestmark = pytest.mark.django_db


def test_seed_demo_prints_a_working_login_and_builds_a_valid_site(capsys, monkeypatch):
    monkeypatch.setenv("FUSEGUARD_DEMO_PASSWORD", "demo-password-for-tests")
    call_command("seed_demo")
    assert "user 'demo', password 'demo-password-for-tests'" in capsys.readouterr().out
    user = authenticate(username="demo", password="demo-password-for-tests")
    assert user is not None and user.is_staff
    assert Membership.objects.get(user=user).role == Role.ADMIN
    network = ChargingNetwork.objects.get(site__organization__slug="demo")
    network.full_clean()
    assert sorted(Charger.objects.filter(network=network).values_list("phase_rotation", flat=True)) == [
        "L1L2L3", "L2L3L1", "L3L1L2"
    ]


def test_seed_demo_runs_twice_without_duplicates():
    call_command("seed_demo")
    call_command("seed_demo")
    assert ChargingNetwork.objects.filter(site__organization__slug="demo").count() == 1
