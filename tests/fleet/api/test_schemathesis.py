"""Requests generated from the OpenAPI document never make the API fail (no 5xx) and answers match the document.

schemathesis (4.x) loads /api/schema/ from the WSGI app in-process and draws
requests for every /api/v1/ operation; each answer must not be a 5xx and, where
its status is documented, must match the documented body.
"""

import pytest

schemathesis = pytest.importorskip("schemathesis")

from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from fleet.wsgi import application

pytestmark = pytest.mark.django_db

EXAMPLES_PER_OPERATION = 25


@pytest.fixture
def database_connection_kept_open():
    """Keep Django from closing the test's connection (and its transaction) after each in-process WSGI request.

    Django's own test client does the same; schemathesis calls the WSGI app directly.
    """
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


RELATIONS = {"organization": "organizations", "site": "sites", "network": "charging-networks"}
"""Request body fields that point at another object, and the endpoint of that object."""


def own_object_ids(tenant) -> dict[str, int]:
    """The tenant's object behind each endpoint."""
    return {
        "organizations": tenant.organization.pk, "sites": tenant.site.pk, "gateways": tenant.gateway.pk,
        "charging-networks": tenant.network.pk, "meters": tenant.meter.pk, "chargers": tenant.charger.pk,
        "events": tenant.event.pk,
    }


def check_operation(operation, headers: dict, own_ids: dict[str, int]) -> None:
    """Draw requests for one operation and check every answer."""
    own_id = own_ids.get(operation.path.split("/")[3])

    # Random ids are nearly always unknown (404 or 400); half of the cases use the user's own objects instead.
    @given(case=operation.as_strategy(), use_own_id=st.booleans())
    @settings(
        max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None, derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    def call(case, use_own_id):
        if use_own_id:
            if own_id is not None and "id" in (case.path_parameters or {}):
                case.path_parameters["id"] = own_id
            if isinstance(case.body, dict):
                case.body.update({k: own_ids[RELATIONS[k]] for k in case.body.keys() & RELATIONS.keys()})
        case.call_and_validate(headers=headers, checks=[not_a_server_error, response_schema_conformance])

    call()


def test_generated_requests_get_no_server_error(tenants, database_connection_kept_open):
    token = Token.objects.create(user=tenants[0].operator)
    schema = schemathesis.openapi.from_wsgi("/api/schema/", application).include(path_regex=r"^/api/v1/")
    operations = [result.ok() for result in schema.get_all_operations()]
    # Deletes go last, so that the other operations still find the user's objects.
    for operation in sorted(operations, key=lambda op: (op.method.upper() == "DELETE", op.path, op.method)):
        check_operation(operation, {"Authorization": f"Token {token.key}"}, own_object_ids(tenants[0]))
