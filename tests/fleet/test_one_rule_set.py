"""One rule set: whatever the fleet's models accept, the gateway's config parser accepts, and the endpoint serves.

Hypothesis builds sites object by object from values around and beyond every
limit, keeps what passes model validation (`full_clean`, as the admin and the
API do), and asks the config endpoint for the result with the gateway's own
token: never a 5xx, never a config the agent would refuse.
"""

import pytest
from django.core.exceptions import ValidationError
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from balancing import PHASE_ROTATIONS
from fleet.models import Charger, ChargingNetwork, Gateway, Meter, Organization, Site
from fleet.services.gateway_tokens import gateway_issue_token
from gateways.protocol import CHARGER_DRIVERS, parse_site_config
from meters.catalog import model_keys

pytestmark = pytest.mark.django_db

CONFIG_URL = "/api/gateway/v1/config"
HOSTS = ["192.0.2.10", "192.0.2.21", "2001:db8::1", "meter.example", "", "not a host!", "a" * 300, "host_1"]


def _maybe(values):
    return st.one_of(st.none(), values)


def _mostly(valid: list, invalid: list):
    """Valid values far more often than invalid ones, so whole sites pass often enough to be served."""
    return st.sampled_from(valid * (12 // len(valid) + 1) + invalid)


gateways = st.fixed_dictionaries({
    "poll_interval_s": _mostly([0.1, 0.25, 0.5, 1.0, 2.0, 60.0], [0.05, 61.0]),
    "failsafe_timeout_s": _mostly([10, 60, 600], [5, 601]),
    "frozen_after_s": _mostly([2.0, 10.0, 600.0], [1.0, 601.0]),
})
networks = st.fixed_dictionaries({
    "max_current_per_phase_a": _mostly([1, 16, 35, 4000], [0, 4001]),
    "max_power_w": _maybe(_mostly([1, 11_000, 22_000], [0])),
    "fallback_power_w": _maybe(st.sampled_from([0, 1000, 1380, 4140, 11_000, 60_000])),
    "nominal_voltage_v": _mostly([100, 230, 260], [90, 270]),
})
meters = st.fixed_dictionaries({
    "model": _mostly(list(model_keys()), ["acme-9000"]),
    "host": _mostly(HOSTS[:4], HOSTS[4:]),
    "port": _mostly([1, 502, 65535], [0, 65536]),
    "unit_id": _mostly([0, 1, 255], [256]),
    "phase_rotation": _mostly(list(PHASE_ROTATIONS), ["L1L3L2"]),
    "timeout_s": _mostly([0.05, 0.09, 0.3, 0.5], [0.01, 0.99, 1.0, 2.0, 10.0, 11.0]),
})
chargers = st.lists(
    st.fixed_dictionaries({
        "driver": _mostly(list(CHARGER_DRIVERS), ["tesla"]),
        "host": _mostly(HOSTS[:4], HOSTS[4:]),
        "port": _maybe(_mostly([502, 5020], [0, 65536])),
        "unit_id": _maybe(_mostly([1, 255], [256])),
        "phase_rotation": _mostly(list(PHASE_ROTATIONS), ["L1L3L2"]),
        "phases": _mostly([1, 3], [2]),
        "min_current_a": _mostly([6, 10, 16, 32], [5]),
        "max_current_a": _mostly([6, 16, 32, 80], [81]),
        "priority": _mostly([-1000, 0, 5, 1000], [-5000, 1001, 32767]),
    }),
    min_size=1,
    max_size=4,
)


def _keep_if_valid(instance):
    """Save the object if the model accepts it, as the admin and the API would; None if it refuses."""
    try:
        instance.full_clean()
    except ValidationError:
        return None
    instance.save()
    return instance


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(gateway_values=gateways, network_values=networks, meter_values=meters, charger_values=chargers)
def test_every_config_the_models_accept_is_served_and_accepted_by_the_gateway(
    client, gateway_values, network_values, meter_values, charger_values
):
    organization = Organization.objects.create(name="Rules", slug="rules")
    site = Site.objects.create(organization=organization, name="site")
    try:
        gateway = _keep_if_valid(Gateway(site=site, name="gw", **gateway_values))
        network = _keep_if_valid(ChargingNetwork(site=site, name="net", **network_values))
        if network is not None:
            _keep_if_valid(Meter(network=network, **meter_values))
            for index, values in enumerate(charger_values):
                _keep_if_valid(Charger(network=network, name=f"cp{index}", **values))
        if gateway is None:
            return  # nothing to ask for; the next example tries again
        token = gateway_issue_token(gateway)
        response = client.get(CONFIG_URL, HTTP_AUTHORIZATION=f"Bearer {token}")
        assert response.status_code == 200, response.content
        config = parse_site_config(response.json())
        assert config.gateway.poll_interval_s == gateway.poll_interval_s
        event(f"networks served: {len(config.networks)}, chargers: {sum(len(n.chargers) for n in config.networks)}")
    finally:
        site.delete()
        organization.delete()


def test_two_chargers_of_a_site_may_not_drive_one_station(tenant_a):
    # The gateway refuses a config in which one station would get commands over two drivers.
    tenant_a.charger.driver, tenant_a.charger.host = "keba-udp", "192.0.2.21"
    tenant_a.charger.save()
    other_network = ChargingNetwork.objects.create(site=tenant_a.site, name="garage", max_current_per_phase_a=32)
    twin = Charger(network=other_network, name="cp-twin", driver="keba-modbus", host="192.0.2.21", max_current_a=16)
    with pytest.raises(ValidationError) as caught:
        twin.full_clean()
    assert "already driven as" in caught.value.message_dict["host"][0]


def test_an_inconsistent_site_answers_409_naming_the_key_not_500(client, tenant_a):
    # Only edits that bypass validation (or race each other) can get here; the agent keeps its last good config.
    Meter.objects.filter(pk=tenant_a.meter.pk).update(timeout_s=5.0)
    token = gateway_issue_token(tenant_a.gateway)
    response = client.get(CONFIG_URL, HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 409
    assert "timeout_s" in response.json()["detail"]
