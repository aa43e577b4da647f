"""One websocket connection of a charge point, as the central system sees it (built on the `ocpp` package).

Answers what the charge point asks (OCPP 1.6 ed. 2, chapter 4 Operations
Initiated by Charge Point, p. 32: Authorize, BootNotification, Heartbeat,
MeterValues, StartTransaction, StatusNotification, StopTransaction) and
configures it for regulation on every connect, BootNotification or not (a
charge point that merely reconnects sends none): MeterValues every second
with the measurands the loop needs (5.3 Change Configuration p. 45; 9.1.19
MeterValueSampleInterval p. 102, 9.1.17 MeterValuesSampledData p. 101), its
smart-charging limits (5.8 Get Configuration p. 48; 9.4.1
ChargeProfileMaxStackLevel, 9.4.2 ChargingScheduleAllowedChargingRateUnit,
p. 107), foreign default profiles cleared (5.5 Clear Charging Profile p. 47,
6.13 p. 63; errata v4.0, 3.25 / 3.26: the given fields must all match, so no
connectorId means every connector), then the failsafe and live layers
(`profiles`). Clocks: BootNotification and Heartbeat answers carry our time,
and the charger is RECOMMENDED (not required) to set its clock by it (4.2
p. 33, 4.6 p. 35); its `validTo` runs on that clock.
"""

from __future__ import annotations

import asyncio
import itertools
import logging

from ocpp.exceptions import OCPPError
from ocpp.messages import unpack
from ocpp.routing import on
from ocpp.v16 import ChargePoint, call, call_result
from ocpp.v16.enums import Action, AuthorizationStatus, ConfigurationStatus, RegistrationStatus
from websockets.exceptions import ConnectionClosed

from gateways.chargers.base import FailsafeSettings
from gateways.ocpp16.link import ChargePointLink, LinkState
from gateways.ocpp16.profiles import (
    FAILSAFE_PROFILE_ID,
    FAILSAFE_STACK_LEVEL,
    LIVE_PROFILE_ID,
    ocpp_time,
    tx_default_profile,
    utc_now,
)

log = logging.getLogger(__name__)
wire_log = logging.getLogger("gateways.ocpp16.wire")
"""Every frame in and out, at INFO (the `ocpp` package's habit); quiet unless asked for."""
wire_log.setLevel(logging.WARNING)

HEARTBEAT_INTERVAL_S = 60
"""Heartbeat answers carry our time, which chargers are RECOMMENDED to set their clock by (4.6, p. 35)."""
SAMPLE_INTERVALS_S = (1, 2, 3)
"""MeterValueSampleInterval asked for, best first; slower chargers cannot follow the loop and are refused."""
MEASURANDS = "Current.Import,Power.Active.Import,Energy.Active.Import.Register"
MAX_FOREIGN_LEVELS_CLEARED = 20
RESPONSE_TIMEOUT_S = 5.0
_transaction_ids = itertools.count(1)


class CentralSession(ChargePoint):
    """The central system's side of one charge point connection."""

    def __init__(self, link: ChargePointLink, connection, response_timeout_s: float = RESPONSE_TIMEOUT_S):
        super().__init__(link.identity, connection, response_timeout=response_timeout_s, logger=wire_log)
        self.link = link

    async def route_message(self, raw_msg):
        """Drop a frame that is not OCPP-J with one clear log line (the package alone logs a traceback)."""
        try:
            unpack(raw_msg)
        except OCPPError as error:
            log.warning("OCPP charge point %s sent a malformed frame, ignored: %s: %.200r",
                        self.link.identity, type(error).__name__, raw_msg)
            return None
        return await super().route_message(raw_msg)

    # --- what the charge point asks ------------------------------------------------

    @on(Action.boot_notification)
    def on_boot_notification(self, charge_point_vendor: str, charge_point_model: str, **extra):
        """Accept every configured charge point; our time sets its clock."""
        self.link.boot = {"vendor": charge_point_vendor, "model": charge_point_model, **extra}
        return call_result.BootNotification(current_time=ocpp_time(utc_now()), interval=HEARTBEAT_INTERVAL_S,
                                            status=RegistrationStatus.accepted)

    @on(Action.heartbeat)
    def on_heartbeat(self):
        """Our time, to keep the charger's clock (and so its profiles' validTo) right."""
        return call_result.Heartbeat(current_time=ocpp_time(utc_now()))

    @on(Action.status_notification)
    def on_status_notification(self, connector_id: int, error_code: str, status: str, **extra):
        """The connector's state for the loop."""
        self.link.note_status(connector_id, status, error_code)
        return call_result.StatusNotification()

    @on(Action.meter_values)
    def on_meter_values(self, connector_id: int, meter_value: list, **extra):
        """The connector's currents, power and energy for the loop."""
        self.link.note_meter_values(connector_id, meter_value)
        return call_result.MeterValues()

    @on(Action.authorize)
    def on_authorize(self, id_tag: str):
        """Accepted locally: the site decides who charges, FuseGuard only how much."""
        return call_result.Authorize(id_tag_info={"status": AuthorizationStatus.accepted})

    @on(Action.start_transaction)
    def on_start_transaction(self, connector_id: int, id_tag: str, meter_start: int, timestamp: str, **extra):
        """Accepted locally, numbered by the agent; the session's energy counts from `meter_start`."""
        transaction_id = next(_transaction_ids)
        if connector_id == self.link.config.connector_id:
            self.link.note_transaction_start(transaction_id, float(meter_start))
        return call_result.StartTransaction(transaction_id=transaction_id,
                                            id_tag_info={"status": AuthorizationStatus.accepted})

    @on(Action.stop_transaction)
    def on_stop_transaction(self, meter_stop: int, timestamp: str, transaction_id: int, **extra):
        """Acknowledged; the session's final energy goes into telemetry."""
        if transaction_id == self.link.transaction_id:
            self.link.note_transaction_stop(float(meter_stop))
        return call_result.StopTransaction(id_tag_info={"status": AuthorizationStatus.accepted})

    @on(Action.data_transfer)
    def on_data_transfer(self, vendor_id: str, **extra):
        """No vendor extensions here."""
        return call_result.DataTransfer(status="UnknownVendorId")

    @on(Action.firmware_status_notification)
    def on_firmware_status(self, status: str):
        """Acknowledged."""
        return call_result.FirmwareStatusNotification()

    @on(Action.diagnostics_status_notification)
    def on_diagnostics_status(self, status: str):
        """Acknowledged."""
        return call_result.DiagnosticsStatusNotification()

    # --- what the agent asks ----------------------------------------------------------

    async def ask(self, request):
        """One call; a CallError becomes an OCPPError, no answer a TimeoutError."""
        return await self.call(request, suppress=False)

    async def configure(self) -> None:
        """On every connect: measurements, smart-charging limits, foreign profiles cleared, both layers armed."""
        link = self.link
        try:
            problem = await self._configure_measurements() or await self._learn_smart_charging()
            if problem:
                link.mark_unusable(problem)
                return
            await self._trigger("StatusNotification")
            await self._clear_foreign_profiles()
            if link.failsafe_wanted is not None:
                await self.arm_failsafe(link.failsafe_wanted)
            if link.live_a is not None:
                await self.send_live(link.live_a, link.live_valid_for_s)
            link.state = LinkState.READY
            link.problem = ""
            # A first reading now rather than a sample interval later: a new agent arms and regulates at its next cycle.
            await self._trigger("MeterValues")
            log.info("OCPP charge point %s configured (max stack level %s, samples every %g s)",
                     link.identity, link.max_stack_level, link.sample_interval_s)
        except (OCPPError, TimeoutError) as error:
            link.mark_unusable(f"configuration failed: {type(error).__name__}: {error}")
        except ConnectionClosed:
            pass  # the link went offline with its websocket
        except ProfileRejected as error:
            link.mark_unusable(str(error))

    async def _configure_measurements(self) -> str | None:
        for interval_s in SAMPLE_INTERVALS_S:
            answer = await self._change("MeterValueSampleInterval", str(interval_s))
            if answer == ConfigurationStatus.accepted:
                self.link.sample_interval_s = float(interval_s)
                break
        else:
            return (f"refuses MeterValueSampleInterval of {', '.join(map(str, SAMPLE_INTERVALS_S))} s; the loop "
                    "needs the charger's currents at least every few seconds")
        answer = await self._change("MeterValuesSampledData", MEASURANDS)
        if answer != ConfigurationStatus.accepted:
            return f"refuses MeterValuesSampledData = {MEASURANDS} ({answer})"
        # Heartbeats carry our time; a charger that only reconnects sends no BootNotification to set its clock.
        await self._change("HeartbeatInterval", str(HEARTBEAT_INTERVAL_S))
        return None

    async def _change(self, key: str, value: str) -> str:
        try:
            answer = await self.ask(call.ChangeConfiguration(key=key, value=value))
        except OCPPError as error:
            return f"{type(error).__name__}: {error.description}"
        return answer.status

    async def _learn_smart_charging(self) -> str | None:
        keys = ["ChargeProfileMaxStackLevel", "ChargingScheduleAllowedChargingRateUnit"]
        answer = await self.ask(call.GetConfiguration(key=keys))
        values = {item.get("key"): item.get("value") for item in answer.configuration_key or []}
        units = [unit.strip() for unit in (values.get("ChargingScheduleAllowedChargingRateUnit") or "").split(",")]
        if "Current" not in units:
            found = values.get("ChargingScheduleAllowedChargingRateUnit")
            return ("does not take current-based (A) charging profiles "
                    f"(ChargingScheduleAllowedChargingRateUnit = {found if found is not None else 'unknown'})")
        try:
            self.link.max_stack_level = int(values.get("ChargeProfileMaxStackLevel"))
        except (TypeError, ValueError):
            return f"reports no usable ChargeProfileMaxStackLevel ({values.get('ChargeProfileMaxStackLevel')!r})"
        if self.link.max_stack_level < 0:
            return f"reports ChargeProfileMaxStackLevel {self.link.max_stack_level}"
        return None

    async def _trigger(self, message: str) -> None:
        """Ask for a StatusNotification / MeterValues now (OCPP 1.6 ed. 2, 5.17 Trigger Message, p. 55): a charger
        that merely reconnects may not report its connector's status by itself."""
        try:
            await self.ask(call.TriggerMessage(requested_message=message, connector_id=self.link.config.connector_id))
        except OCPPError:
            pass  # RemoteTrigger is optional; the message then comes with the charger's next change or sample

    async def _clear_foreign_profiles(self) -> None:
        """Default profiles between our two layers would outrank the failsafe once the live layer lapses."""
        top = min(self.link.live_stack_level, MAX_FOREIGN_LEVELS_CLEARED + 1)
        for level in range(FAILSAFE_STACK_LEVEL + 1, top):
            await self.ask(call.ClearChargingProfile(charging_profile_purpose="TxDefaultProfile", stack_level=level))

    async def _set_profile(self, profile: dict, what: str) -> None:
        answer = await self.ask(call.SetChargingProfile(connector_id=self.link.config.connector_id,
                                                         cs_charging_profiles=profile))
        if answer.status != "Accepted":
            raise ProfileRejected(f"rejects the {what} charging profile ({answer.status})")

    async def arm_failsafe(self, settings: FailsafeSettings) -> FailsafeSettings | None:
        """The permanent stack-level-0 layer; the charger's answer confirms it (None: no room for it)."""
        link = self.link
        link.failsafe_wanted = settings
        if not link.two_layers:
            link.failsafe_confirmed = None
            link.failsafe_problem = (f"not confirmed: ChargeProfileMaxStackLevel is {link.max_stack_level}, no room for a "
                                     "failsafe layer below the live one; without the gateway the charger keeps its "
                                     "last profile until it expires, then its own default")
            return None
        profile = tx_default_profile(FAILSAFE_PROFILE_ID, FAILSAFE_STACK_LEVEL, settings.current_a, link.config.phases,
                                     utc_now())
        await self._set_profile(profile, "failsafe")
        link.failsafe_confirmed, link.failsafe_problem = settings, None
        return settings

    async def send_live(self, current_a: float, valid_for_s: float | None) -> None:
        """The live layer: the setpoint, valid `valid_for_s` from now on the charger's clock."""
        link = self.link
        profile = tx_default_profile(LIVE_PROFILE_ID, link.live_stack_level, current_a, link.config.phases, utc_now(),
                                     valid_for_s)
        await self._set_profile(profile, "live")
        link.live_a, link.live_valid_for_s = current_a, valid_for_s


class ProfileRejected(Exception):
    """The charge point answered SetChargingProfile with Rejected or NotSupported."""


async def run_session(session: CentralSession) -> None:
    """Serve the connection and configure the charger alongside, until the websocket closes."""
    configure = asyncio.ensure_future(session.configure())
    try:
        await session.start()
    finally:
        configure.cancel()
