"""OCPP 1.6J chargers on the server: the protocol's own rules, a config the agent parses, a password never shown."""

import pytest
from django.core.exceptions import ValidationError

from fleet.models import Charger
from fleet.services.gateway_tokens import gateway_issue_token
from gateways.protocol import parse_site_config
from tests.fleet.api.conftest import token_client

pytestmark = pytest.mark.django_db

PASSWORD = "a-password-of-20-chr"


def errors_of(instance) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as caught:
        instance.full_clean()
    return caught.value.message_dict


def ocpp_charger(tenant, **fields) -> Charger:
    return Charger(network=tenant.network, name=fields.pop("name", "ocpp-1"), driver="ocpp16", max_current_a=16,
                   **fields)


def test_an_ocpp_charger_needs_no_host_and_reaches_the_agent_with_its_identity_connector_and_password(client, tenant_a):
    charger = ocpp_charger(tenant_a, charge_point_id="ALF-0042", connector_id=2, password=PASSWORD)
    charger.full_clean()
    charger.save()
    tenant_a.gateway.ocpp_listen = "0.0.0.0:9000"
    tenant_a.gateway.full_clean()
    tenant_a.gateway.save()
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {gateway_issue_token(tenant_a.gateway)}"
    config = parse_site_config(client.get("/api/gateway/v1/config").json())
    served = next(c for c in config.networks[0].chargers if c.driver == "ocpp16")
    assert (served.charge_point_id, served.connector_id, served.password, served.host) == ("ALF-0042", 2, PASSWORD, None)
    assert config.gateway.ocpp_listen == "0.0.0.0:9000"


def test_an_empty_identity_means_the_chargers_id_and_an_empty_connector_means_1(tenant_a):
    charger = ocpp_charger(tenant_a)
    charger.full_clean()
    charger.save()
    from fleet.config_wire import charger_wire
    from gateways.protocol import validate_charger

    parsed = validate_charger(charger_wire(charger))
    assert (parsed.charge_point_id, parsed.connector_id, parsed.password) == (str(charger.pk), 1, None)


@pytest.mark.parametrize("fields, field, words", [
    ({"password": "short"}, "password", "16 to 40 characters"),
    ({"charge_point_id": "has/slash"}, "charge_point_id", "cannot be a URL path segment"),
    ({"connector_id": 0}, "connector_id", "greater than or equal to 1"),
])
def test_bad_ocpp_settings_name_their_field(tenant_a, fields, field, words):
    assert words in " ".join(errors_of(ocpp_charger(tenant_a, **fields))[field])


def test_ocpp_settings_on_another_driver_are_refused_by_name(tenant_a):
    tenant_a.charger.password = PASSWORD
    assert "only for the ocpp16 driver" in errors_of(tenant_a.charger)["password"][0]


def test_one_charge_point_identity_drives_one_charger_of_the_site(tenant_a):
    ocpp_charger(tenant_a, name="first", charge_point_id="CP-1").save()
    assert "one charge point identity, one charger" in errors_of(
        ocpp_charger(tenant_a, name="second", charge_point_id="CP-1"))["charge_point_id"][0]


def test_a_bad_listen_address_names_the_gateway_field(tenant_a):
    tenant_a.gateway.ocpp_listen = "0.0.0.0:99999"
    assert "must be a number from 1 to 65535" in errors_of(tenant_a.gateway)["ocpp_listen"][0]


def test_the_api_takes_the_password_but_never_shows_it(tenant_a):
    client = token_client(tenant_a.operator)
    created = client.post("/api/v1/chargers/", {
        "network": tenant_a.network.pk, "name": "api-ocpp", "driver": "ocpp16", "charge_point_id": "API-1",
        "password": PASSWORD, "max_current_a": 16,
    }, format="json")
    assert created.status_code == 201, created.json()
    assert "password" not in created.json()
    assert "password" not in client.get(f"/api/v1/chargers/{created.json()['id']}/").json()
    assert Charger.objects.get(pk=created.json()["id"]).password == PASSWORD
    refused = client.post("/api/v1/chargers/", {
        "network": tenant_a.network.pk, "name": "api-keba", "driver": "keba-udp", "host": "192.0.2.9",
        "password": PASSWORD, "max_current_a": 16,
    }, format="json")
    assert refused.status_code == 400 and "password" in refused.json()
