"""OCPP 1.6J chargers with the Smart Charging feature profile, behind the common driver interface.

The charger pushes, the loop reads: `read()` hands back the latest
MeterValues and StatusNotification the charge point sent (stamped with when
they arrived) and raises "unreachable" when its websocket is closed or no
MeterValues came for three sample intervals. Setpoints are the live
`TxDefaultProfile` layer with a `validTo` (`apply_setpoint`), the failsafe is
the permanent layer at stack level 0 (`arm_failsafe`); see
`gateways.ocpp16.profiles`. A charger that refuses what regulation needs is
unavailable with the reason in words, never regulated blindly.
"""

from __future__ import annotations

import asyncio
import time

from ocpp.exceptions import OCPPError

from gateways.chargers.base import (
    ChargerDriver,
    ChargerProtocolError,
    ChargerReading,
    ChargerRejected,
    ChargerUnreachable,
    ChargingState,
    FailsafeSettings,
    PlugState,
)
from gateways.ocpp16.link import ChargePointLink, LinkState
from gateways.ocpp16.session import CentralSession, ProfileRejected

RETRY_UNUSABLE_AFTER_S = 60.0
"""A charger that refused something (a profile, a setting) is configured afresh this long after, on the same connection."""
STALE_AFTER_SAMPLES = 3
"""No MeterValues for this many sample intervals: the charger counts as unreachable."""
CHARGING_THRESHOLD_A = 0.5

# OCPP 1.6 ed. 2, 7.7 ChargePointStatus (p. 77; SuspendedEV as reworded by errata v4.0, 3.55), onto what the
# allocation needs. SuspendedEVSE is the charger
# holding back (our 0 A profile, or its own limit): the vehicle is there and may want current.
STATUS_STATES: dict[str, tuple[PlugState, ChargingState]] = {
    "Available": (PlugState.UNPLUGGED, ChargingState.IDLE),
    "Preparing": (PlugState.PLUGGED, ChargingState.WAITING),
    "Charging": (PlugState.PLUGGED, ChargingState.CHARGING),
    "SuspendedEV": (PlugState.PLUGGED, ChargingState.WAITING),
    "SuspendedEVSE": (PlugState.PLUGGED, ChargingState.WAITING),
    "Finishing": (PlugState.PLUGGED, ChargingState.IDLE),
    "Reserved": (PlugState.UNPLUGGED, ChargingState.IDLE),
    "Unavailable": (PlugState.UNPLUGGED, ChargingState.ERROR),
    "Faulted": (PlugState.PLUGGED, ChargingState.ERROR),
}


def plug_and_state(status: str | None, current_a: tuple[float, float, float]) -> tuple[PlugState, ChargingState]:
    """The loop's view of a connector status; without one yet, a drawing charger charges and any other may."""
    if status in STATUS_STATES:
        return STATUS_STATES[status]
    drawing = any(value > CHARGING_THRESHOLD_A for value in current_a)
    return PlugState.PLUGGED, ChargingState.CHARGING if drawing else ChargingState.WAITING


class Ocpp16Driver(ChargerDriver):
    """One configured OCPP 1.6J charge point connector, reached through the agent's central system."""

    key = "ocpp16"

    def __init__(self, central, link: ChargePointLink, *, timeout_s: float = 5.0, clock=time.monotonic):
        self.central = central
        self.link = link
        self.timeout_s = timeout_s
        self.clock = clock

    async def start(self) -> None:
        """Open the central system (once for all OCPP chargers); the charger dials in whenever it can."""
        await self.central.start()

    def _ready_session(self) -> CentralSession:
        link = self.link
        if link.retry_due(RETRY_UNUSABLE_AFTER_S):
            # Refusals can be passing (a charger busy after a reboot); try the whole configuration once more.
            link.state, link.problem = LinkState.CONFIGURING, f"being configured again after: {link.problem}"
            link.reconfigure_task = asyncio.ensure_future(link.session.configure())
        if link.state is LinkState.UNUSABLE:
            raise ChargerRejected(f"OCPP charge point {link.identity} {link.problem}")
        if link.state is not LinkState.READY or link.session is None:
            raise ChargerUnreachable(f"OCPP charge point {link.identity}: {link.problem}")
        return link.session

    async def read(self) -> ChargerReading:
        """The latest pushed state, with its arrival time."""
        self._ready_session()
        link = self.link
        meter = link.meter
        if meter is None:
            raise ChargerUnreachable(f"OCPP charge point {link.identity}: no MeterValues yet")
        age_s = self.clock() - meter.monotonic_s
        if age_s > STALE_AFTER_SAMPLES * link.sample_interval_s:
            raise ChargerUnreachable(f"OCPP charge point {link.identity}: no MeterValues for {age_s:.1f} s "
                                     f"(sample interval {link.sample_interval_s:g} s)")
        plug, state = plug_and_state(link.status, meter.current_a)
        limit_a = link.live_a
        if limit_a is None and link.failsafe_confirmed is not None:
            limit_a = link.failsafe_confirmed.current_a
        current_a = meter.current_a
        if limit_a is not None:
            # MeterValues lag up to a sample interval behind a lowered profile. The loop takes house load as
            # grid minus the chargers' currents, so an old, higher current would hide load: count at most the
            # limit the charger has accepted (any excess then counts as house load, which errs safe).
            current_a = tuple(min(value, limit_a) for value in current_a)
        return ChargerReading(
            plug=plug, state=state, enabled=bool(limit_a), current_a=current_a, setpoint_a=limit_a,
            energy_session_wh=link.energy_session_wh, monotonic_s=meter.monotonic_s,
        )

    async def apply_setpoint(self, current_a: float, valid_for_s: float) -> bool:
        """The live layer with this limit, valid `valid_for_s`; the charger's Accepted confirms it."""
        session = self._ready_session()
        try:
            await session.send_live(current_a, valid_for_s)
        except ProfileRejected as error:
            self.link.mark_unusable(str(error))
            raise ChargerRejected(f"OCPP charge point {self.link.identity} {error}") from None
        except OCPPError as error:
            raise ChargerProtocolError(f"OCPP charge point {self.link.identity}: {type(error).__name__}: "
                                       f"{error.description}") from None
        except TimeoutError:
            raise ChargerUnreachable(f"OCPP charge point {self.link.identity}: no answer to SetChargingProfile") from None
        return True

    async def arm_failsafe(self, settings: FailsafeSettings) -> FailsafeSettings:
        """The permanent stack-level-0 layer; confirmed by the charger's Accepted (also re-armed on every connect)."""
        self.link.failsafe_wanted = settings
        session = self._ready_session()
        try:
            confirmed = await session.arm_failsafe(settings)
        except ProfileRejected as error:
            raise ChargerRejected(f"OCPP charge point {self.link.identity} {error}") from None
        except OCPPError as error:
            raise ChargerProtocolError(f"OCPP charge point {self.link.identity}: {type(error).__name__}: "
                                       f"{error.description}") from None
        if confirmed is None:
            raise ChargerRejected(f"OCPP charge point {self.link.identity}: failsafe {self.link.failsafe_problem}")
        return confirmed

    async def close(self) -> None:
        """Nothing of its own: the connection belongs to the central system, the layers stay on the charger."""
        return None
