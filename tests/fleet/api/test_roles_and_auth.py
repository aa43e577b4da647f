"""Roles decide who writes (viewers read, operators and admins write); tools use tokens, browsers sessions."""

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from fleet.models import Membership, Role, Site
from tests.fleet.api.test_isolation import WRITABLE

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("endpoint", WRITABLE, ids=str)
def test_a_viewer_reads_but_cannot_write(tenants, as_user, endpoint):
    tenant_a, _ = tenants
    viewer = as_user(tenant_a.viewer)
    own = endpoint.object_of(tenant_a)
    url = f"/api/v1/{endpoint.path}/{own.pk}/"
    assert viewer.get(f"/api/v1/{endpoint.path}/").status_code == 200
    assert viewer.get(url).status_code == 200
    assert viewer.post(f"/api/v1/{endpoint.path}/", endpoint.new_in(tenant_a), format="json").status_code == 403
    assert viewer.patch(url, endpoint.change, format="json").status_code == 403
    assert viewer.delete(url).status_code == 403
    assert endpoint.model.objects.filter(pk=own.pk).exists()


@pytest.mark.parametrize("action", ["rotate-token", "revoke-token"])
def test_a_viewer_cannot_touch_gateway_tokens(tenants, as_user, action):
    tenant_a, _ = tenants
    tenant_a.gateway.token_hash = "0" * 64
    tenant_a.gateway.save()
    response = as_user(tenant_a.viewer).post(f"/api/v1/gateways/{tenant_a.gateway.pk}/{action}/")
    assert response.status_code == 403
    tenant_a.gateway.refresh_from_db()
    assert (tenant_a.gateway.token_hash, tenant_a.gateway.token_revoked_at) == ("0" * 64, None)


def test_an_organisation_admin_writes_like_an_operator(tenants, as_user, django_user_model):
    tenant_a, _ = tenants
    admin = django_user_model.objects.create_user("admin-alpha", password="pw-for-tests-only")
    Membership.objects.create(user=admin, organization=tenant_a.organization, role=Role.ADMIN)
    response = as_user(admin).post("/api/v1/sites/", {"organization": tenant_a.organization.pk, "name": "by-admin"})
    assert response.status_code == 201


def test_an_operator_here_and_viewer_there_may_only_attach_to_the_organisation_they_operate(tenants, as_user):
    tenant_a, tenant_b = tenants
    Membership.objects.create(user=tenant_a.operator, organization=tenant_b.organization, role=Role.VIEWER)
    client = as_user(tenant_a.operator)
    # seeing bravo's site is allowed now...
    assert client.get(f"/api/v1/sites/{tenant_b.site.pk}/").status_code == 200
    # ...but neither changing it nor putting a network on it
    assert client.patch(f"/api/v1/sites/{tenant_b.site.pk}/", {"address": "x"}, format="json").status_code == 403
    response = client.post(
        "/api/v1/charging-networks/", {"site": tenant_b.site.pk, "name": "n", "max_current_per_phase_a": 16}, format="json"
    )
    assert response.status_code == 400
    assert "site" in response.json()


# --- authentication


def test_anonymous_requests_are_refused(tenants):
    response = APIClient().get("/api/v1/sites/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


def test_a_tool_authenticates_with_its_token(tenants):
    token = Token.objects.create(user=tenants[0].operator)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert client.get("/api/v1/sites/").json()["count"] == 1
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    assert client.get("/api/v1/sites/").status_code == 401


def test_a_browser_session_reads_and_writes_with_its_csrf_token(tenants):
    tenant_a, _ = tenants
    browser = APIClient(enforce_csrf_checks=True)
    assert browser.login(username=tenant_a.operator.username, password="pw-for-tests-only")
    assert browser.get("/api/v1/sites/").json()["count"] == 1
    payload = {"organization": tenant_a.organization.pk, "name": "from-browser"}
    # a forged cross-site POST carries the session cookie but not the CSRF token
    assert browser.post("/api/v1/sites/", payload, format="json").status_code == 403
    # the Swagger UI page hands the browser its CSRF cookie, as the docs page does in real use
    csrf = browser.get("/api/docs/").cookies["csrftoken"].value
    assert browser.post("/api/v1/sites/", payload, format="json", HTTP_X_CSRFTOKEN=csrf).status_code == 201
    assert Site.objects.filter(name="from-browser").count() == 1


@pytest.mark.parametrize(
    "path, offered",
    [
        ("sites", lambda t: t.organization),
        ("gateways", lambda t: t.site),
        ("charging-networks", lambda t: t.site),
        ("meters", lambda t: t.network),
        ("chargers", lambda t: t.network),
    ],
)
def test_the_browsable_api_offers_only_the_users_objects_in_its_forms(tenants, path, offered):
    browser = APIClient()
    browser.force_login(tenants[0].operator)
    page = browser.get(f"/api/v1/{path}/", HTTP_ACCEPT="text/html")
    assert page.status_code == 200
    html = page.content.decode()
    assert f'<option value="{offered(tenants[0]).pk}"' in html
    assert str(offered(tenants[1])) not in html
    assert "bravo" not in html
