"""Model validation: clear messages for bad limits and devices, and database constraints behind them."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from fleet.models import Charger, ChargingNetwork, Meter, Site

pytestmark = pytest.mark.django_db


def errors_of(instance) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as caught:
        instance.full_clean()
    return caught.value.message_dict


# --- charging network limits -------------------------------------------------


def test_a_complete_network_is_valid(tenant_a):
    tenant_a.network.full_clean()


@pytest.mark.parametrize("current_a", [0, 4001])
def test_max_current_per_phase_must_be_between_1_and_4000_a(tenant_a, current_a):
    tenant_a.network.max_current_per_phase_a = current_a
    assert "max_current_per_phase_a" in errors_of(tenant_a.network)


def test_fallback_above_max_power_is_rejected_with_both_figures(tenant_a):
    tenant_a.network.fallback_power_w = 23000
    message = errors_of(tenant_a.network)["fallback_power_w"][0]
    assert "23000 W" in message and "22000 W" in message


def test_positive_fallback_too_small_for_any_charger_is_rejected(tenant_a):
    tenant_a.network.fallback_power_w = 3000  # the only charger is 3-phase: 6 A x 3 x 230 V = 4140 W
    message = errors_of(tenant_a.network)["fallback_power_w"][0]
    assert "4140 W" in message and "cp-alpha" in message


@pytest.mark.parametrize("fallback_power_w", [None, 0, 4140])
def test_fallback_empty_zero_or_enough_for_one_charger_is_accepted(tenant_a, fallback_power_w):
    tenant_a.network.fallback_power_w = fallback_power_w
    tenant_a.network.full_clean()


def test_a_single_phase_charger_makes_a_small_fallback_usable(tenant_a):
    Charger.objects.create(network=tenant_a.network, name="cp-1ph", driver="simulated", phases=1, max_current_a=16)
    tenant_a.network.fallback_power_w = 1380  # 6 A x 1 x 230 V
    tenant_a.network.full_clean()


def test_fallback_without_chargers_needs_at_least_one_phase_at_6_a(tenant_a):
    network = ChargingNetwork(site=tenant_a.site, name="empty", max_current_per_phase_a=25, fallback_power_w=1000)
    assert "1380 W" in errors_of(network)["fallback_power_w"][0]


def test_the_database_refuses_a_fallback_above_max_power_even_without_validation(tenant_a):
    with pytest.raises(IntegrityError), transaction.atomic():
        ChargingNetwork.objects.filter(pk=tenant_a.network.pk).update(fallback_power_w=30000)


def test_network_names_are_unique_per_site(tenant_a):
    duplicate = ChargingNetwork(site=tenant_a.site, name=tenant_a.network.name, max_current_per_phase_a=32)
    assert "__all__" in errors_of(duplicate)


# --- sites -------------------------------------------------------------------


def test_site_time_zone_must_be_an_iana_name(tenant_a):
    tenant_a.site.time_zone = "Mars/Olympus"
    assert "Mars/Olympus" in errors_of(tenant_a.site)["time_zone"][0]


def test_site_names_are_unique_per_organisation(tenant_a, tenant_b):
    Site(organization=tenant_b.organization, name=tenant_a.site.name).full_clean()  # another tenant may reuse it
    assert "__all__" in errors_of(Site(organization=tenant_a.organization, name=tenant_a.site.name))


# --- meters ------------------------------------------------------------------


def test_meter_model_must_be_a_catalog_key(tenant_a):
    tenant_a.meter.model = "acme-9000"
    assert "acme-9000" in errors_of(tenant_a.meter)["model"][0]


@pytest.mark.parametrize(
    ("field", "value"),
    [("port", 0), ("port", 65536), ("unit_id", 256), ("host", "not a host!"), ("phase_rotation", "L1L3L2")],
)
def test_meter_address_fields_are_range_checked(tenant_a, field, value):
    setattr(tenant_a.meter, field, value)
    assert field in errors_of(tenant_a.meter)


def test_meter_timeout_must_be_shorter_than_the_poll_interval_of_the_sites_gateway(tenant_a):
    tenant_a.meter.timeout_s = 1.0  # the gateway polls every 1 s
    assert "shorter than the gateway's poll interval (1 s" in errors_of(tenant_a.meter)["timeout_s"][0]
    tenant_a.meter.timeout_s = 0.9
    tenant_a.meter.full_clean()


def test_a_gateway_may_not_poll_faster_than_its_sites_meters_can_answer(tenant_a):
    tenant_a.gateway.poll_interval_s = 0.5  # the meter may take 0.5 s
    message = errors_of(tenant_a.gateway)["poll_interval_s"][0]
    assert "0.5 s" in message and tenant_a.network.name in message
    tenant_a.gateway.poll_interval_s = 0.6
    tenant_a.gateway.full_clean()


@pytest.mark.parametrize(("priority", "valid"), [(-1000, True), (1000, True), (1001, False), (-5000, False)])
def test_charger_priority_stays_within_what_the_gateway_accepts(tenant_a, priority, valid):
    tenant_a.charger.priority = priority
    if valid:
        tenant_a.charger.full_clean()
    else:
        assert "priority" in errors_of(tenant_a.charger)


def test_the_database_refuses_a_priority_beyond_the_protocols_range(tenant_a):
    with pytest.raises(IntegrityError), transaction.atomic():
        Charger.objects.filter(pk=tenant_a.charger.pk).update(priority=5000)


def test_a_network_has_at_most_one_meter(tenant_a):
    with pytest.raises(IntegrityError), transaction.atomic():
        Meter.objects.create(network=tenant_a.network, model="abb-m4m", host="192.0.2.11")


# --- chargers ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("min_current_a", "max_current_a", "field"),
    [(5, 16, "min_current_a"), (6, 81, "max_current_a"), (16, 10, "max_current_a")],
)
def test_charger_currents_must_satisfy_6_le_min_le_max_le_80(tenant_a, min_current_a, max_current_a, field):
    charger = tenant_a.charger
    charger.min_current_a, charger.max_current_a = min_current_a, max_current_a
    assert field in errors_of(charger)


def test_the_database_refuses_min_above_max_even_without_validation(tenant_a):
    with pytest.raises(IntegrityError), transaction.atomic():
        Charger.objects.filter(pk=tenant_a.charger.pk).update(min_current_a=20, max_current_a=16)


def test_charger_phases_are_one_or_three(tenant_a):
    tenant_a.charger.phases = 2
    assert "phases" in errors_of(tenant_a.charger)


def test_charger_driver_must_be_one_the_gateway_ships(tenant_a):
    tenant_a.charger.driver = "ocpp-magic"
    assert "keba-udp" in errors_of(tenant_a.charger)["driver"][0]


def test_keba_chargers_need_a_host_and_simulated_ones_do_not(tenant_a):
    tenant_a.charger.driver = "keba-udp"
    assert "required for the keba-udp driver" in errors_of(tenant_a.charger)["host"][0]
    tenant_a.charger.host = "192.0.2.21"
    tenant_a.charger.full_clean()


def test_raising_a_chargers_minimum_may_not_strand_a_positive_fallback(tenant_a):
    tenant_a.charger.min_current_a = 8  # 8 A x 3 x 230 V = 5520 W > fallback 4140 W
    assert "5520 W" in errors_of(tenant_a.charger)["min_current_a"][0]


@pytest.mark.parametrize("timeout_s", [5, 601])
def test_a_gateways_failsafe_timeout_is_within_what_chargers_accept(tenant_a, timeout_s):
    tenant_a.gateway.failsafe_timeout_s = timeout_s
    assert "failsafe_timeout_s" in errors_of(tenant_a.gateway)
