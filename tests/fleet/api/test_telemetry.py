"""Telemetry is averaged per network into buckets of `resolution_s`; events are listed as reported."""

import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from fleet.models import ChargingNetwork, TelemetryEvent, TelemetrySample
from tests.fleet.api.conftest import T0

pytestmark = pytest.mark.django_db

RANGE = {"from": "2026-03-02T12:00:00Z", "to": "2026-03-02T13:00:00Z"}


def sample(tenant, seq: int, offset_s: float, grid=(None, None, None), mode="normal", network=None, chargers=None):
    """One hand-made sample `offset_s` seconds after T0."""
    return TelemetrySample.objects.create(
        gateway=tenant.gateway, network=network or tenant.network, seq=seq, ts=T0 + timedelta(seconds=offset_s),
        mode=mode, grid_l1_a=grid[0], grid_l2_a=grid[1], grid_l3_a=grid[2], chargers=chargers or {},
    )


def charger_entry(current_a, setpoint_a):
    return {"current_a": current_a, "setpoint_a": setpoint_a, "reason": "fair_share", "available": True}


@pytest.fixture
def operator(tenant_a, tenant_b, as_user):
    return as_user(tenant_a.operator)


def rows(client, **params):
    response = client.get("/api/v1/telemetry/", {**RANGE, **params})
    assert response.status_code == 200, response.content
    return response.json()["results"]


def test_samples_are_averaged_per_bucket(tenant_a, operator):
    # minute 0: two normal samples; minute 1: one normal, one in fallback without grid values
    sample(tenant_a, 1, 0.4, grid=(10.0, 20.0, 30.0))
    sample(tenant_a, 2, 59.9, grid=(20.0, 30.0, 40.0))
    sample(tenant_a, 3, 60.0, grid=(5.0, 5.0, 5.0))
    sample(tenant_a, 4, 90.0, mode="fallback")
    assert rows(operator, resolution_s=60) == [
        {
            "network": tenant_a.network.pk, "ts": "2026-03-02T12:00:00Z", "resolution_s": 60, "sample_count": 2,
            "grid_l1_a": 15.0, "grid_l2_a": 25.0, "grid_l3_a": 35.0, "fallback_share": 0.0,
            "charger_current_a": None, "charger_setpoint_a": None,
        },
        {
            "network": tenant_a.network.pk, "ts": "2026-03-02T12:01:00Z", "resolution_s": 60, "sample_count": 2,
            "grid_l1_a": 5.0, "grid_l2_a": 5.0, "grid_l3_a": 5.0, "fallback_share": 0.5,
            "charger_current_a": None, "charger_setpoint_a": None,
        },
    ]


@pytest.mark.parametrize(
    "resolution_s, expected",
    [
        # (bucket start as minutes after T0, mean L1) per bucket
        (10, [(0.0, 1.0), (0.5, 2.0), (1.0, 3.0), (15.0, 4.0)]),
        (60, [(0.0, 1.5), (1.0, 3.0), (15.0, 4.0)]),
        (900, [(0.0, 2.0), (15.0, 4.0)]),
        (3600, [(0.0, 2.5)]),
    ],
)
def test_buckets_align_to_multiples_of_the_resolution(tenant_a, operator, resolution_s, expected):
    for seq, (offset_s, l1) in enumerate([(5, 1.0), (30, 2.0), (60, 3.0), (900, 4.0)], start=1):
        sample(tenant_a, seq, offset_s, grid=(l1, 0.0, 0.0))
    answer = rows(operator, resolution_s=resolution_s)
    assert [(row["resolution_s"], row["grid_l1_a"]) for row in answer] == [(resolution_s, l1) for _, l1 in expected]
    assert [row["ts"] for row in answer] == [
        (T0 + timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%SZ") for minutes, _ in expected
    ]


def test_a_charger_gets_its_mean_current_and_setpoint(tenant_a, operator):
    cp, other = str(tenant_a.charger.pk), "999"
    sample(tenant_a, 1, 1, grid=(10.0, 10.0, 10.0), chargers={cp: charger_entry([6.0, 6.0, 0.0], 6.0), other: charger_entry([1, 1, 1], 32)})
    sample(tenant_a, 2, 2, grid=(10.0, 10.0, 10.0), chargers={cp: charger_entry([10.0, 8.0, 0.0], 10.0)})
    sample(tenant_a, 3, 3, grid=(10.0, 10.0, 10.0), chargers={cp: charger_entry(None, 0.0)})  # paused, no reading
    sample(tenant_a, 4, 4, grid=(10.0, 10.0, 10.0))  # charger missing from this cycle
    (row,) = rows(operator, resolution_s=60, charger=cp)
    assert row["sample_count"] == 4
    assert row["charger_current_a"] == [8.0, 7.0, 0.0]
    assert row["charger_setpoint_a"] == pytest.approx(16.0 / 3)


def test_networks_are_kept_apart_and_filters_narrow(tenant_a, operator):
    second = ChargingNetwork.objects.create(site=tenant_a.site, name="net-2", max_current_per_phase_a=16)
    sample(tenant_a, 1, 1, grid=(1.0, 1.0, 1.0))
    sample(tenant_a, 2, 2, grid=(3.0, 3.0, 3.0), network=second)
    assert [(row["network"], row["grid_l1_a"]) for row in rows(operator)] == [(tenant_a.network.pk, 1.0), (second.pk, 3.0)]
    assert [row["network"] for row in rows(operator, network=second.pk)] == [second.pk]
    assert [row["network"] for row in rows(operator, charger=tenant_a.charger.pk)] == [tenant_a.network.pk]
    assert len(rows(operator, site=tenant_a.site.pk, gateway=tenant_a.gateway.pk)) == 2


def test_the_range_is_half_open(tenant_a, operator):
    sample(tenant_a, 1, -0.001, grid=(1.0, 1.0, 1.0))
    sample(tenant_a, 2, 0, grid=(2.0, 2.0, 2.0))
    sample(tenant_a, 3, 3600, grid=(3.0, 3.0, 3.0))
    assert [row["grid_l1_a"] for row in rows(operator, resolution_s=3600)] == [2.0]


@pytest.mark.parametrize(
    "params, field",
    [
        # too many buckets: the answer names the parameter to coarsen
        ({"from": "2026-03-01T00:00:00Z", "to": "2026-03-02T00:00:00Z", "resolution_s": 1}, "resolution_s"),
        ({"from": "2025-01-01T00:00:00Z", "to": "2026-03-02T00:00:00Z", "resolution_s": 60}, "resolution_s"),
        # nonsense ranges and widths
        ({"from": "2026-03-02T00:00:00Z", "to": "2026-03-01T00:00:00Z"}, "to"),
        ({"resolution_s": 0}, "resolution_s"),
        ({"from": "yesterday"}, "from"),
        # a time that leaves Python's range once in UTC
        ({"to": "0001-01-01T00:30:00+01:00"}, "to"),
        ({"network": "abc"}, "network"),
    ],
)
def test_unusable_parameters_are_refused(operator, params, field):
    response = operator.get("/api/v1/telemetry/", params)
    assert response.status_code == 400
    assert field in response.json()


def test_ten_thousand_buckets_are_still_allowed(operator):
    response = operator.get("/api/v1/telemetry/", {"from": "2026-03-01T00:00:00Z", "to": "2026-03-01T02:46:40Z", "resolution_s": 1})
    assert response.status_code == 200


def test_without_a_range_the_last_day_is_shown(tenant_a, operator):
    from django.utils import timezone

    TelemetrySample.objects.create(gateway=tenant_a.gateway, network=tenant_a.network, seq=1, ts=timezone.now() - timedelta(hours=1), mode="normal")
    TelemetrySample.objects.create(gateway=tenant_a.gateway, network=tenant_a.network, seq=2, ts=timezone.now() - timedelta(hours=25), mode="normal")
    response = operator.get("/api/v1/telemetry/", {"resolution_s": 3600})
    assert sum(row["sample_count"] for row in response.json()["results"]) == 1


# --- the same query on SQLite, the embedded demo's database

SQLITE_SCRIPT = """
import json
from datetime import UTC, datetime, timedelta
import django
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
from fleet.models import Charger, ChargingNetwork, Gateway, Organization, Site, TelemetryHistory, TelemetrySample
from fleet.api.downsampling import downsample_samples
site = Site.objects.create(organization=Organization.objects.create(name="o", slug="o"), name="s")
gateway = Gateway.objects.create(site=site, name="g")
network = ChargingNetwork.objects.create(site=site, name="n", max_current_per_phase_a=32)
charger = Charger.objects.create(network=network, name="c", driver="simulated")
t0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
for i in range(4):
    TelemetrySample.objects.create(
        gateway=gateway, network=network, seq=i + 1, ts=t0 + timedelta(seconds=30 * i + 0.5),
        mode="fallback" if i == 1 else "normal", grid_l1_a=i, grid_l2_a=2 * i, grid_l3_a=None,
        chargers={str(charger.pk): {"current_a": [i, i + 1, i + 2], "setpoint_a": 6 + i, "reason": "x"}},
    )
print(json.dumps(list(downsample_samples(TelemetryHistory.objects.all(), 60, charger.pk))))
"""


def test_downsampling_gives_the_same_buckets_on_sqlite(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(FUSEGUARD_VAR_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="fleet.settings")
    done = subprocess.run(
        [sys.executable, "-c", SQLITE_SCRIPT], env=env, capture_output=True, text=True, timeout=120, check=True,
        cwd=Path(__file__).resolve().parents[3],
    )
    first, second = json.loads(done.stdout.strip().splitlines()[-1])
    assert (first["bucket_epoch_s"], first["sample_count"], first["fallback_share"]) == (int(T0.timestamp()), 2, 0.5)
    assert (first["avg_grid_l1_a"], first["avg_grid_l2_a"], first["avg_grid_l3_a"]) == (0.5, 1.0, None)
    assert [first[f"avg_charger_l{p}_a"] for p in (1, 2, 3)] + [first["avg_charger_setpoint_a"]] == [0.5, 1.5, 2.5, 6.5]
    assert (second["bucket_epoch_s"], second["avg_grid_l1_a"], second["avg_charger_setpoint_a"]) == (int(T0.timestamp()) + 60, 2.5, 8.5)


# --- events


@pytest.fixture
def events(tenant_a):
    """Three edges over an hour, with a network and without."""
    made = {}
    for seq, (minutes, kind, network) in enumerate(
        [(0, "meter_lost", tenant_a.network), (10, "meter_restored", tenant_a.network), (30, "agent_started", None)], start=1
    ):
        made[kind] = TelemetryEvent.objects.create(
            gateway=tenant_a.gateway, network=network, seq=seq, ts=T0 + timedelta(minutes=minutes), type=kind
        )
    return made


@pytest.mark.parametrize(
    "params, expected",
    [
        # no filter: newest first
        ({}, ["agent_started", "meter_restored", "meter_lost"]),
        # by type, one or several
        ({"type": "meter_lost"}, ["meter_lost"]),
        ({"type": ["meter_lost", "meter_restored"]}, ["meter_restored", "meter_lost"]),
        # by time range [from, to)
        ({"from": "2026-03-02T12:10:00Z"}, ["agent_started", "meter_restored"]),
        ({"to": "2026-03-02T12:10:00Z"}, ["meter_lost"]),
        # by place
        ({"network": "NETWORK"}, ["meter_restored", "meter_lost"]),
        ({"site": "SITE", "gateway": "GATEWAY"}, ["agent_started", "meter_restored", "meter_lost"]),
        # ordering
        ({"ordering": "ts"}, ["meter_lost", "meter_restored", "agent_started"]),
    ],
)
def test_events_filter(tenant_a, operator, events, params, expected):
    ids = {"NETWORK": tenant_a.network.pk, "SITE": tenant_a.site.pk, "GATEWAY": tenant_a.gateway.pk}
    query = {key: ids.get(value, value) if isinstance(value, str) else value for key, value in params.items()}
    response = operator.get("/api/v1/events/", query)
    assert response.status_code == 200, response.content
    assert [event["type"] for event in response.json()["results"]] == expected


@pytest.mark.parametrize(
    "params, field",
    [
        ({"type": "meter_exploded"}, "type"),
        # a time that leaves Python's range once in UTC
        ({"to": "0001-01-01T00:00:00+01:00"}, "to"),
    ],
)
def test_unusable_event_filters_are_refused(operator, params, field):
    response = operator.get("/api/v1/events/", params)
    assert response.status_code == 400
    assert field in response.json()


@pytest.mark.parametrize(
    "since",
    [
        "2026-03-02T14:10:00+02:00",
        # ISO 8601 allows offsets up to 23:59, PostgreSQL stores only up to 15:59: compared in UTC it works anyway
        "2026-03-03T09:19:00+21:09",
    ],
)
def test_event_times_with_an_offset_compare_as_the_same_instant(tenant_a, operator, events, since):
    response = operator.get("/api/v1/events/", {"from": since})
    assert response.status_code == 200, response.content
    assert [event["type"] for event in response.json()["results"]] == ["agent_started", "meter_restored"]
