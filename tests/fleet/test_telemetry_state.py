"""The live state an upload leaves behind: newest wins, older batches never turn it back.

Every rule runs twice: through PostgreSQL's set-based upserts and through the
row-by-row ORM path the SQLite demo uses, so the two cannot drift apart.
"""

from datetime import UTC, datetime, timedelta

import pytest

from fleet.models import Charger, ChargerState, ChargingNetwork, MeterState, NetworkState
from fleet.services import telemetry_state
from tests.fleet.test_gateway_sync import event, gateway_a, post, sample  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db


@pytest.fixture(params=["upserts", "orm"])
def path(request, monkeypatch):
    if request.param == "orm":
        monkeypatch.setattr(telemetry_state, "_upserts_supported", lambda: False)
    return request.param


_HOUR_AGO = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)


def recent(seconds: int) -> str:
    """A fixed time an hour before the tests started plus `seconds` (fixed, so it compares equal within a test)."""
    return (_HOUR_AGO + timedelta(seconds=seconds)).isoformat()


def accepted(client, tenant, items):
    response = post(client, tenant, items)
    assert response.status_code == 200, response.content
    return response


def test_a_later_batch_with_older_samples_does_not_turn_the_live_state_back(client, gateway_a, path):
    accepted(client, gateway_a, [sample(1, gateway_a, ts=recent(60), mode="fallback", setpoint=10.0)])
    accepted(client, gateway_a, [sample(2, gateway_a, ts=recent(0), mode="normal", setpoint=16.0)])
    network = NetworkState.objects.get(network=gateway_a.network)
    charger = ChargerState.objects.get(charger=gateway_a.charger)
    assert (network.mode, charger.setpoint_a) == ("fallback", 10.0)
    assert network.sample_ts == charger.sample_ts


def test_a_newer_sample_replaces_the_live_state_of_network_and_chargers(client, gateway_a, path):
    accepted(client, gateway_a, [sample(1, gateway_a, ts=recent(0), mode="fallback", setpoint=10.0)])
    accepted(client, gateway_a, [sample(2, gateway_a, ts=recent(5), mode="normal", setpoint=16.0, grid=(1.0, 2.0, 3.0))])
    network = NetworkState.objects.get(network=gateway_a.network)
    assert (network.mode, network.grid_current_a) == ("normal", [1.0, 2.0, 3.0])
    assert ChargerState.objects.get(charger=gateway_a.charger).setpoint_a == 16.0


def test_a_lost_meter_stays_lost_since_the_first_loss_until_a_reading_restores_it(client, gateway_a, path):
    accepted(client, gateway_a, [sample(1, gateway_a, ts=recent(0))])
    first_reading = MeterState.objects.get(meter=gateway_a.meter).last_reading_at
    accepted(client, gateway_a, [event(2, gateway_a, "meter_lost", ts=recent(10))])
    accepted(client, gateway_a, [event(3, gateway_a, "meter_lost", ts=recent(20))])
    lost = MeterState.objects.get(meter=gateway_a.meter)
    assert not lost.available and lost.lost_since.isoformat() == recent(10) and lost.last_reading_at == first_reading

    accepted(client, gateway_a, [sample(4, gateway_a, ts=recent(30))])
    restored = MeterState.objects.get(meter=gateway_a.meter)
    assert restored.available and restored.lost_since is None and restored.detail == ""
    assert restored.last_reading_at.isoformat() == recent(30)


def test_the_last_reading_time_only_moves_forward(client, gateway_a, path):
    accepted(client, gateway_a, [sample(1, gateway_a, ts=recent(30))])
    accepted(client, gateway_a, [sample(2, gateway_a, ts=recent(0))])
    assert MeterState.objects.get(meter=gateway_a.meter).last_reading_at.isoformat() == recent(30)


def test_a_first_fact_about_a_meter_creates_its_state_lost_or_available(client, gateway_a, path):
    accepted(client, gateway_a, [event(1, gateway_a, "meter_lost", ts=recent(10))])
    state = MeterState.objects.get(meter=gateway_a.meter)
    assert not state.available and state.lost_since.isoformat() == recent(10) and state.last_reading_at is None


def test_only_the_chargers_of_the_samples_own_network_take_its_state(client, gateway_a, path):
    other_network = ChargingNetwork.objects.create(
        site=gateway_a.site, name="other", max_current_per_phase_a=16, max_power_w=11000, fallback_power_w=0
    )
    neighbour = Charger.objects.create(network=other_network, name="cp-next-door", driver="simulated", max_current_a=16)
    item = sample(1, gateway_a)
    wire = item["chargers"][str(gateway_a.charger.pk)]
    item["chargers"].update({str(neighbour.pk): dict(wire), "0" + str(gateway_a.charger.pk): dict(wire), "cp9": dict(wire)})
    accepted(client, gateway_a, [item])
    assert list(ChargerState.objects.values_list("charger_id", flat=True)) == [gateway_a.charger.pk]
