"""What the agent knows about one configured OCPP charge point, across its websocket connections.

The charge point pushes its state (MeterValues, StatusNotification) whenever
it likes; the link keeps the latest of each with its arrival time, so the
driver's `read()` hands back the newest state and its age, never asks. The
link also remembers what the agent wants on the charger (failsafe current,
live setpoint), so a reconnecting charger is configured and armed again.
"""

from __future__ import annotations

import enum
import logging
import time
from dataclasses import dataclass

from gateways.chargers.base import FailsafeSettings
from gateways.protocol import ChargerConfig

log = logging.getLogger(__name__)

PHASES = ("L1", "L2", "L3")


class LinkState(enum.Enum):
    """Where a charge point stands with the agent."""

    OFFLINE = "offline"  # no websocket
    CONFIGURING = "configuring"  # connected; configuration and profiles on their way
    READY = "ready"  # configured: its readings count and it takes setpoints
    UNUSABLE = "unusable"  # connected, but it refused what regulation needs (`problem` says what)


@dataclass(frozen=True)
class MeterSample:
    """The charger's latest measurements from MeterValues, with the monotonic time they arrived."""

    current_a: tuple[float, float, float]
    power_w: float | None
    energy_wh: float | None
    monotonic_s: float


class ChargePointLink:
    """One configured charge point: its current session (if connected), its latest state and what we want on it."""

    def __init__(self, config: ChargerConfig, clock=time.monotonic):
        self.config = config
        self.clock = clock
        self.session = None
        self.state = LinkState.OFFLINE
        self.problem = "has not connected yet"
        self.status: str | None = None
        self.error_code: str | None = None
        self.meter: MeterSample | None = None
        self.sample_interval_s: float = 1.0
        self.max_stack_level: int | None = None
        self.failsafe_wanted: FailsafeSettings | None = None
        self.failsafe_confirmed: FailsafeSettings | None = None
        self.failsafe_problem: str | None = None
        self.live_a: float | None = None
        """The live setpoint the charger last accepted (None: none yet on this connection)."""
        self.live_valid_for_s: float | None = None
        self.transaction_id: int | None = None
        self.meter_start_wh: float | None = None
        self.energy_session_wh: float | None = None
        self.boot: dict | None = None
        self.unusable_at_s = 0.0
        self.reconfigure_task = None

    @property
    def identity(self) -> str:
        """The charge point identity in its websocket URL."""
        return self.config.charge_point_id

    @property
    def two_layers(self) -> bool:
        """Whether the charger has room for the failsafe layer below the live one."""
        return bool(self.max_stack_level)

    @property
    def live_stack_level(self) -> int:
        """The live layer sits as high as the charger allows (0 when there is no room for two layers)."""
        return self.max_stack_level or 0

    # --- connection edges ---------------------------------------------------------

    def attach(self, session) -> None:
        """A new websocket for this identity: it replaces any older one, and everything is configured again."""
        self.session = session
        self.state = LinkState.CONFIGURING
        self.problem = "connected, being configured"
        self.meter = None
        self.live_a = None
        self.failsafe_confirmed = None

    def detach(self, session) -> None:
        """A websocket closed; only the current one takes the link offline."""
        if self.session is session:
            self.session = None
            self.state = LinkState.OFFLINE
            self.problem = "websocket closed"
            self.live_a = None

    def mark_unusable(self, problem: str) -> None:
        """The charger refused something regulation needs; unavailable until it reconnects or a retry succeeds."""
        if self.state is not LinkState.UNUSABLE:
            log.warning("OCPP charge point %s cannot be regulated: %s", self.identity, problem)
        self.state = LinkState.UNUSABLE
        self.problem = problem
        self.unusable_at_s = self.clock()

    def retry_due(self, after_s: float) -> bool:
        """Whether an unusable charger on a live connection has waited `after_s` for another configuration."""
        return self.state is LinkState.UNUSABLE and self.session is not None and \
            self.clock() - self.unusable_at_s >= after_s

    # --- pushed state ---------------------------------------------------------------

    def note_status(self, connector_id: int, status: str, error_code: str | None) -> None:
        """A StatusNotification: ours when it names our connector, or 0 reporting the whole charge point faulted."""
        if connector_id == self.config.connector_id or (connector_id == 0 and status in ("Faulted", "Unavailable")):
            self.status, self.error_code = status, error_code
        elif connector_id == 0 and self.status in ("Faulted", "Unavailable"):
            self.status = None  # the charge point as a whole is fine again; the connector reports its own next

    def note_meter_values(self, connector_id: int, meter_value: list[dict]) -> None:
        """A MeterValues of our connector: the latest sampled currents, power and energy."""
        if connector_id != self.config.connector_id:
            return
        sample = measurements(meter_value, self.config.phases)
        if sample is None:
            return
        current_a, power_w, energy_wh = sample
        previous = self.meter
        self.meter = MeterSample(
            current_a=current_a if current_a is not None else (previous.current_a if previous else (0.0, 0.0, 0.0)),
            power_w=power_w, energy_wh=energy_wh, monotonic_s=self.clock(),
        )
        if energy_wh is not None and self.meter_start_wh is not None:
            self.energy_session_wh = max(0.0, energy_wh - self.meter_start_wh)

    def note_transaction_start(self, transaction_id: int, meter_start_wh: float) -> None:
        """StartTransaction accepted: the session's energy counts from its meter start."""
        self.transaction_id, self.meter_start_wh, self.energy_session_wh = transaction_id, meter_start_wh, 0.0

    def note_transaction_stop(self, meter_stop_wh: float) -> None:
        """StopTransaction: the session's final energy stays until the next one starts."""
        if self.meter_start_wh is not None:
            self.energy_session_wh = max(0.0, meter_stop_wh - self.meter_start_wh)
        self.transaction_id = None


def _number(sampled: dict) -> float | None:
    try:
        return float(sampled["value"])
    except (KeyError, TypeError, ValueError):
        return None


def measurements(meter_value: list[dict], wired_phases: int):
    """(per-phase current or None, power W, energy Wh) from MeterValues' sampled values, or None if it holds none.

    Per OCPP 1.6 ed. 2, 7.43 SampledValue (p. 92): `measurand` defaults to
    Energy.Active.Import.Register and, for an energy measurand, `unit` to
    Wh; currents are given per `phase` (L1..L3, 7.34 Phase p. 89). A value
    without a phase is "an overall value" there; a current without one is
    taken as every wired phase's current (when in doubt, count more load,
    not less).
    """
    currents: dict[int, float] = {}
    unphased: float | None = None
    power_w = energy_wh = None
    found = False
    for value in meter_value:
        for sampled in value.get("sampled_value", []):
            number = _number(sampled)
            if number is None:
                continue
            measurand = sampled.get("measurand", "Energy.Active.Import.Register")
            unit = sampled.get("unit")
            phase = sampled.get("phase")
            if measurand == "Current.Import":
                found = True
                base = phase.split("-")[0] if phase else None
                if base in PHASES:
                    currents[PHASES.index(base)] = number
                elif phase is None:
                    unphased = number
            elif measurand == "Power.Active.Import" and phase is None:
                found = True
                power_w = number * 1000 if unit == "kW" else number
            elif measurand == "Energy.Active.Import.Register" and phase is None:
                found = True
                energy_wh = number * 1000 if unit == "kWh" else number
    if not found:
        return None
    current_a = None
    if currents:
        current_a = tuple(currents.get(index, 0.0) for index in range(3))
    elif unphased is not None:
        current_a = tuple(unphased if index < wired_phases else 0.0 for index in range(3))
    return current_a, power_w, energy_wh
