"""Every list of the operator API pages with `limit` and `offset`; a bad value is a 400 naming it, never ignored."""

import pytest
import yaml

from fleet.api.pagination import MAX_OFFSET, MAX_PAGE_SIZE
from fleet.models import Site
from tests.fleet.api.test_schema import generated_schema

pytestmark = pytest.mark.django_db

LISTS = [
    "/api/v1/organizations/", "/api/v1/sites/", "/api/v1/gateways/", "/api/v1/charging-networks/",
    "/api/v1/meters/", "/api/v1/chargers/", "/api/v1/events/", "/api/v1/alerts/",
    "/api/v1/telemetry/?from=2026-03-02T00:00:00Z&to=2026-03-03T00:00:00Z",
]


def with_query(path: str, query: str) -> str:
    return f"{path}{'&' if '?' in path else '?'}{query}"


@pytest.mark.parametrize("path", LISTS)
@pytest.mark.parametrize(
    "parameter, value",
    [
        # negative, zero where a row is needed, not a whole number
        ("limit", "-1"), ("limit", "0"), ("limit", "abc"), ("limit", "1.5"), ("limit", "1e3"), ("limit", ""),
        ("limit", "%205"), ("limit", "%D9%A3"),  # " 5", and an Arabic-Indic 3: int() would take both
        ("offset", "-1"), ("offset", "x"), ("offset", "0x10"), ("offset", ""),
        # absurd: over the largest page, or past anything a table holds
        ("limit", str(MAX_PAGE_SIZE + 1)), ("limit", "99999999999999999999999"), ("limit", "9" * 5000),
        ("offset", str(MAX_OFFSET + 1)), ("offset", "99999999999999999999999"),
    ],
)
def test_a_bad_limit_or_offset_is_a_400_naming_it(tenants, as_user, path, parameter, value):
    response = as_user(tenants[0].operator).get(with_query(path, f"{parameter}={value}"))
    assert response.status_code == 400, response.content
    assert list(response.json()) == [parameter]


@pytest.mark.parametrize("path", LISTS)
def test_the_bounds_themselves_are_served(tenants, as_user, path):
    client = as_user(tenants[0].operator)
    assert client.get(with_query(path, f"limit={MAX_PAGE_SIZE}&offset=0")).status_code == 200
    beyond = client.get(with_query(path, f"limit=1&offset={MAX_OFFSET}"))
    assert beyond.status_code == 200 and beyond.json()["results"] == []


def test_pages_follow_each_other(tenants, as_user):
    tenant = tenants[0]
    for number in range(4):
        Site.objects.create(organization=tenant.organization, name=f"page-{number}")
    client = as_user(tenant.operator)
    first = client.get("/api/v1/sites/?limit=2&ordering=id").json()
    assert first["count"] == 5 and len(first["results"]) == 2
    second = client.get(first["next"]).json()
    third = client.get(second["next"]).json()
    assert third["next"] is None
    ids = [site["id"] for page in (first, second, third) for site in page["results"]]
    assert ids == sorted(Site.objects.filter(organization=tenant.organization).values_list("id", flat=True))


def test_without_a_limit_a_page_holds_the_default_100(tenants, as_user):
    tenant = tenants[0]
    Site.objects.bulk_create(Site(organization=tenant.organization, name=f"bulk-{n}") for n in range(120))
    page = as_user(tenant.operator).get("/api/v1/sites/").json()
    assert page["count"] == 121 and len(page["results"]) == 100


def test_the_schema_states_the_bounds():
    parameters = yaml.safe_load(generated_schema())["paths"]["/api/v1/sites/"]["get"]["parameters"]
    by_name = {parameter["name"]: parameter["schema"] for parameter in parameters}
    assert by_name["limit"] == {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE, "default": 100}
    assert by_name["offset"] == {"type": "integer", "minimum": 0, "maximum": MAX_OFFSET, "default": 0}
