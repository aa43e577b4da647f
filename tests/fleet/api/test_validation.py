"""Invalid writes answer 400 with the models' own messages, under the name of the field to fix."""

import pytest

pytestmark = pytest.mark.django_db


def network_payload(t, **changes):
    return {"site": t.site.pk, "name": "net-new", "max_current_per_phase_a": 32, **changes}


def charger_payload(t, **changes):
    return {"network": t.network.pk, "name": "cp-new", "driver": "simulated", **changes}


def meter_payload(t, network, **changes):
    return {"network": network.pk, "model": "abb-m4m", "host": "192.0.2.10", **changes}


@pytest.fixture
def network_without_meter(tenants):
    from fleet.models import ChargingNetwork

    return ChargingNetwork.objects.create(site=tenants[0].site, name="net-empty", max_current_per_phase_a=16)


@pytest.mark.parametrize(
    "path, payload, field, fragment",
    [
        # chargers: current range, address, vocabulary
        ("chargers", lambda t, n: charger_payload(t, min_current_a=16, max_current_a=10), "max_current_a", "must be at least min_current_a (16 A)"),
        ("chargers", lambda t, n: charger_payload(t, priority=5000), "priority", "less than or equal to 1000"),
        ("chargers", lambda t, n: charger_payload(t, max_current_a=81), "max_current_a", "less than or equal to 80"),
        ("chargers", lambda t, n: charger_payload(t, min_current_a=5), "min_current_a", "greater than or equal to 6"),
        ("chargers", lambda t, n: charger_payload(t, driver="keba-udp"), "host", "Is required for the keba-udp driver"),
        ("chargers", lambda t, n: charger_payload(t, driver="tesla"), "driver", "not a charger driver"),
        ("chargers", lambda t, n: charger_payload(t, phase_rotation="L1L3L2"), "phase_rotation", "not a valid choice"),
        ("chargers", lambda t, n: charger_payload(t, name=t.charger.name), "non_field_errors", "unique"),
        # networks: the fallback must run at least one charger, and stay within the maximum power
        ("charging-networks", lambda t, n: network_payload(t, fallback_power_w=1000), "fallback_power_w", "cannot run any charger"),
        ("charging-networks", lambda t, n: network_payload(t, max_power_w=5000, fallback_power_w=6000), "fallback_power_w", "must not exceed"),
        ("charging-networks", lambda t, n: network_payload(t, max_current_per_phase_a=0), "max_current_per_phase_a", "greater than or equal to 1"),
        # meters: catalog model, host, timing
        ("meters", lambda t, n: meter_payload(t, n, model="acme-9000"), "model", "not a meter model of the catalog"),
        ("meters", lambda t, n: meter_payload(t, n, host="not a host!"), "host", "neither an IP address nor a host name"),
        ("meters", lambda t, n: meter_payload(t, n, timeout_s=2.0), "timeout_s", "shorter than the gateway's poll interval (1 s"),
        ("meters", lambda t, n: meter_payload(t, t.network), "network", "already exists"),
        # sites: time zone, and a site of an organisation that is not the user's
        ("sites", lambda t, n: {"organization": t.organization.pk, "name": "s", "time_zone": "Mars/Olympus"}, "time_zone", "not a time zone"),
        ("sites", lambda t, n: {"organization": 999_999, "name": "s"}, "organization", "does not exist"),
    ],
)
def test_invalid_writes_name_the_field(tenants, as_user, network_without_meter, path, payload, field, fragment):
    response = as_user(tenants[0].operator).post(f"/api/v1/{path}/", payload(tenants[0], network_without_meter), format="json")
    assert response.status_code == 400, response.content
    errors = response.json()
    assert field in errors, errors
    assert fragment in " ".join(errors[field])


def test_a_foreign_site_id_is_an_unknown_site(tenants, as_user):
    response = as_user(tenants[0].operator).post(
        "/api/v1/charging-networks/", network_payload(tenants[1]), format="json"
    )
    assert response.status_code == 400
    assert response.json() == {"site": [f'Invalid pk "{tenants[1].site.pk}" - object does not exist.']}


def test_lowering_a_networks_fallback_below_its_chargers_minimum_is_refused(tenants, as_user):
    network = tenants[0].network
    response = as_user(tenants[0].operator).patch(f"/api/v1/charging-networks/{network.pk}/", {"fallback_power_w": 2000}, format="json")
    assert response.status_code == 400
    assert "cp-alpha" in response.json()["fallback_power_w"][0]
    network.refresh_from_db()
    assert network.fallback_power_w == 4140


def test_a_charger_that_no_longer_fits_the_fallback_is_refused(tenants, as_user):
    # The network's 4140 W fallback is exactly 6 A x 3 phases x 230 V: at a 10 A minimum its only charger could not run.
    charger = tenants[0].charger
    response = as_user(tenants[0].operator).patch(f"/api/v1/chargers/{charger.pk}/", {"min_current_a": 10}, format="json")
    assert response.status_code == 400
    assert "cannot run any charger" in response.json()["min_current_a"][0]


def test_a_partial_update_checks_the_whole_object(tenants, as_user):
    charger = tenants[0].charger  # min 6 A, max 16 A
    response = as_user(tenants[0].operator).patch(f"/api/v1/chargers/{charger.pk}/", {"max_current_a": 6}, format="json")
    assert response.status_code == 200
    response = as_user(tenants[0].operator).patch(f"/api/v1/chargers/{charger.pk}/", {"min_current_a": 8}, format="json")
    assert response.status_code == 400
    assert "max_current_a" in response.json()
