"""Migration 0005 carries existing sites over to one rule set: poll interval on the gateway, frozen rule in seconds."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

BEFORE = [("fleet", "0004_gateway_agent_settings")]
AFTER = [("fleet", "0005_one_rule_set")]


def _migrate(targets=None):
    """Migrate to `targets` (default: the newest migrations) and return the models as of there."""
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    targets = targets or executor.loader.graph.leaf_nodes()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.fixture
def old_site():
    """A site as 0004 stored it: two meters polled at different intervals, a count-based frozen rule."""
    apps = _migrate(BEFORE)
    organization = apps.get_model("fleet", "Organization").objects.create(name="Old", slug="old")
    site = apps.get_model("fleet", "Site").objects.create(organization=organization, name="old site")
    network_model = apps.get_model("fleet", "ChargingNetwork")
    meter_model = apps.get_model("fleet", "Meter")
    fast = network_model.objects.create(site=site, name="fast", max_current_per_phase_a=32)
    slow = network_model.objects.create(site=site, name="slow", max_current_per_phase_a=32)
    meter_model.objects.create(network=fast, model="abb-m4m", host="192.0.2.10", poll_interval_s=0.5, timeout_s=0.3)
    meter_model.objects.create(network=slow, model="abb-m4m", host="192.0.2.11", poll_interval_s=2.0, timeout_s=1.5)
    gateway_model = apps.get_model("fleet", "Gateway")
    gateway_model.objects.create(site=site, name="default-rule", stale_after_polls=3)
    gateway_model.objects.create(site=site, name="custom-rule", stale_after_polls=40)
    apps.get_model("fleet", "Charger").objects.create(network=fast, name="cp", driver="simulated", priority=5000)
    yield site.pk
    _migrate()  # leave the database as the rest of the suite expects it


def test_existing_sites_keep_regulating_under_the_new_rules(old_site):
    apps = _migrate(AFTER)
    gateways = {g.name: g for g in apps.get_model("fleet", "Gateway").objects.filter(site_id=old_site)}
    # The site's gateways poll as fast as its fastest meter did (what the config endpoint sent before).
    assert {g.poll_interval_s for g in gateways.values()} == {0.5}
    # The old default of 3 reads becomes the new default; a custom count becomes seconds at that interval.
    assert gateways["default-rule"].frozen_after_s == 10
    assert gateways["custom-rule"].frozen_after_s == 20
    # A meter whose read could outlast the site's poll interval gets a timeout that fits inside it.
    timeouts = dict(apps.get_model("fleet", "Meter").objects.values_list("network__name", "timeout_s"))
    assert timeouts == {"fast": 0.3, "slow": 0.25}
    assert apps.get_model("fleet", "Charger").objects.get(name="cp").priority == 1000
