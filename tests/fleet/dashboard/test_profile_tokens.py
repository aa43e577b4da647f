"""API tokens from the profile page: shown once, stored hashed, acting with the person's role, deleted by their owner only."""

import hashlib
import re

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from fleet.models import ApiToken

pytestmark = pytest.mark.django_db


def create_token(client, name="wallboard") -> str:
    response = client.post(reverse("dashboard:profile"), {"action": "issue_token", "name": name})
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    found = re.findall(r'id="new-token">([^<]*)<', response.content.decode())
    assert len(found) == 1, response.content.decode()[-3000:]
    [token] = found
    return token


def api(token) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def test_a_token_is_shown_once_stored_as_its_hash_and_works_with_the_owners_role(as_user, tenant_a, tenant_b):
    client = as_user(tenant_a.viewer)
    token = create_token(client)
    row = ApiToken.objects.get()
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest() and token not in str(row.__dict__)
    assert token not in client.get(reverse("dashboard:profile")).content.decode()  # never again
    sites = api(token).get("/api/v1/sites/")
    assert sites.status_code == 200 and [s["name"] for s in sites.json()["results"]] == ["site-alpha"]
    # A viewer's token reads but does not write.
    assert api(token).post("/api/v1/sites/", {"organization": tenant_a.organization.pk, "name": "x"}, format="json").status_code == 403
    ApiToken.objects.update(last_used_at=None)
    api(token).get("/api/v1/sites/")
    assert ApiToken.objects.get().last_used_at is not None


def test_a_deleted_or_made_up_token_is_refused(as_user, tenant_a):
    client = as_user(tenant_a.operator)
    token = create_token(client)
    client.post(reverse("dashboard:profile"), {"action": "revoke_token", "token": ApiToken.objects.get().pk})
    assert api(token).get("/api/v1/sites/").status_code == 401
    assert api("fgu_made-up").get("/api/v1/sites/").status_code == 401


def test_nobody_deletes_another_persons_token(as_user, tenant_a):
    create_token(as_user(tenant_a.operator))
    as_user(tenant_a.viewer).post(reverse("dashboard:profile"), {"action": "revoke_token", "token": ApiToken.objects.get().pk})
    assert ApiToken.objects.count() == 1


def test_a_name_is_required_and_unique_per_person(as_user, tenant_a):
    client = as_user(tenant_a.operator)
    create_token(client, "tool")
    response = client.post(reverse("dashboard:profile"), {"action": "issue_token", "name": "tool"})
    assert response.status_code == 400 and "already have a token" in response.content.decode()
    assert client.post(reverse("dashboard:profile"), {"action": "issue_token", "name": ""}).status_code == 400
    assert ApiToken.objects.count() == 1
