"""Request bodies of the operator API: too deep, malformed or too large is a 4xx saying why, never a 500.

Each refusal leaves the data as it was, and the next valid request is served.
"""

import pytest

from fleet.json_body import MAX_JSON_DEPTH
from fleet.models import Site

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator(tenants, as_user):
    return as_user(tenants[0].operator)


def post_raw(client, path: str, body: bytes, content_type: str = "application/json", **extra):
    return client.generic("POST", path, body, content_type=content_type, **extra)


def nested_list(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def nested_object(depth: int) -> bytes:
    return b'{"name":' * depth + b"1" + b"}" * depth


def site_body(tenant, name: str = "s-new") -> bytes:
    return f'{{"organization": {tenant.organization.pk}, "name": "{name}"}}'.encode()


def assert_the_next_valid_request_is_served(client, tenant, name: str = "after-refusal"):
    response = post_raw(client, "/api/v1/sites/", site_body(tenant, name))
    assert response.status_code == 201, response.content
    assert response.json()["name"] == name


@pytest.mark.parametrize(
    "body, fragment",
    [
        # nesting: measured before decoding, so no depth reaches the recursion of Python's json
        (nested_list(100_000), "100000 levels deep"),
        (nested_object(100_000), "100000 levels deep"),
        (nested_list(MAX_JSON_DEPTH + 1), f"at most {MAX_JSON_DEPTH}"),
        (b'{"name": ' + b'["]\\"[",' * 40 + b"1" + b"]" * 40 + b"}", "41 levels deep"),  # quoted ones do not count
        # not JSON at all, or not the JSON standard
        (b'{"name": "unterminated', "not valid JSON"),
        (b"{'name': 'single quotes'}", "not valid JSON"),
        (b'{"name": NaN}', "NaN is not a JSON value"),
        (b'{"name": -Infinity}', "-Infinity is not a JSON value"),
        (b'{"name": "\xff\xfe"}', "not UTF-8"),
        (b'{"port": ' + b"9" * 5000 + b"}", "not valid JSON"),  # beyond Python's integer digit limit
    ],
)
def test_a_body_that_is_not_acceptable_json_is_a_400_saying_why(tenants, operator, body, fragment):
    sites_before = Site.objects.count()
    response = post_raw(operator, "/api/v1/sites/", body)
    assert response.status_code == 400, response.content
    assert fragment in response.json()["detail"]
    assert Site.objects.count() == sites_before
    assert_the_next_valid_request_is_served(operator, tenants[0])


def test_nesting_up_to_the_limit_reaches_validation(tenants, operator):
    # 32 levels parse; the field then says what is wrong with the value.
    body = b'{"organization": %d, "name": ' % tenants[0].organization.pk + nested_list(MAX_JSON_DEPTH - 1) + b"}"
    response = post_raw(operator, "/api/v1/sites/", body)
    assert response.status_code == 400
    assert "name" in response.json()


def test_brackets_inside_strings_are_not_nesting(tenants, operator):
    name = "[" * 40 + '\\"' + "{" * 40
    response = operator.post("/api/v1/sites/", {"organization": tenants[0].organization.pk, "name": name}, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["name"] == name


def test_a_deep_body_in_a_patch_changes_nothing(tenants, operator):
    network = tenants[0].network
    response = operator.generic(
        "PATCH", f"/api/v1/charging-networks/{network.pk}/", b'{"fallback_power_w": ' + nested_list(50_000) + b"}",
        content_type="application/json",
    )
    assert response.status_code == 400
    network.refresh_from_db()
    assert network.fallback_power_w == 4140


def test_a_body_over_the_limit_is_a_413(tenants, operator, settings):
    limit = settings.API_MAX_BODY_BYTES
    padding = b" " * (limit - len(site_body(tenants[0])) + 1)  # whitespace: valid JSON, only too long
    response = post_raw(operator, "/api/v1/sites/", site_body(tenants[0]) + padding)
    assert response.status_code == 413
    assert f"at most {limit}" in response.json()["detail"]
    assert not Site.objects.filter(name="s-new").exists()
    assert_the_next_valid_request_is_served(operator, tenants[0])


def test_a_body_at_the_limit_is_read(tenants, operator, settings):
    settings.API_MAX_BODY_BYTES = 4096
    body = site_body(tenants[0])
    response = post_raw(operator, "/api/v1/sites/", body + b" " * (4096 - len(body)))
    assert response.status_code == 201


def test_an_announced_length_over_the_limit_is_refused_before_reading(tenants, operator, settings):
    response = post_raw(operator, "/api/v1/sites/", site_body(tenants[0]), CONTENT_LENGTH=str(settings.API_MAX_BODY_BYTES + 1))
    assert response.status_code == 413
    assert not Site.objects.filter(name="s-new").exists()


def test_a_form_body_over_the_limit_is_a_413_too(tenants, operator, settings):
    settings.API_MAX_BODY_BYTES = 2048
    form = f"organization={tenants[0].organization.pk}&name=s-new&address={'x' * 4096}".encode()
    response = post_raw(operator, "/api/v1/sites/", form, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 413
    assert not Site.objects.filter(name="s-new").exists()


def test_a_form_of_the_browsable_api_is_accepted(tenants, operator):
    # Its csrfmiddlewaretoken key is the form's, not data, so it is not an unknown field.
    form = f"organization={tenants[0].organization.pk}&name=by-form&csrfmiddlewaretoken=abc".encode()
    response = post_raw(operator, "/api/v1/sites/", form, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 201, response.content


def test_multipart_bodies_are_not_taken(tenants, operator):
    # No endpoint takes files, and Django's multipart parser would spool any upload to disk.
    response = operator.post(
        "/api/v1/sites/", {"organization": tenants[0].organization.pk, "name": "multi"}, format="multipart"
    )
    assert response.status_code == 415
    assert not Site.objects.filter(name="multi").exists()
