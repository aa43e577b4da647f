"""Writes may name only fields of the resource: an unknown key is a 400 naming it, and nothing changes.

A misspelt limit silently dropped is a limit not applied. Read-only fields
(`id`, `created_at`, ...) are fields of the resource: sending back the body of
a GET in a PUT or PATCH works.
"""

import pytest
from rest_framework import mixins

from fleet.api.known_fields import MAX_KEYS_EXPLAINED, KnownFieldsOnlyMixin
from fleet.api.urls import router
from fleet.models import ChargingNetwork, Site

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator(tenants, as_user):
    return as_user(tenants[0].operator)


def test_every_writable_endpoint_refuses_unknown_fields():
    # One rule in one base class: an endpoint added later inherits it or this test names it.
    writable = [
        (prefix, viewset) for prefix, viewset, _ in router.registry
        if issubclass(viewset, (mixins.CreateModelMixin, mixins.UpdateModelMixin))
    ]
    assert {prefix for prefix, _ in writable} >= {"sites", "gateways", "charging-networks", "meters", "chargers"}
    for prefix, viewset in writable:
        assert issubclass(viewset.serializer_class, KnownFieldsOnlyMixin), prefix


def test_creating_a_site_with_a_made_up_field_is_refused(tenants, operator):
    response = operator.post(
        "/api/v1/sites/", {"organization": tenants[0].organization.pk, "name": "s-new", "colour": "blue"}, format="json"
    )
    assert response.status_code == 400
    assert list(response.json()) == ["colour"]
    assert "Unknown field" in response.json()["colour"][0]
    assert not Site.objects.filter(name="s-new").exists()
    again = operator.post("/api/v1/sites/", {"organization": tenants[0].organization.pk, "name": "s-new"}, format="json")
    assert again.status_code == 201


def test_a_misspelt_limit_is_refused_with_the_field_meant_and_changes_nothing(tenants, operator):
    network = tenants[0].network
    url = f"/api/v1/charging-networks/{network.pk}/"
    response = operator.patch(url, {"fallback_power": 8280}, format="json")
    assert response.status_code == 400
    assert response.json() == {"fallback_power": ['Unknown field; did you mean "fallback_power_w"?']}
    network.refresh_from_db()
    assert network.fallback_power_w == 4140
    corrected = operator.patch(url, {"fallback_power_w": 8280}, format="json")
    assert corrected.status_code == 200
    network.refresh_from_db()
    assert network.fallback_power_w == 8280


def test_a_key_like_no_field_lists_the_writable_ones(tenants, operator):
    response = operator.patch(f"/api/v1/chargers/{tenants[0].charger.pk}/", {"zzz": 1}, format="json")
    assert response.status_code == 400
    message = response.json()["zzz"][0]
    assert "max_current_a" in message and "min_current_a" in message
    assert "id" not in message.split(": ", 1)[1].split(", ")  # read-only: not offered as writable


def test_unknown_keys_are_reported_with_the_other_errors(tenants, operator):
    response = operator.post(
        "/api/v1/charging-networks/",
        {"site": tenants[0].site.pk, "name": "n", "max_current_per_phase_a": 0, "max_current_per_phase": 16},
        format="json",
    )
    assert response.status_code == 400
    assert set(response.json()) == {"max_current_per_phase_a", "max_current_per_phase"}
    assert not ChargingNetwork.objects.filter(name="n").exists()


def test_a_body_full_of_made_up_keys_gets_a_bounded_answer(tenants, operator):
    body = {"organization": tenants[0].organization.pk, "name": "s-new", **{f"k{n}": n for n in range(5000)}}
    response = operator.post("/api/v1/sites/", body, format="json")
    assert response.status_code == 400
    assert len(response.json()) == MAX_KEYS_EXPLAINED
    assert not Site.objects.filter(name="s-new").exists()


@pytest.mark.parametrize("resource", ["sites", "gateways", "charging-networks", "meters", "chargers"])
@pytest.mark.parametrize("method", ["put", "patch"])
def test_the_body_of_a_get_can_be_sent_back(tenants, operator, resource, method):
    tenant = tenants[0]
    obj = {"sites": tenant.site, "gateways": tenant.gateway, "charging-networks": tenant.network,
           "meters": tenant.meter, "chargers": tenant.charger}[resource]
    url = f"/api/v1/{resource}/{obj.pk}/"
    body = operator.get(url).json()
    assert "id" in body
    response = getattr(operator, method)(url, body, format="json")
    assert response.status_code == 200, response.content
    assert response.json() == body | {k: response.json()[k] for k in ("last_seen",) if k in body}
    refused = getattr(operator, method)(url, {**body, "made_up": 1}, format="json")
    assert refused.status_code == 400 and list(refused.json()) == ["made_up"]


def test_a_read_only_field_sent_is_ignored(tenants, operator):
    site = tenants[0].site
    response = operator.patch(f"/api/v1/sites/{site.pk}/", {"id": 999_999, "created_at": "2000-01-01T00:00:00Z"}, format="json")
    assert response.status_code == 200
    assert response.json()["id"] == site.pk
    site.refresh_from_db()
    assert site.created_at.year != 2000
