"""Every endpoint of the operator API keeps a user inside their own organisation.

Each tenant (see tests/fleet/conftest.py) has one object of every kind, named
after its slug. An operator of "alpha" must neither see, open, change, delete
nor point at anything of "bravo"; another tenant's object answers exactly like
an object that does not exist.
"""

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from fleet.models import (
    Charger,
    ChargingNetwork,
    Gateway,
    Meter,
    Organization,
    Site,
    TelemetryEvent,
)

pytestmark = pytest.mark.django_db


@dataclass(frozen=True)
class Endpoint:
    """One router entry: its URL name, the tenant's object behind it, and (if writable) a valid new object."""

    path: str
    model: type
    object_of: Callable
    new_in: Callable | None = None
    """Payload for a new object attached to the given tenant's objects (None: read-only endpoint)."""
    change: dict | None = None
    """A harmless partial update."""

    def __str__(self) -> str:
        return self.path


ENDPOINTS = [
    # read-only
    Endpoint("organizations", Organization, lambda t: t.organization),
    Endpoint("events", TelemetryEvent, lambda t: t.event),
    # read-write, attached to the organisation or its objects
    Endpoint(
        "sites", Site, lambda t: t.site,
        new_in=lambda t: {"organization": t.organization.pk, "name": "new-site"}, change={"address": "Elsewhere 1"},
    ),
    Endpoint(
        "gateways", Gateway, lambda t: t.gateway,
        new_in=lambda t: {"site": t.site.pk, "name": "new-gw"}, change={"name": "renamed-gw"},
    ),
    Endpoint(
        "charging-networks", ChargingNetwork, lambda t: t.network,
        new_in=lambda t: {"site": t.site.pk, "name": "new-net", "max_current_per_phase_a": 25},
        change={"max_current_per_phase_a": 40},
    ),
    Endpoint(
        "meters", Meter, lambda t: t.meter,
        # The tenant's network already has its meter; the payload is otherwise valid, so only scoping can refuse it.
        new_in=lambda t: {"network": t.network.pk, "model": "abb-m4m", "host": "10.0.0.9"}, change={"port": 5020},
    ),
    Endpoint(
        "chargers", Charger, lambda t: t.charger,
        new_in=lambda t: {"network": t.network.pk, "name": "new-cp", "driver": "simulated"}, change={"priority": 5},
    ),
]
WRITABLE = [endpoint for endpoint in ENDPOINTS if endpoint.new_in]
READ_ONLY = [endpoint for endpoint in ENDPOINTS if not endpoint.new_in]
RELATION_OF = {"sites": "organization", "gateways": "site", "charging-networks": "site", "meters": "network", "chargers": "network"}


@pytest.fixture
def alpha(tenants, as_user):
    """An operator of alpha, with both tenants populated."""
    return as_user(tenants[0].operator)


def list_ids(client, path: str, **params) -> set[int]:
    response = client.get(f"/api/v1/{path}/", params)
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=str)
def test_lists_show_only_the_users_organisation(alpha, tenants, endpoint):
    assert list_ids(alpha, endpoint.path) == {endpoint.object_of(tenants[0]).pk}


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=str)
def test_another_organisations_object_is_not_found(alpha, tenants, endpoint):
    tenant_a, tenant_b = tenants
    assert alpha.get(f"/api/v1/{endpoint.path}/{endpoint.object_of(tenant_a).pk}/").status_code == 200
    assert alpha.get(f"/api/v1/{endpoint.path}/{endpoint.object_of(tenant_b).pk}/").status_code == 404


@pytest.mark.parametrize("endpoint", WRITABLE, ids=str)
def test_nothing_can_be_created_on_another_organisations_objects(alpha, tenants, endpoint):
    tenant_b = tenants[1]
    before = endpoint.model.objects.count()
    response = alpha.post(f"/api/v1/{endpoint.path}/", endpoint.new_in(tenant_b), format="json")
    assert response.status_code == 400
    relation = RELATION_OF[endpoint.path]
    assert response.json()[relation] == [f'Invalid pk "{endpoint.new_in(tenant_b)[relation]}" - object does not exist.']
    assert endpoint.model.objects.count() == before


@pytest.mark.parametrize("endpoint", [e for e in WRITABLE if e.path != "meters"], ids=str)
def test_objects_can_be_created_in_the_users_own_organisation(alpha, tenants, endpoint):
    tenant_a, _ = tenants
    response = alpha.post(f"/api/v1/{endpoint.path}/", endpoint.new_in(tenant_a), format="json")
    assert response.status_code == 201, response.content


@pytest.mark.parametrize("endpoint", WRITABLE, ids=str)
def test_another_organisations_object_cannot_be_changed(alpha, tenants, endpoint):
    tenant_b = tenants[1]
    target = endpoint.object_of(tenant_b)
    url = f"/api/v1/{endpoint.path}/{target.pk}/"
    assert alpha.patch(url, endpoint.change, format="json").status_code == 404
    assert alpha.put(url, endpoint.new_in(tenant_b), format="json").status_code == 404
    target.refresh_from_db()
    assert all(getattr(target, field) != value for field, value in endpoint.change.items())


@pytest.mark.parametrize("endpoint", WRITABLE, ids=str)
def test_own_object_cannot_be_moved_under_another_organisation(alpha, tenants, endpoint):
    tenant_a, tenant_b = tenants
    target = endpoint.object_of(tenant_a)
    relation = RELATION_OF[endpoint.path]
    foreign_id = endpoint.new_in(tenant_b)[relation]
    response = alpha.patch(f"/api/v1/{endpoint.path}/{target.pk}/", {relation: foreign_id}, format="json")
    assert response.status_code == 400
    assert relation in response.json()
    target.refresh_from_db()
    assert getattr(target, f"{relation}_id") == endpoint.new_in(tenant_a)[relation]


@pytest.mark.parametrize("endpoint", WRITABLE, ids=str)
def test_own_object_can_be_changed(alpha, tenants, endpoint):
    target = endpoint.object_of(tenants[0])
    response = alpha.patch(f"/api/v1/{endpoint.path}/{target.pk}/", endpoint.change, format="json")
    assert response.status_code == 200, response.content
    target.refresh_from_db()
    assert all(getattr(target, field) == value for field, value in endpoint.change.items())


@pytest.mark.parametrize("endpoint", WRITABLE, ids=str)
def test_another_organisations_object_cannot_be_deleted(alpha, tenants, endpoint):
    target = endpoint.object_of(tenants[1])
    assert alpha.delete(f"/api/v1/{endpoint.path}/{target.pk}/").status_code == 404
    assert endpoint.model.objects.filter(pk=target.pk).exists()


@pytest.mark.parametrize("endpoint", WRITABLE, ids=str)
def test_own_object_can_be_deleted(alpha, tenants, endpoint):
    target = endpoint.object_of(tenants[0])
    assert alpha.delete(f"/api/v1/{endpoint.path}/{target.pk}/").status_code == 204
    assert not endpoint.model.objects.filter(pk=target.pk).exists()


@pytest.mark.parametrize("endpoint", READ_ONLY, ids=str)
def test_read_only_endpoints_refuse_writes(alpha, tenants, endpoint):
    own = endpoint.object_of(tenants[0])
    assert alpha.post(f"/api/v1/{endpoint.path}/", {}, format="json").status_code == 405
    assert alpha.patch(f"/api/v1/{endpoint.path}/{own.pk}/", {}, format="json").status_code == 405
    assert alpha.delete(f"/api/v1/{endpoint.path}/{own.pk}/").status_code == 405


@pytest.mark.parametrize(
    "path, parameter, target",
    [
        # filters by a related object offer only the user's own objects
        ("sites", "organization", lambda t: t.organization),
        ("gateways", "site", lambda t: t.site),
        ("charging-networks", "site", lambda t: t.site),
        ("meters", "network", lambda t: t.network),
        ("chargers", "network", lambda t: t.network),
        ("events", "gateway", lambda t: t.gateway),
        ("events", "site", lambda t: t.site),
        # telemetry's parameters are checked the same way
        ("telemetry", "network", lambda t: t.network),
        ("telemetry", "gateway", lambda t: t.gateway),
        ("telemetry", "site", lambda t: t.site),
        ("telemetry", "charger", lambda t: t.charger),
    ],
)
def test_filtering_by_another_organisations_object_is_refused(alpha, tenants, path, parameter, target):
    response = alpha.get(f"/api/v1/{path}/", {parameter: target(tenants[1]).pk})
    assert response.status_code == 400
    assert parameter in response.json()
    assert "bravo" not in response.content.decode()


def test_telemetry_shows_only_the_users_samples(alpha, tenants):
    response = alpha.get("/api/v1/telemetry/", {"from": "2026-03-01T00:00:00Z", "to": "2026-03-03T00:00:00Z"})
    assert response.status_code == 200
    assert [row["network"] for row in response.json()["results"]] == [tenants[0].network.pk]


def test_a_superuser_sees_every_organisation(tenants, as_user, django_user_model):
    root = django_user_model.objects.create_superuser("root", password="pw-for-tests-only")
    assert list_ids(as_user(root), "sites") == {tenants[0].site.pk, tenants[1].site.pk}


def test_a_user_without_membership_sees_nothing_and_may_create_nothing(tenants, as_user, django_user_model):
    stranger = as_user(django_user_model.objects.create_user("stranger", password="pw-for-tests-only"))
    assert list_ids(stranger, "sites") == set()
    assert stranger.post("/api/v1/sites/", {"organization": tenants[0].organization.pk, "name": "x"}).status_code == 403
