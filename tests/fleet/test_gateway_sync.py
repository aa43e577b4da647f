"""The gateway sync API: config with ETag, telemetry stored exactly once, tokens bound to their own site."""

from datetime import UTC, datetime, timedelta

import pytest

from fleet.models import ChargerState, EventType, MeterState, NetworkState, TelemetryEvent, TelemetrySample
from fleet.services.gateway_tokens import gateway_issue_token, gateway_revoke_token
from gateways.protocol import EVENT_TYPE_LABELS, EVENT_TYPES, parse_site_config

pytestmark = pytest.mark.django_db

CONFIG_URL = "/api/gateway/v1/config"
TELEMETRY_URL = "/api/gateway/v1/telemetry"


@pytest.fixture
def gateway_a(client, tenant_a):
    token = gateway_issue_token(tenant_a.gateway)
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return tenant_a


def recent(seconds: float = 0.0) -> str:
    """A time an hour ago plus `seconds`, inside the server's window around its clock."""
    return (datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1) + timedelta(seconds=seconds)).isoformat()


def sample(seq: int, tenant, *, ts=None, grid=(10.0, 5.0, 2.0), mode="normal", setpoint=16.0) -> dict:
    return {
        "seq": seq, "kind": "sample", "ts": ts or recent(), "network": str(tenant.network.pk), "mode": mode,
        "grid_current_a": list(grid) if grid else None, "headroom_a": [5.0, 5.0, 5.0] if grid else None,
        "chargers": {str(tenant.charger.pk): {"current_a": [15.9, 15.8, 16.0], "setpoint_a": setpoint,
                                              "reason": "at_max", "available": True}},
    }


def event(seq: int, tenant, type_: str, ts=None) -> dict:
    return {"seq": seq, "kind": "event", "ts": ts or recent(1), "network": str(tenant.network.pk), "type": type_,
            "detail": "MeterTransportError: timed out", "subject": "meter"}


def post(client, tenant, items, gaps=()):
    return client.post(
        TELEMETRY_URL, {"gateway": tenant.gateway.name, "items": items, "gaps": [list(g) for g in gaps]},
        content_type="application/json",
    )


# --- config --------------------------------------------------------------------


def test_the_config_is_the_agents_structure_and_validates_with_its_parser(client, gateway_a):
    response = client.get(CONFIG_URL)
    assert response.status_code == 200
    config = parse_site_config(response.json())
    network = config.networks[0]
    assert network.id == str(gateway_a.network.pk) and network.name == gateway_a.network.name
    assert network.max_current_per_phase_a == (32, 32, 32) and network.fallback_power_w == 4140
    assert network.meter.model == gateway_a.meter.model
    assert [c.id for c in network.chargers] == [str(gateway_a.charger.pk)]


def test_an_unchanged_config_answers_304_to_its_etag_and_a_change_gives_a_new_one(client, gateway_a):
    etag = client.get(CONFIG_URL).headers["ETag"]
    assert client.get(CONFIG_URL, HTTP_IF_NONE_MATCH=etag).status_code == 304
    gateway_a.network.max_current_per_phase_a = 25
    gateway_a.network.save()
    changed = client.get(CONFIG_URL, HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200 and changed.headers["ETag"] != etag


def test_a_gateway_gets_only_its_own_sites_config(client, gateway_a, tenant_b):
    networks = client.get(CONFIG_URL).json()["networks"]
    assert {n["id"] for n in networks} == {str(gateway_a.network.pk)}


@pytest.mark.parametrize("header", ["", "Bearer fgw_unknown", "Token abc", "Bearer "])
def test_requests_without_a_valid_gateway_token_are_refused(client, tenant_a, header):
    response = client.get(CONFIG_URL, HTTP_AUTHORIZATION=header) if header else client.get(CONFIG_URL)
    assert response.status_code in (401, 403)


def test_a_revoked_token_is_refused(client, gateway_a):
    gateway_revoke_token(gateway_a.gateway)
    assert client.get(CONFIG_URL).status_code == 401


def test_a_person_cannot_use_the_sync_api(client, tenant_a):
    client.force_login(tenant_a.operator)
    assert client.get(CONFIG_URL).status_code in (401, 403)


# --- telemetry: exactly once ---------------------------------------------------


def test_a_batch_is_stored_and_acknowledged(client, gateway_a):
    response = post(client, gateway_a, [sample(1, gateway_a), sample(2, gateway_a), event(3, gateway_a, "meter_lost")])
    assert response.json() == {"acked_seq": 3}
    assert TelemetrySample.objects.filter(gateway=gateway_a.gateway).count() == 2
    assert TelemetryEvent.objects.get(gateway=gateway_a.gateway).type == "meter_lost"


def test_a_batch_sent_twice_is_stored_once(client, gateway_a):
    items = [sample(1, gateway_a), sample(2, gateway_a)]
    post(client, gateway_a, items)
    assert post(client, gateway_a, items).json() == {"acked_seq": 2}
    assert TelemetrySample.objects.count() == 2


def test_overlapping_and_out_of_order_batches_are_stored_once_and_the_mark_waits_for_the_hole(client, gateway_a):
    assert post(client, gateway_a, [sample(4, gateway_a), sample(5, gateway_a)]).json() == {"acked_seq": 0}
    assert post(client, gateway_a, [sample(1, gateway_a), sample(2, gateway_a)]).json() == {"acked_seq": 2}
    assert post(client, gateway_a, [sample(2, gateway_a), sample(3, gateway_a), sample(4, gateway_a)]).json() == {
        "acked_seq": 5
    }
    assert sorted(TelemetrySample.objects.values_list("seq", flat=True)) == [1, 2, 3, 4, 5]


def test_declared_gaps_of_thinned_samples_count_as_arrived(client, gateway_a):
    response = post(client, gateway_a, [sample(1, gateway_a), sample(5, gateway_a)], gaps=[(2, 4)])
    assert response.json() == {"acked_seq": 5}


def test_a_bad_item_rejects_the_whole_batch_naming_the_field(client, gateway_a):
    bad = sample(2, gateway_a)
    bad["grid_current_a"] = [1.0, "lots", 2.0]
    response = post(client, gateway_a, [sample(1, gateway_a), bad])
    assert response.status_code == 400
    assert response.json()["detail"].startswith("items[1].grid_current_a[1]: must be a number")
    assert TelemetrySample.objects.count() == 0


def test_a_body_that_is_not_json_is_a_400(client, gateway_a):
    response = client.post(TELEMETRY_URL, "{not json", content_type="application/json")
    assert response.status_code == 400 and "not valid JSON" in response.json()["detail"]


def test_more_than_5000_items_is_refused_with_413(client, gateway_a):
    items = [sample(seq, gateway_a) for seq in range(1, 5002)]
    response = post(client, gateway_a, items)
    assert response.status_code == 413 and "at most 5000" in response.json()["detail"]
    assert TelemetrySample.objects.count() == 0


def test_the_token_names_the_gateway_and_the_name_in_a_batch_is_informational(client, gateway_a, tenant_b):
    response = client.post(
        TELEMETRY_URL, {"gateway": tenant_b.gateway.name, "items": [sample(1, gateway_a)]}, content_type="application/json"
    )
    assert response.json() == {"acked_seq": 1}
    assert TelemetrySample.objects.get().gateway == gateway_a.gateway


def test_a_token_cannot_post_into_another_sites_network(client, gateway_a, tenant_b):
    foreign = sample(1, gateway_a)
    foreign["network"] = str(tenant_b.network.pk)
    response = post(client, gateway_a, [foreign])
    assert response.status_code == 400 and response.json()["field"] == "items[0].network"
    assert not TelemetrySample.objects.exists()


# --- latest state ----------------------------------------------------------------


def test_the_latest_state_follows_the_newest_items(client, gateway_a):
    post(client, gateway_a, [sample(1, gateway_a, ts=recent(0)), sample(2, gateway_a, ts=recent(1), setpoint=10.0)])
    network_state = NetworkState.objects.get(network=gateway_a.network)
    assert network_state.mode == "normal" and network_state.grid_current_a == [10.0, 5.0, 2.0]
    assert ChargerState.objects.get(charger=gateway_a.charger).setpoint_a == 10.0
    assert MeterState.objects.get(meter=gateway_a.meter).available

    post(client, gateway_a, [event(3, gateway_a, "meter_lost"),
                             sample(4, gateway_a, ts=recent(2), grid=None, mode="fallback")])
    meter_state = MeterState.objects.get(meter=gateway_a.meter)
    assert not meter_state.available and "timed out" in meter_state.detail
    assert NetworkState.objects.get(network=gateway_a.network).mode == "fallback"


def test_sync_calls_mark_the_gateway_as_seen(client, gateway_a):
    client.get(CONFIG_URL, HTTP_X_FUSEGUARD_VERSION="0.1.0")
    gateway_a.gateway.refresh_from_db()
    assert gateway_a.gateway.last_seen is not None and gateway_a.gateway.software_version == "0.1.0"


def test_the_gateways_own_settings_travel_with_its_config(client, gateway_a):
    gateway = gateway_a.gateway
    gateway.poll_interval_s, gateway.failsafe_timeout_s, gateway.frozen_after_s = 0.75, 120, 30
    gateway.full_clean()
    gateway.save()
    config = parse_site_config(client.get(CONFIG_URL).json())
    assert (config.gateway.poll_interval_s, config.gateway.failsafe_timeout_s, config.gateway.frozen_after_s) == (0.75, 120, 30)
    assert config.gateway.id == str(gateway.pk)  # a stable key: renaming the gateway changes nothing for the agent


def test_the_sites_time_zone_travels_with_its_config(client, gateway_a):
    first = client.get(CONFIG_URL)
    assert parse_site_config(first.json()).gateway.time_zone == "Europe/Berlin"
    gateway_a.site.time_zone = "America/New_York"
    gateway_a.site.save()
    second = client.get(CONFIG_URL, HTTP_IF_NONE_MATCH=first.headers["ETag"])
    assert second.status_code == 200
    assert parse_site_config(second.json()).gateway.time_zone == "America/New_York"


# --- one source for the codes ------------------------------------------------------


def test_the_event_types_stored_are_exactly_the_protocols():
    assert EventType.values == list(EVENT_TYPES)
    assert dict(EventType.choices) == EVENT_TYPE_LABELS
    assert "telemetry_rejected" in EVENT_TYPES


def test_the_latest_charger_state_says_whether_its_failsafe_is_confirmed(client, gateway_a):
    unconfirmed = sample(1, gateway_a)
    unconfirmed["chargers"][str(gateway_a.charger.pk)]["failsafe_confirmed"] = False
    assert post(client, gateway_a, [unconfirmed]).status_code == 200
    assert ChargerState.objects.get(charger=gateway_a.charger).failsafe_confirmed is False
    stored = TelemetrySample.objects.get().chargers[str(gateway_a.charger.pk)]
    assert stored["failsafe_confirmed"] is False and stored["reason"] == "at_max"


def test_the_ingest_refuses_a_batch_in_the_gateways_form_instead_of_storing_nothing(tenant_a):
    """The server stores `parse_batch_records`' tuples; the protocol's dataclasses given by mistake are an error, not a loss."""
    from django.utils import timezone

    from fleet.services.telemetry_ingest import telemetry_ingest
    from gateways.protocol import parse_batch

    batch = parse_batch({"items": [sample(1, tenant_a)]}, now=timezone.now(), networks=[str(tenant_a.network.pk)])
    with pytest.raises(TypeError, match="parse_batch_records"):
        telemetry_ingest(tenant_a.gateway, batch)
    assert not TelemetrySample.objects.exists()
