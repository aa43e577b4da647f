"""The OpenAPI document is clean and is the same whether generated offline or served."""

import io

import pytest
import yaml
from django.core.management import call_command
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


def generated_schema(*options: str) -> str:
    out = io.StringIO()
    call_command("spectacular", *options, stdout=out)
    return out.getvalue()


def test_the_schema_validates_without_warnings():
    # --fail-on-warn turns every drf-spectacular warning (an unresolvable field, an ambiguous enum...) into an error.
    generated_schema("--validate", "--fail-on-warn")


def test_the_served_schema_is_the_generated_one():
    served = APIClient().get("/api/schema/")
    assert served.status_code == 200
    assert yaml.safe_load(served.content) == yaml.safe_load(generated_schema())


def test_the_schema_documents_the_operator_api():
    schema = yaml.safe_load(generated_schema())
    paths = schema["paths"]
    for path in ("organizations", "sites", "gateways", "charging-networks", "meters", "chargers", "events"):
        assert f"/api/v1/{path}/" in paths
    assert set(paths["/api/v1/organizations/"]) == {"get"}
    assert {p["name"] for p in paths["/api/v1/telemetry/"]["get"]["parameters"]} >= {
        "site", "network", "gateway", "charger", "from", "to", "resolution_s"
    }
    created = paths["/api/v1/gateways/"]["post"]["responses"]["201"]["content"]["application/json"]["schema"]["$ref"]
    assert "token" in schema["components"]["schemas"][created.rsplit("/", 1)[1]]["properties"]
    assert "token" not in schema["components"]["schemas"]["Gateway"]["properties"]
    assert "/api/v1/gateways/{id}/rotate-token/" in paths and "/api/v1/gateways/{id}/revoke-token/" in paths
    assert "abb-m4m" in schema["components"]["schemas"]["MeterModelEnum"]["enum"]
    # Swagger UI groups by tag: one group per resource
    assert paths["/api/v1/charging-networks/{id}/"]["patch"]["tags"] == ["charging-networks"]


def test_swagger_ui_is_served_without_a_cdn():
    page = APIClient().get("/api/docs/").content.decode()
    assert "swagger-ui" in page
    assert "cdn" not in page.lower() and "unpkg" not in page.lower()
