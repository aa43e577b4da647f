"""`KebaStationModel`: what a simulated KEBA station does, whatever protocol reaches it.

Both simulators (`KebaUdpStation`, `KebaModbusStation`) drive one of these, so the UDP
and Modbus stations behave alike: a user enable, a current limit, the failsafe watchdog
and a simple vehicle. Codes and units follow KEBA's documents (see
`gateways.chargers.keba_udp_protocol`): State 1 not ready / 2 waiting / 3 charging,
Plug 3 (cable locked in the station, no vehicle) / 7 (vehicle connected and locked),
currents in mA, energy in 0.1 Wh.

The failsafe watchdog: after `timeout_s` without a feeding command (the UDP guide names
`curr`, `currtime`, `ena`; over Modbus the simulator counts writes) the station limits
itself to the failsafe current (0: stops charging) until the next feeding command. It
runs on the injected `clock`, so tests step time instead of sleeping through it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

CURR_USER_DEFAULT_MA = 63000  # report 2 "Curr user" default, UDP guide 3.2.3
VOLTAGE_V = 230


@dataclass
class Vehicle:
    """A vehicle on the cable: draws min(offered, its own maximum) on `phases` phases until full."""

    max_current_a: float = 32.0
    phases: int = 3
    full: bool = False


@dataclass(frozen=True)
class StationSnapshot:
    """The fields a status message reports on change (UDP guide 3.4)."""

    state: int
    plug: int
    enable_sys: int
    max_curr_ma: int


class KebaStationModel:
    """One simulated station's state; all times from `clock` (monotonic seconds)."""

    def __init__(
        self,
        *,
        hardware_max_ma: int = 32000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.hardware_max_ma = hardware_max_ma
        self._clock = clock
        self.enable_sys = 1
        self.enable_user = 1
        self.curr_user_ma = CURR_USER_DEFAULT_MA
        self.curr_fs_ma = 0
        self.tmo_fs_s = 0
        self.failsafe_saved = False
        self.failsafe_active = False
        self.vehicle: Vehicle | None = None
        self.session_energy_01wh = 0.0
        self.total_energy_01wh = 0.0
        self._last_feed_s = clock()
        self._last_tick_s = clock()

    # -- what the commands do ----------------------------------------------------------

    def feed(self) -> None:
        """A feeding command arrived: restart the watchdog and leave failsafe mode."""
        self._last_feed_s = self._clock()
        self.failsafe_active = False

    def set_current(self, milliamps: int) -> None:
        """`curr` / register 5004: set "Curr user"."""
        self.curr_user_ma = milliamps
        self.feed()

    def set_enabled(self, enabled: bool) -> None:
        """`ena` / register 5014."""
        self.enable_user = 1 if enabled else 0
        self.feed()

    def set_failsafe(self, timeout_s: int, milliamps: int, saved: bool = False) -> None:
        """`failsafe` / registers 5016, 5018: arm (or with timeout 0 disarm) the watchdog."""
        self.tmo_fs_s = timeout_s
        self.curr_fs_ma = milliamps
        self.failsafe_saved = saved
        self._last_feed_s = self._clock()
        self.failsafe_active = False

    def plug_in(self, vehicle: Vehicle | None = None) -> None:
        """Connect a vehicle; a new session starts at 0 Wh."""
        self.vehicle = vehicle or Vehicle()
        self.session_energy_01wh = 0.0

    def unplug(self) -> None:
        """Disconnect the vehicle."""
        self.vehicle = None

    # -- time ------------------------------------------------------------------------------

    def tick(self) -> None:
        """Advance energy and the watchdog to now."""
        now = self._clock()
        elapsed_s = max(0.0, now - self._last_tick_s)
        self._last_tick_s = now
        energy = self.power_mw / 1000 * elapsed_s / 3600 * 10  # 0.1 Wh
        self.session_energy_01wh += energy
        self.total_energy_01wh += energy
        if self.tmo_fs_s and not self.failsafe_active and now - self._last_feed_s >= self.tmo_fs_s:
            self.failsafe_active = True

    # -- what reports show -------------------------------------------------------------------

    @property
    def limit_ma(self) -> int:
        """The current limit in force: "Curr user", or "Curr FS" while the failsafe holds."""
        return self.curr_fs_ma if self.failsafe_active else self.curr_user_ma

    @property
    def max_curr_ma(self) -> int:
        """"Max curr": what the control pilot offers (0 when disabled)."""
        if not (self.enable_sys and self.enable_user):
            return 0
        return min(self.limit_ma, self.hardware_max_ma)

    @property
    def plug(self) -> int:
        """"Plug": 3 without a vehicle (attached cable, locked), 7 with one."""
        return 7 if self.vehicle is not None else 3

    @property
    def state(self) -> int:
        """"State": 1 not ready, 2 waiting for the vehicle, 3 charging."""
        if self.vehicle is None or self.max_curr_ma == 0:
            return 1
        if self.vehicle.full:
            return 2
        return 3

    @property
    def phase_currents_ma(self) -> tuple[int, int, int]:
        """I1..I3 in mA: the vehicle draws min(offered, its maximum) on its phases."""
        if self.state != 3 or self.vehicle is None:
            return (0, 0, 0)
        draw_ma = min(self.max_curr_ma, round(self.vehicle.max_current_a * 1000))
        phases = max(1, min(3, self.vehicle.phases))
        return tuple(draw_ma if phase < phases else 0 for phase in range(3))  # type: ignore[return-value]

    @property
    def power_mw(self) -> int:
        """"P" in mW."""
        return sum(current_ma * VOLTAGE_V for current_ma in self.phase_currents_ma)

    def snapshot(self) -> StationSnapshot:
        """The fields status messages are sent for."""
        return StationSnapshot(self.state, self.plug, self.enable_sys, self.max_curr_ma)
