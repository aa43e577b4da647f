"""`fleetsim_fleet create/remove`: the simulator's fleet, made in bulk with working tokens, removed without a trace."""

import stat

import pytest
from django.core.management import CommandError, call_command

from fleet.models import Charger, Gateway, Meter, Organization, Site
from fleet.services.gateway_tokens import gateway_authenticate
from fleet.services.simulated_fleet import FleetPrefixInvalid, simulated_fleet_create, simulated_fleet_remove
from fleet.services.site_config import site_config_build
from gateways.protocol import parse_site_config

pytestmark = pytest.mark.django_db


def test_create_makes_sites_with_a_gateway_network_meter_and_chargers_and_writes_working_tokens(tmp_path):
    tokens_file = tmp_path / "tokens.txt"

    call_command("fleetsim_fleet", "create", "150", "--prefix", "t1", "--tokens", str(tokens_file))

    tokens = tokens_file.read_text().split()
    assert len(tokens) == 150 == Site.objects.filter(name__startswith="t1-site-").count()
    assert stat.S_IMODE(tokens_file.stat().st_mode) == 0o600
    assert Organization.objects.filter(name__startswith="fleetsim t1 ").count() == 2  # one per 100 sites
    assert Meter.objects.filter(network__site__name__startswith="t1-site-").count() == 150
    assert Charger.objects.filter(network__site__name__startswith="t1-site-").count() == 225  # one or two each
    gateways = {gateway_authenticate(token) for token in tokens}
    assert None not in gateways and len(gateways) == 150
    config = parse_site_config(site_config_build(Gateway.objects.get(pk=next(iter(gateways)).pk)))
    assert len(config.networks) == 1 and config.networks[0].chargers


def test_remove_takes_only_the_fleet_with_its_prefix(tenant_a):
    simulated_fleet_create(5, "keep")
    simulated_fleet_create(5, "drop")

    assert simulated_fleet_remove("drop") == 5

    assert not Site.objects.filter(name__startswith="drop-").exists()
    assert Site.objects.filter(name__startswith="keep-").count() == 5
    assert Site.objects.filter(pk=tenant_a.site.pk).exists()


@pytest.mark.parametrize("prefix", ["Bad Prefix", "", "x" * 40, "a.b"])
def test_a_prefix_that_is_not_a_short_slug_is_refused(prefix):
    with pytest.raises(FleetPrefixInvalid):
        simulated_fleet_create(1, prefix)


def test_a_prefix_in_use_is_refused_by_the_command(tmp_path):
    simulated_fleet_create(1, "dup")

    with pytest.raises(CommandError, match="exists; remove it first"):
        call_command("fleetsim_fleet", "create", "1", "--prefix", "dup", "--tokens", str(tmp_path / "t.txt"))
