"""The operator admin keeps every user inside their own organisation."""

import pytest
from django.urls import reverse

from fleet.models import Charger, ChargingNetwork, Gateway, Meter, Organization, Site

pytestmark = pytest.mark.django_db

SCOPED_MODELS = [Organization, Site, Gateway, ChargingNetwork, Meter, Charger]


def admin_url(model, action: str, *args) -> str:
    return reverse(f"admin:fleet_{model._meta.model_name}_{action}", args=args)


def object_of(tenant, model):
    return {
        Organization: tenant.organization,
        Site: tenant.site,
        Gateway: tenant.gateway,
        ChargingNetwork: tenant.network,
        Meter: tenant.meter,
        Charger: tenant.charger,
    }[model]


@pytest.fixture
def operator_a(client, tenant_a, tenant_b):
    client.force_login(tenant_a.operator)
    return client


@pytest.mark.parametrize("model", SCOPED_MODELS, ids=lambda m: m.__name__)
def test_changelists_show_only_the_users_organisation(operator_a, tenant_a, tenant_b, model):
    page = operator_a.get(admin_url(model, "changelist"))
    assert page.status_code == 200
    listed = {obj.pk for obj in page.context["cl"].result_list}
    assert object_of(tenant_a, model).pk in listed
    assert object_of(tenant_b, model).pk not in listed


@pytest.mark.parametrize("model", SCOPED_MODELS, ids=lambda m: m.__name__)
def test_another_organisations_object_cannot_be_opened(operator_a, tenant_b, model):
    page = operator_a.get(admin_url(model, "change", object_of(tenant_b, model).pk))
    # Django's admin answers an object outside the queryset with a redirect to the index and "doesn't exist".
    assert page.status_code == 302
    assert str(object_of(tenant_b, model)) not in operator_a.get(page.url).content.decode()


@pytest.mark.parametrize("model", [Site, Gateway, ChargingNetwork, Charger], ids=lambda m: m.__name__)
def test_another_organisations_object_cannot_be_deleted(operator_a, tenant_b, model):
    target = object_of(tenant_b, model)
    operator_a.post(admin_url(model, "delete", target.pk), {"post": "yes"})
    assert model.objects.filter(pk=target.pk).exists()


def test_a_network_cannot_be_created_on_another_organisations_site(operator_a, tenant_b):
    response = operator_a.post(
        admin_url(ChargingNetwork, "add"),
        {
            "site": tenant_b.site.pk,
            "name": "intruder",
            "max_current_per_phase_a": 32,
            "nominal_voltage_v": 230,
            "meter-TOTAL_FORMS": 0, "meter-INITIAL_FORMS": 0,
            "chargers-TOTAL_FORMS": 0, "chargers-INITIAL_FORMS": 0,
        },
    )
    assert response.status_code == 200  # the form comes back with an error
    assert "site" in response.context["adminform"].form.errors
    assert not ChargingNetwork.objects.filter(name="intruder").exists()


def test_site_choices_offer_only_the_users_sites(operator_a, tenant_a, tenant_b):
    form = operator_a.get(admin_url(ChargingNetwork, "add")).context["adminform"].form
    offered = set(form.fields["site"].queryset)
    assert offered == {tenant_a.site}


def test_an_operator_edits_a_network_with_its_meter_and_chargers_inline(operator_a, tenant_a):
    network, meter, charger = tenant_a.network, tenant_a.meter, tenant_a.charger
    response = operator_a.post(
        admin_url(ChargingNetwork, "change", network.pk),
        {
            "site": tenant_a.site.pk, "name": network.name, "max_current_per_phase_a": 40,
            "max_power_w": 22000, "fallback_power_w": 4140, "nominal_voltage_v": 230,
            "meter-TOTAL_FORMS": 1, "meter-INITIAL_FORMS": 1, "meter-0-id": meter.pk, "meter-0-network": network.pk,
            "meter-0-model": "abb-m4m", "meter-0-host": "192.0.2.10", "meter-0-port": 502, "meter-0-unit_id": 1,
            "meter-0-phase_rotation": "L1L2L3", "meter-0-timeout_s": 0.5,
            "chargers-TOTAL_FORMS": 1, "chargers-INITIAL_FORMS": 1, "chargers-0-id": charger.pk,
            "chargers-0-network": network.pk, "chargers-0-name": charger.name, "chargers-0-driver": "keba-udp",
            "chargers-0-host": "192.0.2.21", "chargers-0-phase_rotation": "L2L3L1", "chargers-0-phases": 3,
            "chargers-0-min_current_a": 6, "chargers-0-max_current_a": 16, "chargers-0-priority": 0,
            "power_caps-TOTAL_FORMS": 0, "power_caps-INITIAL_FORMS": 0,
            "recurring_caps-TOTAL_FORMS": 0, "recurring_caps-INITIAL_FORMS": 0,
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else response
    network.refresh_from_db(), meter.refresh_from_db(), charger.refresh_from_db()
    assert (network.max_current_per_phase_a, meter.host, charger.phase_rotation) == (40, "192.0.2.10", "L2L3L1")


def test_inline_chargers_are_checked_together_against_the_fallback(operator_a, tenant_a):
    network, charger = tenant_a.network, tenant_a.charger
    response = operator_a.post(
        admin_url(ChargingNetwork, "change", network.pk),
        {
            "site": tenant_a.site.pk, "name": network.name, "max_current_per_phase_a": 32,
            "max_power_w": 22000, "fallback_power_w": 4140, "nominal_voltage_v": 230,
            "meter-TOTAL_FORMS": 0, "meter-INITIAL_FORMS": 0,
            "chargers-TOTAL_FORMS": 1, "chargers-INITIAL_FORMS": 1, "chargers-0-id": charger.pk,
            "chargers-0-network": network.pk, "chargers-0-name": charger.name, "chargers-0-driver": "simulated",
            "chargers-0-host": "", "chargers-0-phase_rotation": "L1L2L3", "chargers-0-phases": 3,
            "chargers-0-min_current_a": 10, "chargers-0-max_current_a": 16, "chargers-0-priority": 0,
            "power_caps-TOTAL_FORMS": 0, "power_caps-INITIAL_FORMS": 0,
            "recurring_caps-TOTAL_FORMS": 0, "recurring_caps-INITIAL_FORMS": 0,
        },
    )
    assert response.status_code == 200
    assert "cannot run any charger" in response.content.decode()
    charger.refresh_from_db()
    assert charger.min_current_a == 6


def test_a_viewer_sees_but_cannot_change(client, tenant_a, tenant_b):
    client.force_login(tenant_a.viewer)
    assert client.get(admin_url(Site, "change", tenant_a.site.pk)).status_code == 200  # read-only view
    response = client.post(
        admin_url(Site, "change", tenant_a.site.pk),
        {"organization": tenant_a.organization.pk, "name": "renamed", "time_zone": "UTC", "address": ""},
    )
    assert response.status_code == 403
    tenant_a.site.refresh_from_db()
    assert tenant_a.site.name == "site-alpha"
    assert client.get(admin_url(Site, "add")).status_code == 403


def test_a_staff_user_without_membership_sees_no_fleet_data(client, tenant_a, django_user_model):
    outsider = django_user_model.objects.create_user(username="outsider", password="pw-for-tests-only", is_staff=True)
    client.force_login(outsider)
    assert client.get(admin_url(Site, "changelist")).status_code == 403
    assert admin_url(Site, "changelist") not in client.get(reverse("admin:index")).content.decode()


def test_creating_a_gateway_shows_its_token_once(operator_a, tenant_a):
    response = operator_a.post(
        admin_url(Gateway, "add"),
        {"site": tenant_a.site.pk, "name": "gw-new", "poll_interval_s": 1.0, "failsafe_timeout_s": 60, "frozen_after_s": 10},
        follow=True,
    )
    shown = [str(m) for m in response.context["messages"] if "Token for" in str(m)]
    assert len(shown) == 1
    token = shown[0].split(": ", 1)[1].split(" ", 1)[0]
    gateway = Gateway.objects.get(name="gw-new")
    assert token.startswith("fgw_") and token not in (gateway.token_hash, gateway.token_prefix)


def test_an_operator_sets_a_power_cap_in_the_admin_and_a_bad_one_names_the_field(operator_a, tenant_a, tenant_b):
    from fleet.models import NetworkPowerCap

    NetworkPowerCap.objects.create(network=tenant_b.network, source="operator", power_w=1, start="2026-03-02T12:00:00Z")
    listing = operator_a.get(admin_url(NetworkPowerCap, "changelist"))
    assert listing.status_code == 200 and "net-bravo" not in listing.content.decode()
    form = {"network": tenant_a.network.pk, "source": "grid_operator", "power_w": 4200,
            "start_0": "2026-03-02", "start_1": "12:00:00", "end_0": "2026-03-02", "end_1": "11:00:00", "reason": ""}
    refused = operator_a.post(admin_url(NetworkPowerCap, "add"), form)
    assert refused.status_code == 200 and "end" in refused.context["adminform"].form.errors
    form["end_1"] = "13:00:00"
    assert operator_a.post(admin_url(NetworkPowerCap, "add"), form).status_code == 302
    assert NetworkPowerCap.objects.filter(network=tenant_a.network, power_w=4200).exists()
    other = {**form, "network": tenant_b.network.pk}
    assert "network" in operator_a.post(admin_url(NetworkPowerCap, "add"), other).context["adminform"].form.errors
