"""Operator API for external power caps: set now or scheduled, scoped per tenant, validated by field, sent to the gateway, recorded."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from fleet.models import NetworkPowerCap, TelemetryEvent
from fleet.services.gateway_tokens import gateway_issue_token
from gateways.protocol import parse_site_config

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 2, 12, 0, 0, tzinfo=UTC)


def limits_url(network) -> str:
    return f"/api/v1/networks/{network.pk}/limits/"


def history_url(network) -> str:
    return f"/api/v1/networks/{network.pk}/limits/history/"


def test_an_operator_sets_a_cap_now_and_it_reaches_the_gateway_in_the_next_config_poll(client, as_user, tenant_a):
    gateway_token = gateway_issue_token(tenant_a.gateway)
    before = client.get("/api/gateway/v1/config", HTTP_AUTHORIZATION=f"Bearer {gateway_token}")
    response = as_user(tenant_a.operator).post(
        limits_url(tenant_a.network), {"source": "operator", "power_w": 11000, "reason": "demand peak"}, format="json"
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["network"] == tenant_a.network.pk and body["end"] is None
    assert abs(datetime.fromisoformat(body["start"]) - timezone.now()) < timedelta(seconds=10)

    after = client.get("/api/gateway/v1/config", HTTP_AUTHORIZATION=f"Bearer {gateway_token}",
                       HTTP_IF_NONE_MATCH=before.headers["ETag"])
    assert after.status_code == 200
    [cap] = parse_site_config(after.json()).networks[0].power_caps
    assert (cap.source, cap.power_w, cap.reason, cap.id) == ("operator", 11000, "demand peak", str(body["id"]))


def test_a_scheduled_cap_and_the_list_of_caps_not_yet_ended(as_user, tenant_a):
    client = as_user(tenant_a.operator)
    start = timezone.now() + timedelta(hours=2)
    response = client.post(limits_url(tenant_a.network), {
        "source": "schedule", "power_w": 6900, "start": start.isoformat(), "end": (start + timedelta(hours=3)).isoformat(),
    }, format="json")
    assert response.status_code == 201, response.json()
    NetworkPowerCap.objects.create(network=tenant_a.network, source="operator", power_w=1000,
                                   start=T0, end=T0 + timedelta(hours=1))  # long over
    listed = as_user(tenant_a.viewer).get(limits_url(tenant_a.network)).json()
    assert [cap["source"] for cap in listed] == ["schedule"]


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"source": "dso", "power_w": 4200}, "source", "not a valid choice"),
        ({"source": "operator", "power_w": -5}, "power_w", "greater than or equal to 0"),
        ({"source": "operator"}, "power_w", "required"),
        ({"source": "operator", "power_w": 4200, "start": "2026-07-01T18:00:00Z", "end": "2026-07-01T17:00:00Z"}, "end", "after start"),
        ({"source": "operator", "power_w": 4200, "start": "soon"}, "start", "Datetime has wrong format"),
        ({"source": "operator", "power_w": 4200, "reason": "x" * 201}, "reason", "200 characters"),
        ({"source": "operator", "power_w": 4200, "until": "2026-07-01T17:00:00Z"}, "until", "Unknown field"),
    ],
)
def test_bad_caps_are_refused_naming_the_field(as_user, tenant_a, body, field, words):
    response = as_user(tenant_a.operator).post(limits_url(tenant_a.network), body, format="json")
    assert response.status_code == 400
    assert field in response.json(), response.json()
    assert words in " ".join(response.json()[field]), response.json()
    assert not NetworkPowerCap.objects.exists()


def test_tenants_neither_see_nor_cap_each_others_networks(as_user, tenant_a, tenant_b):
    NetworkPowerCap.objects.create(network=tenant_b.network, source="grid_operator", power_w=4200, start=T0)
    TelemetryEvent.objects.create(gateway=tenant_b.gateway, network=tenant_b.network, seq=1, ts=T0,
                                  type="power_cap_started", subject="14a-control-box", detail="4200 W (grid_operator_cap)")
    intruder = as_user(tenant_a.operator)
    assert intruder.get(limits_url(tenant_b.network)).status_code == 404
    assert intruder.post(limits_url(tenant_b.network), {"source": "operator", "power_w": 0}, format="json").status_code == 404
    assert intruder.get(history_url(tenant_b.network) + "?from=2026-03-01T00:00:00Z").status_code == 404
    assert NetworkPowerCap.objects.filter(network=tenant_b.network).count() == 1


def test_a_viewer_may_read_but_not_set_caps(as_user, tenant_a):
    viewer = as_user(tenant_a.viewer)
    assert viewer.get(limits_url(tenant_a.network)).status_code == 200
    assert viewer.post(limits_url(tenant_a.network), {"source": "operator", "power_w": 0}, format="json").status_code == 403


def event(tenant, seq: int, minutes: int, type_: str, subject: str, detail: str = "") -> None:
    TelemetryEvent.objects.create(gateway=tenant.gateway, network=tenant.network, seq=seq, ts=T0 + timedelta(minutes=minutes),
                                  type=type_, subject=subject, detail=detail)


@pytest.fixture
def record(tenant_a):
    """A dimming that became an unreadable input before it ended, and a schedule still in force."""
    event(tenant_a, 1, 0, "power_cap_started", "14a-control-box", "10500 W (grid_operator_cap), the guaranteed minimum (asked 0 W): signal active")
    event(tenant_a, 2, 30, "power_cap_started", "14a-control-box", "10500 W (grid_operator_cap), the guaranteed minimum (asked 0 W): input unreadable, counted as dimmed: TimeoutError")
    event(tenant_a, 3, 45, "power_cap_ended", "14a-control-box", "10500 W (grid_operator_cap) lifted")
    event(tenant_a, 4, 60, "power_cap_started", "schedule:7", "6900 W (schedule_cap)")
    event(tenant_a, 5, 70, "meter_lost", "meter", "timeout")


def test_the_record_as_json_pairs_starts_and_ends_per_source(as_user, tenant_a, record):
    response = as_user(tenant_a.viewer).get(history_url(tenant_a.network),
                                            {"from": "2026-03-02T11:00:00Z", "to": "2026-03-02T14:00:00Z"})
    assert response.status_code == 200
    rows = [(r["source"], r["power_w"], r["start"], r["end"]) for r in response.json()]
    assert rows == [
        ("14a-control-box", 10500, "2026-03-02T12:00:00Z", "2026-03-02T12:30:00Z"),
        ("14a-control-box", 10500, "2026-03-02T12:30:00Z", "2026-03-02T12:45:00Z"),
        ("schedule:7", 6900, "2026-03-02T13:00:00Z", None),
    ]


def test_the_record_as_csv_keeps_only_what_overlaps_the_range(as_user, tenant_a, record):
    response = as_user(tenant_a.viewer).get(history_url(tenant_a.network) + "?format=csv&from=2026-03-02T12:40:00Z&to=2026-03-02T14:00:00Z")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [(r["source"], r["start"], r["end"]) for r in rows] == [
        ("14a-control-box", "2026-03-02T12:30:00Z", "2026-03-02T12:45:00Z"),
        ("schedule:7", "2026-03-02T13:00:00Z", ""),
    ]
    assert "input unreadable" in rows[0]["detail"]


def test_a_bad_range_names_the_field(as_user, tenant_a):
    response = as_user(tenant_a.viewer).get(history_url(tenant_a.network), {"from": "2026-03-02T12:00:00Z", "to": "2026-03-01T12:00:00Z"})
    assert response.status_code == 400 and "to" in response.json()
