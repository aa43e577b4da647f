"""Bad telemetry against a live server on PostgreSQL: a 400 naming the item and field, nothing stored, the next batch fine.

Each case is a value that once reached PostgreSQL unchecked (a 500), was
dropped silently, or was stored and jammed the gateway's later batches. The
server runs as Django's live server in its own thread against the suite's
PostgreSQL; the requests go over HTTP like a gateway's.
"""

import itertools
import json
import math
import re
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fleet.models import ChargerState, Gateway, MeterState, NetworkState, TelemetryEvent, TelemetrySample
from fleet.services.gateway_tokens import gateway_issue_token
from tests.fleet.conftest import make_tenant

pytestmark = pytest.mark.django_db(transaction=True)

TELEMETRY = "/api/gateway/v1/telemetry"


class Site:
    """One tenant's gateway speaking HTTP to the live server, with numbers that never repeat."""

    def __init__(self, live_server, slug: str):
        self.tenant = make_tenant(slug)
        self.http = httpx.Client(base_url=live_server.url, timeout=30,
                                 headers={"Authorization": f"Bearer {gateway_issue_token(self.tenant.gateway)}"})
        self.seqs = itertools.count(1)

    def sample(self, **changes) -> dict:
        tenant = self.tenant
        item = {
            "seq": next(self.seqs), "kind": "sample", "ts": ago(minutes=5), "network": str(tenant.network.pk), "mode": "normal",
            "grid_current_a": [10.0, 9.5, 9.0], "headroom_a": [5.0, 5.0, 5.0],
            "chargers": {str(tenant.charger.pk): {"current_a": [6.0, 6.0, 6.0], "setpoint_a": 6.0, "reason": "at_max",
                                                  "available": True, "failsafe_confirmed": True}},
        }
        item.update(changes)
        return item

    def event(self, **changes) -> dict:
        item = {"seq": next(self.seqs), "kind": "event", "ts": ago(minutes=5), "network": str(self.tenant.network.pk),
                "type": "meter_lost", "detail": "timed out", "subject": "meter"}
        item.update(changes)
        return item

    def post(self, items, gaps=()) -> httpx.Response:
        body = {"gateway": "informational", "items": items, "gaps": [list(g) for g in gaps]}
        # Encoded here (ASCII escapes) so that lone surrogates and NaN travel as a careless sender would send them.
        return self.http.post(TELEMETRY, content=json.dumps(body).encode(), headers={"Content-Type": "application/json"})

    def stored(self) -> set[int]:
        gateway = self.tenant.gateway
        return set(TelemetrySample.objects.filter(gateway=gateway).values_list("seq", flat=True)) | set(
            TelemetryEvent.objects.filter(gateway=gateway).values_list("seq", flat=True))


def ago(**delta) -> str:
    return (datetime.now(UTC) - timedelta(**delta)).isoformat()


@pytest.fixture
def site(live_server):
    site = Site(live_server, "refusals")
    yield site
    site.http.close()


def charger(site: Site, **changes) -> dict:
    return {str(site.tenant.charger.pk): {"current_a": None, "setpoint_a": 0.0, "reason": "inactive", "available": True,
                                          **changes}}


# Each case: what the batch holds (built from the site), and the field the answer must name.
CASES = {
    # numbers PostgreSQL's bigint cannot hold, or no integer at all
    "seq 2^63": (lambda s: [s.sample(seq=2**63)], "items[0].seq"),
    "seq 1e30": (lambda s: [s.sample(seq=1e30)], "items[0].seq"),
    "seq 10^30": (lambda s: [s.sample(seq=10**30)], "items[0].seq"),
    "gap beyond bigint": (lambda s: [s.sample()], "gaps[0]"),
    # texts longer than their columns or not storable at all
    "reason of 65 characters": (lambda s: [s.sample(chargers=charger(s, reason="r" * 65))], "items[0].chargers."),
    "reason with NUL": (lambda s: [s.sample(chargers=charger(s, reason="at\x00max"))], "items[0].chargers."),
    "subject of 101 characters": (lambda s: [s.event(subject="s" * 101)], "items[0].subject"),
    "detail with a lone surrogate": (lambda s: [s.event(detail="x\ud800y")], "items[0].detail"),
    "network key of 5,000 characters": (lambda s: [s.sample(network="n" * 5000)], "items[0].network"),
    "charger key of 101 characters": (lambda s: [s.sample(chargers={"c" * 101: charger(s)[str(s.tenant.charger.pk)]})],
                                      "items[0].chargers"),
    # times PostgreSQL or Python cannot hold, or far from the server's clock
    "offset +23:30": (lambda s: [s.sample(ts="2026-11-30T10:00:00+23:30")], "items[0].ts"),
    "offset -16:00": (lambda s: [s.sample(ts="2026-11-30T10:00:00-16:00")], "items[0].ts"),
    "year 10000 in UTC": (lambda s: [s.sample(ts="9999-12-31T23:00:00-14:00")], "items[0].ts"),
    "year 9999": (lambda s: [s.sample(ts="9999-12-31T00:00:00Z")], "items[0].ts"),
    "year 0 in UTC": (lambda s: [s.sample(ts="0001-01-01T00:30:00+01:00")], "items[0].ts"),
    "31 days ago": (lambda s: [s.sample(ts=ago(days=31))], "items[0].ts"),
    "two days ahead": (lambda s: [s.sample(ts=ago(days=-2))], "items[0].ts"),
    "no zone": (lambda s: [s.sample(ts="2026-11-30T10:00:00")], "items[0].ts"),
    # the same seq twice in one batch, also after a hole
    "same seq twice": (lambda s: [s.sample(seq=1000), s.sample(seq=1000)], "items[1].seq"),
    "same seq twice after a hole": (lambda s: [s.sample(seq=1001), s.sample(seq=1003), s.event(seq=1003)], "items[2].seq"),
    # networks not of this site
    "network of another site": (lambda s: [s.sample(network=str(s.other_network))], "items[0].network"),
    "unknown network in an event": (lambda s: [s.event(network="999999")], "items[0].network"),
    # numbers outside physics
    # NaN is not JSON: the body parser refuses it before any item is looked at.
    "grid current NaN": (lambda s: [s.sample(grid_current_a=[1.0, math.nan, 2.0])], "(body)"),
    "grid current 1e300": (lambda s: [s.sample(grid_current_a=[1.0, 1e300, 2.0])], "items[0].grid_current_a[1]"),
}


def test_each_bad_value_is_a_400_naming_it_nothing_is_stored_and_the_next_batch_is_accepted(site):
    # One server and one site for all cases (a live-server test per case would flush the database 24 times).
    site.other_network = make_tenant("other").network.pk
    for case, (build, field) in CASES.items():
        stored_before = site.stored()
        items = [site.sample(), *build(site)]  # a good item first: the refusal takes it along
        gaps = [(500, 2**63)] if case == "gap beyond bigint" else ()
        response = site.post(items, gaps)

        assert response.status_code == 400, f"{case}: {response.text}"
        answer = response.json()
        expected = re.sub(r"items\[(\d+)\]", lambda m: f"items[{int(m.group(1)) + 1}]", field)
        assert answer["field"].startswith(expected) and answer["detail"].startswith(answer["field"]), case
        assert site.stored() == stored_before, f"{case}: part of a refused batch was stored"

        following = [site.sample(), site.event()]
        assert site.post(following).status_code == 200, case
        assert site.stored() == stored_before | {item["seq"] for item in following}, case


def test_a_time_from_a_clock_never_set_is_stored_with_the_time_it_arrived(site):
    before = datetime.now(UTC)
    response = site.post([site.sample(ts="1970-01-01T00:00:07Z"), site.event(ts="0001-01-01T00:00:00Z")])
    assert response.status_code == 200, response.text
    assert TelemetrySample.objects.get().ts >= before and TelemetryEvent.objects.get().ts >= before


def test_a_sample_from_the_near_future_does_not_freeze_the_live_state(site):
    assert site.post([site.sample(ts=ago(hours=-20), mode="fallback")]).status_code == 200
    assert site.post([site.sample(ts=ago(seconds=-1))]).status_code == 200
    state = NetworkState.objects.get(network=site.tenant.network)
    assert state.mode == "normal" and state.sample_ts <= datetime.now(UTC)
    # A reading is never fresher than its arrival, so a meter that falls silent now is noticed on time.
    assert MeterState.objects.get(meter=site.tenant.meter).last_reading_at <= datetime.now(UTC)
    assert ChargerState.objects.get(charger=site.tenant.charger).failsafe_confirmed is True


# --- generated batches: never a 5xx, never a silent drop -----------------------------------------

json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20)
json_values = st.recursive(
    json_scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=10,
)
TEXT_CORNERS = st.sampled_from(["", " ", "\x00", "\ud800", "é" * 70, "x" * 101, "1970-01-01T00:00:00Z",
                                "9999-12-31T23:59:59-15:59", "2026-11-30T10:00:00+15:59"])


@st.composite
def batches(draw, site: Site):
    items = [site.sample(), site.event(), site.sample()]
    for _ in range(draw(st.integers(0, 3))):
        item = draw(st.sampled_from(items))
        key = draw(st.sampled_from(["seq", "ts", "network", "mode", "grid_current_a", "chargers", "type", "detail",
                                    "subject", "kind", "extra"]))
        item[key] = draw(json_values | TEXT_CORNERS | st.integers(min_value=2**63 - 2, max_value=2**64))
    return items


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_generated_batches_are_stored_whole_or_refused_whole_never_a_server_error(site, data):
    items = data.draw(batches(site))
    before = site.stored()
    response = site.post(items)
    assert response.status_code in (200, 400), response.text
    after = site.stored()
    if response.status_code == 400:
        assert after == before and "field" in response.json()
    else:
        assert {item["seq"] for item in items} <= after  # every item stored, none dropped
    Gateway.objects.get(pk=site.tenant.gateway.pk)  # the gateway's row still reads back
