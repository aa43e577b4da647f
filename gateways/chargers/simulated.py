"""An in-process charging station with a vehicle model, for the demo and the tests.

It behaves like a real station where it matters for regulation: a vehicle
draws min(setpoint, what the vehicle accepts) on the phases it uses, nothing
below 6 A or while disabled, stops when its battery is full, and the station's
own failsafe watchdog limits it when the agent goes quiet.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from balancing import DEFAULT_MIN_CURRENT_A
from gateways.chargers.base import (
    ChargerDriver,
    ChargerReading,
    ChargerUnreachable,
    ChargingState,
    FailsafeSettings,
    PlugState,
)


@dataclass
class Vehicle:
    """A car at the station: how many phases it charges on, how much current it takes, how much energy it wants."""

    phases: int = 3
    max_current_a: float = 16.0
    energy_wanted_wh: float = 20_000.0


class SimulatedStation:
    """The station's state; time advances only through `advance(dt_s)` so tests control it."""

    def __init__(self, station_id: str, wired_phases: int = 3, nominal_voltage_v: float = 230.0, clock=time.monotonic):
        self.station_id = station_id
        self.wired_phases = wired_phases
        self.nominal_voltage_v = nominal_voltage_v
        self.vehicle: Vehicle | None = None
        self.enabled = False
        self.setpoint_a = 0.0
        self.failsafe: FailsafeSettings | None = None
        self.failsafe_active = False
        self.online = True
        self.energy_session_wh = 0.0
        self.commands_received = 0
        self._clock = clock
        self._last_command_s = clock()

    # --- what the world does ---------------------------------------------------

    def plug_in(self, vehicle: Vehicle) -> None:
        """A vehicle arrives."""
        self.vehicle = vehicle
        self.energy_session_wh = 0.0

    def unplug(self) -> None:
        """The vehicle leaves."""
        self.vehicle = None

    def advance(self, dt_s: float) -> None:
        """Let time pass: the vehicle takes energy, the watchdog may fire."""
        if self.failsafe and self.failsafe.timeout_s and self._clock() - self._last_command_s > self.failsafe.timeout_s:
            if not self.failsafe_active:
                self.failsafe_active = True
        drawn = self.current_a()
        if self.vehicle is not None:
            energy_wh = sum(drawn) * self.nominal_voltage_v * dt_s / 3600.0
            self.vehicle.energy_wanted_wh = max(0.0, self.vehicle.energy_wanted_wh - energy_wh)
            self.energy_session_wh += energy_wh

    # --- what the station measures -------------------------------------------

    def effective_limit_a(self) -> float:
        """The current the station allows now: the setpoint, or the failsafe current once the watchdog fired."""
        if self.failsafe_active and self.failsafe is not None:
            return min(self.setpoint_a if self.enabled else 0.0, self.failsafe.current_a) if self.failsafe.current_a else 0.0
        return self.setpoint_a if self.enabled else 0.0

    def current_a(self) -> tuple[float, float, float]:
        """Current per charger phase 1..3."""
        vehicle = self.vehicle
        limit_a = self.effective_limit_a()
        if vehicle is None or vehicle.energy_wanted_wh <= 0 or limit_a < DEFAULT_MIN_CURRENT_A:
            return (0.0, 0.0, 0.0)
        drawn_a = min(limit_a, vehicle.max_current_a)
        phases = min(vehicle.phases, self.wired_phases)
        return tuple(drawn_a if phase < phases else 0.0 for phase in range(3))

    # --- what the agent does ---------------------------------------------------

    def command(self, current_a: float) -> None:
        """A setpoint from the agent; it also feeds the watchdog."""
        self._last_command_s = self._clock()
        self.commands_received += 1
        self.failsafe_active = False
        self.enabled = current_a > 0
        self.setpoint_a = float(current_a)


class SimulatedChargerDriver(ChargerDriver):
    """Drives a `SimulatedStation` as if over a wire: offline stations raise like unreachable ones.

    `clock` stamps readings; it is the regulator's clock (the station keeps its
    own, the world's), so a test can age readings apart from the world.
    """

    key = "simulated"

    def __init__(self, station: SimulatedStation, *, clock=time.monotonic):
        self.station = station
        self.clock = clock

    async def start(self) -> None:
        """Nothing to open."""
        return None

    def _check_online(self) -> None:
        if not self.station.online:
            raise ChargerUnreachable(f"simulated station {self.station.station_id} is offline")

    async def read(self) -> ChargerReading:
        """The station's state now."""
        self._check_online()
        taken_s = self.clock()
        station = self.station
        drawn = station.current_a()
        if station.vehicle is None:
            plug, state = PlugState.UNPLUGGED, ChargingState.IDLE
        elif any(drawn):
            plug, state = PlugState.PLUGGED, ChargingState.CHARGING
        else:
            plug, state = PlugState.PLUGGED, ChargingState.WAITING
        return ChargerReading(
            plug=plug, state=state, enabled=station.enabled, current_a=drawn,
            setpoint_a=station.effective_limit_a(), energy_session_wh=station.energy_session_wh, monotonic_s=taken_s,
        )

    async def apply_setpoint(self, current_a: float, valid_for_s: float) -> bool:
        """Command the station (no lifetime of its own: its watchdog is the armed failsafe)."""
        self._check_online()
        if current_a and not DEFAULT_MIN_CURRENT_A <= current_a <= 80:
            raise ValueError(f"setpoint {current_a} A is outside 0 or 6..80 A")
        self.station.command(current_a)
        return True

    async def arm_failsafe(self, settings: FailsafeSettings) -> FailsafeSettings:
        """Set the station's watchdog; it reports back what it took."""
        self._check_online()
        self.station.failsafe = settings
        return settings

    async def close(self) -> None:
        """Nothing to release."""
        return None
