"""A simulated OCPP 1.6J charge point with a vehicle, for the demo and the tests (a client of the `ocpp` package).

It dials in to a central system (ws://HOST:PORT/<identity>, subprotocol
ocpp1.6, HTTP Basic when given a password), boots, reports its connector's
status and sends MeterValues every `MeterValueSampleInterval` seconds with
the measurands of `MeterValuesSampledData`. Its vehicle draws what the
composite of the installed profiles allows (`ocpp_profiles`), on the charger's
own clock, which BootNotification and Heartbeat answers set. When the central
system goes away it keeps charging under its profiles (the live layer lapses
at its `validTo`) and dials in again every `reconnect_s`.

`StationQuirks` let a test play the chargers that exist: no room for two
stack levels, no current-based profiles, profiles rejected, no
BootNotification on a mere reconnect, a floor on the sample interval.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from ocpp.routing import after, on
from ocpp.v16 import ChargePoint, call, call_result
from ocpp.v16.enums import Action
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake

from gateways.simulators.ocpp_profiles import ProfileStore, parse_time

log = logging.getLogger(__name__)

MIN_CURRENT_A = 6.0  # IEC 61851-1: below this the charger cannot offer current at all


@dataclass
class OcppVehicle:
    """A vehicle that draws up to its own maximum on its phases."""

    max_current_a: float = 16.0
    phases: int = 3


@dataclass
class StationQuirks:
    """How this charge point differs from an ideal one."""

    max_stack_level: int = 3
    rate_units: str = "Current,Power"
    reject_profiles: bool = False
    boot_on_connect: bool = True
    min_sample_interval_s: int = 1
    hardware_max_a: float = 32.0


@dataclass
class StationCounters:
    """What the central system did to this charge point, for tests."""

    connects: int = 0
    connected_at_s: list = field(default_factory=list)
    """Monotonic time of each websocket opened."""
    boots_sent: int = 0
    set_profiles: int = 0
    clears: list = field(default_factory=list)
    clock_sets: int = 0
    profiles_received: list = field(default_factory=list)
    """(monotonic time, profile id, first period's limit) of every profile accepted, for reaction benchmarks."""


class OcppStation:
    """One simulated charge point with one connector."""

    def __init__(self, url: str, identity: str, *, password: str | None = None, connector_id: int = 1,
                 wired_phases: int = 3, quirks: StationQuirks | None = None, reconnect_s: float = 0.5,
                 clock_offset_s: float = 0.0):
        self.url = url.rstrip("/")
        self.identity = identity
        self.password = password
        self.connector_id = connector_id
        self.wired_phases = wired_phases
        self.quirks = quirks or StationQuirks()
        self.reconnect_s = reconnect_s
        self.clock_offset = timedelta(seconds=clock_offset_s)
        self.profiles = ProfileStore()
        self.config: dict[str, str] = {
            "MeterValueSampleInterval": "60",
            "MeterValuesSampledData": "Energy.Active.Import.Register",
            "HeartbeatInterval": "300",
            "ChargeProfileMaxStackLevel": str(self.quirks.max_stack_level),
            "ChargingScheduleAllowedChargingRateUnit": self.quirks.rate_units,
        }
        self.vehicle: OcppVehicle | None = None
        self.energy_wh = 0.0
        self.transaction_id: int | None = None
        self.session_start: datetime | None = None
        self.counters = StationCounters()
        self.connected = asyncio.Event()
        self.last_refusal: int | None = None
        self._cp: _StationPoint | None = None
        self._task: asyncio.Task | None = None
        self._closing = False
        self._last_tick = None

    # --- the world ------------------------------------------------------------------

    def now(self) -> datetime:
        """The charger's own clock."""
        return datetime.now(UTC) + self.clock_offset

    def set_clock(self, text: str) -> None:
        """Take the central system's time (BootNotification / Heartbeat answers)."""
        moment = parse_time(text)
        if moment is not None:
            self.clock_offset = moment - datetime.now(UTC)
            self.counters.clock_sets += 1

    def plug_in(self, vehicle: OcppVehicle) -> None:
        """A vehicle arrives."""
        self.vehicle = vehicle

    def unplug(self) -> None:
        """The vehicle leaves."""
        self.vehicle = None

    def allowed(self) -> tuple[float, int]:
        """(limit A, phases) the profiles allow now; the hardware maximum when none applies."""
        composite = self.profiles.composite_limit(self.connector_id, self.now(), in_transaction=self.transaction_id
                                                  is not None, session_start=self.session_start)
        if composite is None:
            return self.quirks.hardware_max_a, self.wired_phases
        limit, phases = composite
        # No numberPhases means 3 (7.14 p. 81); a charger wired for fewer uses the limit on those (errata v4.0, 3.34).
        return min(limit, self.quirks.hardware_max_a), min(phases or self.wired_phases, self.wired_phases)

    def allowed_a(self) -> float:
        """The current limit in force now."""
        return self.allowed()[0]

    def current_a(self) -> tuple[float, float, float]:
        """What the vehicle draws per charger phase now."""
        if self.vehicle is None:
            return (0.0, 0.0, 0.0)
        limit, phases = self.allowed()
        if limit < MIN_CURRENT_A:
            return (0.0, 0.0, 0.0)
        drawn = min(limit, self.vehicle.max_current_a)
        used = min(phases, self.vehicle.phases)
        return tuple(drawn if index < used else 0.0 for index in range(3))

    def status(self) -> str:
        """The connector's ChargePointStatus (OCPP 1.6 ed. 2, 7.7, p. 77; SuspendedEV as in errata v4.0, 3.55)."""
        if self.vehicle is None:
            return "Available"
        if any(self.current_a()):
            return "Charging"
        return "SuspendedEVSE" if self.allowed_a() < MIN_CURRENT_A else "SuspendedEV"

    def advance(self, dt_s: float) -> None:
        """The simulated site's clock tick: a vehicle that wants a fixed energy (the demo's) takes it in."""
        wanted = getattr(self.vehicle, "energy_wanted_wh", None)
        if wanted is not None:
            self.vehicle.energy_wanted_wh = max(0.0, wanted - sum(self.current_a()) * 230.0 * dt_s / 3600)

    def _integrate(self) -> None:
        now = asyncio.get_running_loop().time()
        if self._last_tick is not None:
            self.energy_wh += sum(self.current_a()) * 230.0 * (now - self._last_tick) / 3600
        self._last_tick = now

    # --- the connection -------------------------------------------------------------------

    async def start(self) -> None:
        """Start dialing in (and keep doing so)."""
        self._task = asyncio.create_task(self._run())

    async def close(self) -> None:
        """Hang up for good."""
        self._closing = True
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def drop(self) -> None:
        """Close the websocket as a charger losing its network would; it dials in again."""
        if self._cp is not None:
            await self._cp._connection.close()

    def _headers(self) -> dict:
        if self.password is None:
            return {}
        token = base64.b64encode(f"{self.identity}:{self.password}".encode()).decode()
        return {"Authorization": f"Basic {token}"}

    async def _run(self) -> None:
        first = True
        while not self._closing:
            try:
                async with connect(f"{self.url}/{self.identity}", subprotocols=["ocpp1.6"],
                                   additional_headers=self._headers(), open_timeout=5) as ws:
                    self.counters.connects += 1
                    self.counters.connected_at_s.append(time.monotonic())
                    self._cp = _StationPoint(self, ws)
                    self.connected.set()
                    await self._serve(self._cp, boot=first or self.quirks.boot_on_connect)
                    first = False
            except InvalidHandshake as error:
                self.last_refusal = getattr(getattr(error, "response", None), "status_code", None)
            except (OSError, ConnectionClosed, TimeoutError):
                pass
            finally:
                self.connected.clear()
                self._cp = None
            await asyncio.sleep(self.reconnect_s)

    async def _serve(self, cp: _StationPoint, *, boot: bool) -> None:
        receiver = asyncio.create_task(cp.start())
        reporter = asyncio.create_task(self._boot_and_report(cp, boot))
        try:
            # Whichever ends first (the socket closed, or a call failed) ends the connection.
            await asyncio.wait({receiver, reporter}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (receiver, reporter):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, ConnectionClosed, TimeoutError):
                    await task

    async def _boot_and_report(self, cp: _StationPoint, boot: bool) -> None:
        if boot:
            self.counters.boots_sent += 1
            answer = await cp.call(call.BootNotification(charge_point_vendor="FuseGuard",
                                                         charge_point_model="OCPP simulator"))
            self.set_clock(answer.current_time)
        await self._report(cp)

    async def _report(self, cp: _StationPoint) -> None:
        loop = asyncio.get_running_loop()
        sent_status = None
        next_sample = next_heartbeat = loop.time()
        while True:
            self._integrate()
            await self._follow_transaction(cp)
            status = self.status()
            if status != sent_status:
                await self.send_status(cp, status)
                sent_status = status
            now = loop.time()
            interval_s = max(float(self.config["MeterValueSampleInterval"]), 0)
            if interval_s and now >= next_sample:
                await self.send_meter_values(cp)
                next_sample = now + interval_s
            if now >= next_heartbeat:
                answer = await cp.call(call.Heartbeat())
                self.set_clock(answer.current_time)
                next_heartbeat = now + max(float(self.config["HeartbeatInterval"]), 1)
            await asyncio.sleep(0.05)

    async def _follow_transaction(self, cp: _StationPoint) -> None:
        if self.vehicle is not None and self.transaction_id is None:
            answer = await cp.call(call.StartTransaction(connector_id=self.connector_id, id_tag="SIMULATED",
                                                         meter_start=int(self.energy_wh),
                                                         timestamp=self.now().isoformat()))
            self.transaction_id, self.session_start = answer.transaction_id, self.now()
        elif self.vehicle is None and self.transaction_id is not None:
            await cp.call(call.StopTransaction(meter_stop=int(self.energy_wh), timestamp=self.now().isoformat(),
                                               transaction_id=self.transaction_id))
            self.transaction_id = self.session_start = None

    async def send_status(self, cp: _StationPoint, status: str | None = None) -> None:
        """StatusNotification of the connector."""
        await cp.call(call.StatusNotification(connector_id=self.connector_id, error_code="NoError",
                                              status=status or self.status()))

    async def send_meter_values(self, cp: _StationPoint) -> None:
        """MeterValues with the configured measurands."""
        wanted = {m.strip() for m in self.config["MeterValuesSampledData"].split(",")}
        sampled = []
        currents = self.current_a()
        if "Current.Import" in wanted:
            sampled += [{"value": f"{value:.1f}", "measurand": "Current.Import", "phase": phase, "unit": "A"}
                        for phase, value in zip(("L1", "L2", "L3"), currents)]
        if "Power.Active.Import" in wanted:
            sampled.append({"value": f"{sum(currents) * 230.0:.0f}", "measurand": "Power.Active.Import", "unit": "W"})
        if "Energy.Active.Import.Register" in wanted:
            sampled.append({"value": f"{self.energy_wh:.0f}", "measurand": "Energy.Active.Import.Register",
                            "unit": "Wh"})
        await cp.call(call.MeterValues(connector_id=self.connector_id, transaction_id=self.transaction_id,
                                       meter_value=[{"timestamp": self.now().isoformat(), "sampled_value": sampled}]))


class _StationPoint(ChargePoint):
    """The charge point's side of the connection: answers what the central system asks."""

    def __init__(self, station: OcppStation, connection):
        super().__init__(station.identity, connection, response_timeout=5, logger=logging.getLogger(__name__ + ".wire"))
        self.station = station

    @on(Action.change_configuration)
    def on_change_configuration(self, key: str, value: str):
        """Known keys are taken (the sample interval not below the charger's floor), others are not supported."""
        station = self.station
        if key not in station.config:
            return call_result.ChangeConfiguration(status="NotSupported")
        if key in ("ChargeProfileMaxStackLevel", "ChargingScheduleAllowedChargingRateUnit"):
            return call_result.ChangeConfiguration(status="Rejected")  # read-only
        if key == "MeterValueSampleInterval" and (not value.isdigit() or int(value) < station.quirks.min_sample_interval_s):
            return call_result.ChangeConfiguration(status="Rejected")
        station.config[key] = value
        return call_result.ChangeConfiguration(status="Accepted")

    @on(Action.get_configuration)
    def on_get_configuration(self, key: list | None = None):
        """The asked keys (all when none is named)."""
        config = self.station.config
        keys = key if key else list(config)
        known = [{"key": k, "readonly": k.startswith("Charg"), "value": config[k]} for k in keys if k in config]
        unknown = [k for k in keys if k not in config]
        return call_result.GetConfiguration(configuration_key=known, unknown_key=unknown or None)

    @on(Action.set_charging_profile)
    def on_set_charging_profile(self, connector_id: int, cs_charging_profiles: dict):
        """Install a profile the charger can hold."""
        station = self.station
        station.counters.set_profiles += 1
        profile = cs_charging_profiles
        unit_ok = {"A": "Current", "W": "Power"}[profile["charging_schedule"]["charging_rate_unit"]] in \
            station.config["ChargingScheduleAllowedChargingRateUnit"]
        if station.quirks.reject_profiles or not unit_ok or profile["stack_level"] > station.quirks.max_stack_level:
            return call_result.SetChargingProfile(status="Rejected")
        station.profiles.install(connector_id, profile)
        limit = profile["charging_schedule"]["charging_schedule_period"][0]["limit"]
        station.counters.profiles_received.append((time.monotonic(), profile["charging_profile_id"], float(limit)))
        return call_result.SetChargingProfile(status="Accepted")

    @on(Action.clear_charging_profile)
    def on_clear_charging_profile(self, id: int | None = None, connector_id: int | None = None,
                                  charging_profile_purpose: str | None = None, stack_level: int | None = None):
        """Remove the matching profiles."""
        criteria = {"id": id, "connector_id": connector_id, "charging_profile_purpose": charging_profile_purpose,
                    "stack_level": stack_level}
        self.station.counters.clears.append(criteria)
        removed = self.station.profiles.clear(**criteria)
        return call_result.ClearChargingProfile(status="Accepted" if removed else "Unknown")

    @on(Action.trigger_message)
    def on_trigger_message(self, requested_message: str, connector_id: int | None = None):
        """StatusNotification and MeterValues on request."""
        if requested_message not in ("StatusNotification", "MeterValues"):
            return call_result.TriggerMessage(status="NotImplemented")
        return call_result.TriggerMessage(status="Accepted")

    @after(Action.trigger_message)
    async def after_trigger_message(self, requested_message: str, connector_id: int | None = None):
        """Send what was asked for, after the answer."""
        if requested_message == "StatusNotification":
            await self.station.send_status(self)
        elif requested_message == "MeterValues":
            await self.station.send_meter_values(self)
