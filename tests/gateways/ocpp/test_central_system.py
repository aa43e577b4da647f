"""The agent's OCPP 1.6J central system against a bare `ocpp` ChargePoint over real websockets on loopback.

One central system serves the whole module (each test uses its own charge
point identity); the peer comes from the `ocpp` package alone (`peer.py`),
not from our simulator. Protocol facts (documents listed in `gateways.ocpp16`):
OCPP-J 1.6 sections 3.1.1 / 3.1.2 (URL, subprotocol) and 3.2 (404 for an
unknown identity), security white paper ed. 3 section 2.3 (HTTP Basic,
profile 1), OCPP 1.6 ed. 2 section 3.13 (profile stacking) and the
operations of chapters 4 and 5.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

import pytest
import pytest_asyncio
from ocpp.v16 import call
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from gateways.chargers.base import ChargerRejected, ChargerUnreachable, ChargingState, FailsafeSettings, PlugState
from gateways.chargers.registry import DriverContext, make_driver
from gateways.ocpp16.link import LinkState
from gateways.ocpp16.profiles import FAILSAFE_PROFILE_ID, LIVE_PROFILE_ID
from gateways.ocpp16.session import MEASURANDS
from gateways.protocol import parse_site_config
from tests.gateways.ocpp.peer import basic, connected_peer
from tests.gateways.site_harness import eventually
from tests.processes import free_port

pytestmark = pytest.mark.asyncio(loop_scope="module")

PASSWORD = "correct-horse-battery"
IDENTITIES = ["cp-config", "cp-boot", "cp-read", "cp-power", "cp-flat", "cp-reject", "cp-malformed", "cp-neighbour",
              "cp-secret", "cp-slow", "cp-replace", "cp-lag"]


class Clock:
    """Monotonic seconds the tests can move forward: readings are stamped with it."""

    def __init__(self):
        self.offset_s = 0.0
        self._loop_time = asyncio.get_running_loop().time

    def __call__(self) -> float:
        return self._loop_time() + self.offset_s


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def central():
    chargers = [{"id": identity, "driver": "ocpp16", "phases": 3} for identity in IDENTITIES]
    chargers[IDENTITIES.index("cp-secret")]["password"] = PASSWORD
    config = parse_site_config({
        "gateway": {"id": "gw", "ocpp_listen": f"127.0.0.1:{free_port()}"},
        "networks": [{"id": "main", "max_current_per_phase_a": 32, "meter": {"model": "abb-m4m", "host": "127.0.0.1"},
                      "chargers": chargers}],
    })
    clock = Clock()
    context = DriverContext(config.gateway, clock=clock)
    await context.prepare(config)
    drivers = {c.id: await make_driver(c, context, 1.0) for c in config.networks[0].chargers}
    for driver in drivers.values():
        await driver.start()
    yield f"ws://127.0.0.1:{context.ocpp.port}", drivers, clock
    await context.close()


# --- the handshake ---------------------------------------------------------------------------


async def test_an_unknown_identity_is_refused_with_404_and_logged_once(central, caplog):
    url, _, _ = central
    caplog.set_level(logging.WARNING, logger="gateways.ocpp16.central_system")
    for _ in range(3):
        with pytest.raises(InvalidStatus) as refused:
            async with connect(f"{url}/cp-stranger", subprotocols=["ocpp1.6"]):
                pass
        assert refused.value.response.status_code == 404
    lines = [r.getMessage() for r in caplog.records if "cp-stranger" in r.getMessage()]
    assert len(lines) == 1 and "unknown charge point identity" in lines[0]


async def test_http_basic_password_is_checked_when_configured(central):
    url, drivers, _ = central
    for headers in ({}, basic("cp-secret", "wrong-password-123"), basic("someone-else", PASSWORD)):
        with pytest.raises(InvalidStatus) as refused:
            async with connect(f"{url}/cp-secret", subprotocols=["ocpp1.6"], additional_headers=headers):
                pass
        assert refused.value.response.status_code == 401
    async with connected_peer(url, "cp-secret", headers=basic("cp-secret", PASSWORD)):
        await eventually(lambda: drivers["cp-secret"].link.state is LinkState.READY, what="configured")


async def test_a_client_without_the_ocpp16_subprotocol_is_closed_right_after_the_handshake(central):
    # OCPP-J 1.6, 3.2: the handshake completes without a Sec-WebSocket-Protocol header, then the server closes.
    url, _, _ = central
    async with connect(f"{url}/cp-config") as client:
        assert client.subprotocol is None
        with pytest.raises(ConnectionClosed):
            await asyncio.wait_for(client.recv(), timeout=5)
    assert client.close_code == 1002


# --- configuration on every connect ---------------------------------------------------------


async def test_a_charger_that_only_reconnects_is_configured_cleared_and_armed_in_two_layers(central):
    url, drivers, _ = central
    driver = drivers["cp-config"]
    async with connected_peer(url, "cp-config", max_stack_level="3") as peer:  # no BootNotification at all
        await eventually(lambda: driver.link.state is LinkState.READY, what="configured")
        assert peer.sent("ChangeConfiguration")[:2] == [
            {"key": "MeterValueSampleInterval", "value": "1"},
            {"key": "MeterValuesSampledData", "value": MEASURANDS},
        ]
        assert set(peer.sent("GetConfiguration")[0]["key"]) == {"ChargeProfileMaxStackLevel",
                                                                  "ChargingScheduleAllowedChargingRateUnit"}
        # Foreign default profiles between our layers (levels 1 and 2 of 0..3) would outrank the failsafe.
        assert [(c["charging_profile_purpose"], c["stack_level"]) for c in peer.sent("ClearChargingProfile")] == [
            ("TxDefaultProfile", 1), ("TxDefaultProfile", 2)]

        assert await driver.arm_failsafe(FailsafeSettings(timeout_s=10, current_a=6.0)) == FailsafeSettings(10, 6.0)
        assert await driver.apply_setpoint(13.3, 10.0) is True
        failsafe, live = peer.sent("SetChargingProfile")
        assert (failsafe["charging_profile_id"], failsafe["stack_level"], failsafe.get("valid_to")) == (
            FAILSAFE_PROFILE_ID, 0, None)
        assert (live["charging_profile_id"], live["stack_level"]) == (LIVE_PROFILE_ID, 3)
        for profile, limit in ((failsafe, 6.0), (live, 13.3)):
            assert profile["connector_id"] == 1 and profile["charging_profile_purpose"] == "TxDefaultProfile"
            assert profile["charging_schedule"]["charging_rate_unit"] == "A"
            (period,) = profile["charging_schedule"]["charging_schedule_period"]  # limits arrive as Decimal
            assert (period["start_period"], float(period["limit"]), period["number_phases"]) == (0, limit, 3)
        valid_to = datetime.fromisoformat(live["valid_to"].replace("Z", "+00:00"))
        assert abs((valid_to - datetime.now(UTC)) - timedelta(seconds=10)) < timedelta(seconds=2)

    # Connecting again re-arms the failsafe layer at once, without waiting for the regulator.
    async with connected_peer(url, "cp-config") as again:
        await eventually(lambda: driver.link.state is LinkState.READY and again.sent("SetChargingProfile"),
                         what="re-armed")
        assert again.sent("SetChargingProfile")[0]["charging_profile_id"] == FAILSAFE_PROFILE_ID


async def test_boot_notification_and_heartbeat_set_the_chargers_clock(central):
    url, _, _ = central
    async with connected_peer(url, "cp-boot") as peer:
        boot = await peer.call(call.BootNotification(charge_point_vendor="ACME", charge_point_model="X"))
        beat = await peer.call(call.Heartbeat())
    assert boot.status == "Accepted" and boot.interval > 0
    for answer in (boot, beat):
        told = datetime.fromisoformat(answer.current_time.replace("Z", "+00:00"))
        assert abs(told - datetime.now(UTC)) < timedelta(seconds=2)


# --- readings -----------------------------------------------------------------------------


async def test_meter_values_and_status_become_the_reading_and_go_stale_after_three_intervals(central):
    url, drivers, clock = central
    driver = drivers["cp-read"]
    async with connected_peer(url, "cp-read") as peer:
        await eventually(lambda: driver.link.state is LinkState.READY, what="configured")
        with pytest.raises(ChargerUnreachable, match="no MeterValues yet"):
            await driver.read()
        assert (await peer.call(call.Authorize(id_tag="TAG"))).id_tag_info["status"] == "Accepted"
        started = await peer.call(call.StartTransaction(connector_id=1, id_tag="TAG", meter_start=1000,
                                                        timestamp="2026-12-01T00:00:00Z"))
        await peer.call(call.StatusNotification(connector_id=1, error_code="NoError", status="Charging"))
        sampled = [{"value": v, "measurand": "Current.Import", "phase": p, "unit": "A"}
                   for p, v in (("L1", "10.5"), ("L2", "10.4"), ("L3", "0"))]
        sampled += [{"value": "4.8", "measurand": "Power.Active.Import", "unit": "kW"},
                    {"value": "1.25", "measurand": "Energy.Active.Import.Register", "unit": "kWh"}]
        await peer.call(call.MeterValues(connector_id=1, transaction_id=started.transaction_id,
                                         meter_value=[{"timestamp": "2026-12-01T00:00:01Z", "sampled_value": sampled}]))
        reading = await driver.read()
        assert (reading.plug, reading.state, reading.current_a) == (PlugState.PLUGGED, ChargingState.CHARGING,
                                                                      (10.5, 10.4, 0.0))
        assert reading.energy_session_wh == pytest.approx(250.0)
        await peer.call(call.StatusNotification(connector_id=1, error_code="NoError", status="SuspendedEV"))
        assert (await driver.read()).state is ChargingState.WAITING
        await peer.call(call.StatusNotification(connector_id=1, error_code="GroundFailure", status="Faulted"))
        assert (await driver.read()).state is ChargingState.ERROR
        stopped = await peer.call(call.StopTransaction(meter_stop=1600, timestamp="2026-12-01T00:10:00Z",
                                                       transaction_id=started.transaction_id))
        assert stopped.id_tag_info["status"] == "Accepted"
        assert (await driver.read()).energy_session_wh == pytest.approx(600.0)

        clock.offset_s += 3.1  # three sample intervals of 1 s without MeterValues
        try:
            with pytest.raises(ChargerUnreachable, match="no MeterValues for 3.1 s"):
                await driver.read()
        finally:
            clock.offset_s -= 3.1
    await eventually(lambda: driver.link.state is LinkState.OFFLINE, what="hung up")
    with pytest.raises(ChargerUnreachable, match="websocket closed"):
        await driver.read()


async def test_a_current_reported_before_a_lower_profile_counts_at_most_the_new_limit(central):
    url, drivers, _ = central
    driver = drivers["cp-lag"]
    async with connected_peer(url, "cp-lag") as peer:
        await eventually(lambda: driver.link.state is LinkState.READY, what="configured")
        sampled = [{"value": "16", "measurand": "Current.Import", "phase": p, "unit": "A"} for p in ("L1", "L2", "L3")]
        await peer.call(call.MeterValues(connector_id=1, meter_value=[{"timestamp": "2026-12-01T00:00:01Z",
                                                                         "sampled_value": sampled}]))
        assert (await driver.read()).current_a == (16.0, 16.0, 16.0)
        await driver.apply_setpoint(8.0, 10.0)
        # The 16 A sample predates the profile: the house-load estimate must not see 8 A of load vanish.
        reading = await driver.read()
        assert (reading.current_a, reading.setpoint_a, reading.enabled) == ((8.0, 8.0, 8.0), 8.0, True)


# --- chargers that cannot be regulated, and chargers with little room --------------------------


async def test_a_charger_without_current_based_profiles_is_unavailable_with_the_reason(central):
    url, drivers, _ = central
    async with connected_peer(url, "cp-power", rate_units="Power"):
        await eventually(lambda: drivers["cp-power"].link.state is LinkState.UNUSABLE, what="refused")
        with pytest.raises(ChargerRejected, match=r"current-based \(A\) charging profiles.*= Power"):
            await drivers["cp-power"].read()


async def test_a_charger_that_refuses_one_second_samples_is_unavailable_with_the_reason(central):
    url, drivers, _ = central
    async with connected_peer(url, "cp-slow", refuse=("MeterValueSampleInterval",)):
        await eventually(lambda: drivers["cp-slow"].link.state is LinkState.UNUSABLE, what="refused")
        with pytest.raises(ChargerRejected, match="refuses MeterValueSampleInterval"):
            await drivers["cp-slow"].read()


async def test_a_charger_without_room_for_two_layers_gets_the_live_layer_only_and_says_failsafe_not_confirmed(central):
    url, drivers, _ = central
    driver = drivers["cp-flat"]
    async with connected_peer(url, "cp-flat", max_stack_level="0") as peer:
        await eventually(lambda: driver.link.state is LinkState.READY, what="configured")
        with pytest.raises(ChargerRejected, match="failsafe not confirmed: ChargeProfileMaxStackLevel is 0"):
            await driver.arm_failsafe(FailsafeSettings(timeout_s=10, current_a=6.0))
        await driver.apply_setpoint(8.0, 10.0)
        (live,) = peer.sent("SetChargingProfile")
        assert (live["charging_profile_id"], live["stack_level"]) == (LIVE_PROFILE_ID, 0)
        assert peer.sent("ClearChargingProfile") == []


async def test_a_rejected_profile_marks_the_charger_unavailable_with_the_reason_and_a_minute_later_it_is_retried(central):
    url, drivers, clock = central
    driver = drivers["cp-reject"]
    async with connected_peer(url, "cp-reject", profile_status="Rejected") as peer:
        await eventually(lambda: driver.link.state is LinkState.READY, what="configured")
        with pytest.raises(ChargerRejected, match=r"rejects the live charging profile \(Rejected\)"):
            await driver.apply_setpoint(10.0, 10.0)
        with pytest.raises(ChargerRejected, match="rejects the live charging profile"):
            await driver.read()


        # A minute later the charger is configured afresh on the same connection; now it takes profiles.
        peer.profile_status = "Accepted"
        clock.offset_s += 60
        try:
            with pytest.raises(ChargerUnreachable, match="being configured again after: rejects the live"):
                await driver.read()
            await eventually(lambda: driver.link.state is LinkState.READY, what="configured again")
            assert await driver.apply_setpoint(10.0, 10.0) is True
        finally:
            clock.offset_s -= 60


# --- robustness ------------------------------------------------------------------------------


async def test_malformed_frames_are_logged_and_neither_this_nor_another_charger_is_disturbed(central, caplog):
    url, drivers, _ = central
    caplog.set_level(logging.WARNING)
    async with connected_peer(url, "cp-neighbour") as neighbour, connected_peer(url, "cp-malformed") as peer:
        await eventually(lambda: drivers["cp-malformed"].link.state is LinkState.READY, what="configured")
        for frame in ("this is not json", "[2, 42]", '{"a": 1}', '[2, "u1", "MeterValues", {"connectorId": "one"}]',
                      '[2, "u2", "NoSuchAction", {}]'):
            await peer._connection.send(frame)
        beat = await peer.call(call.Heartbeat())
        assert beat.current_time
        assert (await neighbour.call(call.Heartbeat())).current_time
    messages = " | ".join(r.getMessage() for r in caplog.records)
    assert "cp-malformed sent a malformed frame" in messages and "this is not json" in messages


async def test_a_charger_that_connects_again_replaces_its_older_connection(central):
    url, drivers, _ = central
    driver = drivers["cp-replace"]
    async with connected_peer(url, "cp-replace") as first:
        await eventually(lambda: driver.link.state is LinkState.READY, what="configured")
        async with connected_peer(url, "cp-replace") as second:
            await eventually(lambda: driver.link.session is not None and driver.link.session.id == "cp-replace"
                             and driver.link.state is LinkState.READY and second.sent("GetConfiguration"),
                             what="second configured")
            with pytest.raises(ConnectionClosed):
                await first._connection.recv()
            await driver.apply_setpoint(9.0, 10.0)
            assert second.sent("SetChargingProfile") and not first.sent("SetChargingProfile")
