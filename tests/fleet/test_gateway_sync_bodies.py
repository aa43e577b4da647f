"""Telemetry bodies: the largest legitimate batch is taken; too deep or too large is a 4xx, never a 500."""

import json

import pytest
from django.conf import settings as django_settings

from fleet.json_body import MAX_JSON_DEPTH
from fleet.models import Charger, TelemetrySample
from fleet.services.gateway_tokens import gateway_issue_token
from gateways.protocol.telemetry import MAX_BATCH_ITEMS

pytestmark = pytest.mark.django_db

TELEMETRY_URL = "/api/gateway/v1/telemetry"
CHARGERS_PER_NETWORK = 10


@pytest.fixture
def gateway_a(client, tenant_a):
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {gateway_issue_token(tenant_a.gateway)}"
    return tenant_a


def sample(seq: int, network_id: str, charger_ids: list[str]) -> dict:
    """A sample as the agent writes it, with values as long as they get (three decimals, negative headroom)."""
    return {
        "seq": seq, "kind": "sample", "ts": "2026-11-24T10:00:00.123456Z", "network": network_id, "mode": "fallback",
        "grid_current_a": [31.123, 29.456, 30.789], "headroom_a": [-0.123, 1.234, 12.345],
        "chargers": {
            cid: {"current_a": [15.923, 15.812, 16.001], "setpoint_a": 15.5, "reason": "limited_by_network_power", "available": True}
            for cid in charger_ids
        },
    }


def post_body(client, body: bytes, **extra):
    return client.generic("POST", TELEMETRY_URL, body, content_type="application/json", **extra)


def one_sample_body(tenant, seq: int = 1) -> bytes:
    items = [sample(seq, str(tenant.network.pk), [str(tenant.charger.pk)])]
    return json.dumps({"gateway": tenant.gateway.name, "items": items}).encode()


def test_the_largest_legitimate_batch_fits_comfortably_and_is_stored(client, gateway_a):
    for number in range(1, CHARGERS_PER_NETWORK):
        Charger.objects.create(network=gateway_a.network, name=f"cp-extra-{number}", driver="simulated", max_current_a=16)
    charger_ids = [str(pk) for pk in gateway_a.network.chargers.values_list("pk", flat=True)]
    items = [sample(seq, str(gateway_a.network.pk), charger_ids) for seq in range(1, MAX_BATCH_ITEMS + 1)]
    body = json.dumps({"gateway": gateway_a.gateway.name, "items": items, "gaps": []}).encode()
    # About 7 MB: beyond Django's 2.5 MB DATA_UPLOAD_MAX_MEMORY_SIZE (which must not apply), within half our limit.
    assert django_settings.DATA_UPLOAD_MAX_MEMORY_SIZE < len(body) < django_settings.GATEWAY_MAX_BODY_BYTES / 2
    response = post_body(client, body)
    assert response.status_code == 200, response.content[:300]
    assert response.json() == {"acked_seq": MAX_BATCH_ITEMS}
    assert TelemetrySample.objects.filter(gateway=gateway_a.gateway).count() == MAX_BATCH_ITEMS


@pytest.mark.parametrize(
    "body, fragment",
    [
        (b"[" * 100_000 + b"]" * 100_000, "100000 levels deep"),
        (b'{"gateway": ' * 100_000 + b"1" + b"}" * 100_000, "100000 levels deep"),
        (b'{"items": [' + b"[" * MAX_JSON_DEPTH + b"]" * MAX_JSON_DEPTH + b"]}", f"at most {MAX_JSON_DEPTH}"),
        (b'{"gateway": "gw-alpha", "items": [NaN]}', "NaN is not a JSON value"),
        (b'{"gateway": "\xc3\x28"}', "not UTF-8"),
    ],
)
def test_a_body_too_deep_or_not_json_is_a_400_on_the_body(client, gateway_a, body, fragment):
    response = post_body(client, body)
    assert response.status_code == 400
    assert response.json()["field"] == "(body)" and fragment in response.json()["detail"]
    assert TelemetrySample.objects.count() == 0
    assert post_body(client, one_sample_body(gateway_a)).json() == {"acked_seq": 1}


def test_a_body_over_the_limit_is_a_413_and_the_next_batch_is_taken(client, gateway_a, settings):
    settings.GATEWAY_MAX_BODY_BYTES = 64 * 1024
    body = one_sample_body(gateway_a)
    response = post_body(client, body + b" " * (64 * 1024 - len(body) + 1))
    assert response.status_code == 413
    assert f"at most {64 * 1024}" in response.json()["detail"] and "fewer items" in response.json()["detail"]
    assert TelemetrySample.objects.count() == 0
    assert post_body(client, body + b" " * (64 * 1024 - len(body))).json() == {"acked_seq": 1}


def test_an_announced_length_over_the_limit_is_refused_before_reading(client, gateway_a, settings):
    response = post_body(client, one_sample_body(gateway_a), CONTENT_LENGTH=str(settings.GATEWAY_MAX_BODY_BYTES + 1))
    assert response.status_code == 413
    assert TelemetrySample.objects.count() == 0
