"""One charging network's regulation cycle: read, allocate, command, record.

Each cycle reads the meter and every charger at once, each read bounded by
`io_timeout_s`, so one dead device never holds up the others. A setpoint is
sent when it changes, when a reading shows the station not holding it, and
when it is due for renewal (`gateways.setpoint_renewal`): the renewal is what
keeps the chargers' own failsafe watchdogs from firing while the agent lives.
Decreases go out before increases, so shifting current from one charger to
another never overloads a phase in between.

Charger reads run as tasks of their own that may outlive a cycle: the cycle
waits for them only a short grace after the meter has answered and otherwise
uses each charger's latest reading. A slow protocol (KEBA's UDP asks for
100 ms between commands) then delays neither the meter read nor the reaction
to it. A charger not read yet since the start is left alone and its possible
draw kept free, like an unreachable one.

Every reading carries the time it was taken; a charger whose latest reading
is older than `charger_stale_after_s` counts as unreachable, exactly like one
whose read fails (a pushed protocol hands back its last message, however old).
A charger that cannot be read cannot be regulated: until it answers again the
loop assumes it may draw what it was last allowed (or its failsafe current,
whichever is more) and keeps that much free for it, on the grid phases and in
the power budgets.

The regulator sequences the cycle and does its I/O; each charger's slot
(`gateways.charger_slot`) digests what came back, and the network's external
caps (`gateways.network_caps`) say which caps hold this cycle.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass, field, replace

from balancing import Allocation, Controller, ControllerSettings, GridMeasurement, NetworkLimits, Reservation
from balancing import reasons
from gateways.charger_slot import ChargerEdge, ChargerSlot
from gateways.chargers.base import ChargerDriver
from gateways.engine_inputs import network_limits, reservation
from gateways.failsafe import failsafe_plan
from gateways.meter_watch import GridReading, MeterWatch
from gateways.network_caps import NetworkCaps
from gateways.outcome import failure_text, outcome_within
from gateways.protocol import GatewayConfig, NetworkConfig
from gateways.recorder import Recorder

log = logging.getLogger(__name__)

UNREACHABLE = reasons.CHARGER_UNREACHABLE
NOT_READ_YET = reasons.CHARGER_NOT_READ_YET

CHARGER_READ_TIMEOUT_S = 1.0
"""A charger read may take this long (in its own task); KEBA's two reports alone need 100 ms."""
CHARGER_COMMAND_TIMEOUT_S = 0.5
GRID_READING_MAX_AGE_POLLS = 3
"""Every cycle reads the meter afresh; a reading older than this many poll intervals (a late cycle) is too old."""
CHARGER_STALE_AFTER_POLLS = 3
"""A charger reading older than this many polls (and never less than two polls plus two read timeouts) is stale."""


@dataclass
class CycleResult:
    """What one cycle did, for the status page and the tests."""

    allocation: Allocation
    grid: GridReading | None
    unreachable: tuple[str, ...] = ()
    commands_failed: dict[str, str] = field(default_factory=dict)
    commands_sent: tuple[str, ...] = ()


class NetworkRegulator:
    """Regulates one network; `await cycle()` once per poll interval."""

    def __init__(
        self,
        network: NetworkConfig,
        gateway: GatewayConfig,
        meter,
        drivers: dict[str, ChargerDriver],
        recorder: Recorder,
        *,
        controller_settings: ControllerSettings | None = None,
        io_timeout_s: float | None = None,
        charger_stale_after_s: float | None = None,
        clock=time.monotonic,
        caps: NetworkCaps | None = None,
    ):
        self.network = network
        self.gateway = gateway
        self.meter = meter
        self.recorder = recorder
        self.clock = clock
        self.io_timeout_s = io_timeout_s if io_timeout_s is not None else max(0.05, gateway.poll_interval_s * 0.3)
        self.read_grace_s = gateway.poll_interval_s * 0.1
        self.read_timeout_s = max(self.io_timeout_s, CHARGER_READ_TIMEOUT_S)
        self.command_timeout_s = max(self.io_timeout_s, CHARGER_COMMAND_TIMEOUT_S)
        self.charger_stale_after_s = charger_stale_after_s if charger_stale_after_s is not None else max(
            CHARGER_STALE_AFTER_POLLS * gateway.poll_interval_s, 2 * (gateway.poll_interval_s + self.read_timeout_s)
        )
        self.setpoint_valid_for_s = float(gateway.failsafe_timeout_s)
        """Every setpoint is sent valid this long: as long as the chargers wait for the gateway before falling back."""
        self.controller = Controller(controller_settings)
        self.meter_watch = MeterWatch(network.meter.phase_rotation, gateway.frozen_after_s)
        self.slots = {c.id: ChargerSlot(c, drivers[c.id]) for c in network.chargers}
        plan = failsafe_plan(network, gateway.failsafe_timeout_s)
        for charger_id, settings in plan.items():
            self.slots[charger_id].failsafe_wanted = settings
        self.last: CycleResult | None = None
        self.allocation_failing = False
        self.caps = caps if caps is not None else NetworkCaps(network, recorder)
        """The external caps (control box, schedule); their input is read beside the meter."""

    # --- the cycle ---------------------------------------------------------------

    async def cycle(self) -> CycleResult:
        """Read everything, allocate, arm pending failsafes, command, record one sample."""
        now_s = self.clock()
        for slot in self.slots.values():
            if slot.read_task is None:
                slot.read_task = asyncio.ensure_future(self._bounded(slot.driver.read(), self.read_timeout_s))
        meter_outcome, _ = await asyncio.gather(self._bounded(self.meter.read()), self.caps.read_input(self.io_timeout_s))
        pending = [slot.read_task for slot in self.slots.values() if not slot.read_task.done()]
        if pending:
            await asyncio.wait(pending, timeout=self.read_grace_s)
        never_read = [
            slot.read_task for slot in self.slots.values()
            if slot.reading is None and slot.available and not slot.read_task.done()
        ]
        if never_read:
            # First cycles after a start: a station not read yet cannot be set, so wait for it once.
            await asyncio.wait(never_read, timeout=self.read_timeout_s)
        for slot in self.slots.values():
            if slot.read_task.done():
                self._record(slot, slot.note_read(slot.read_task.result(), self.clock(), self.charger_stale_after_s))
                slot.read_task = None
            self._record(slot, slot.judge_age(self.clock(), self.charger_stale_after_s))
        grid, edge = self.meter_watch.observe(meter_outcome)
        if edge:
            self.recorder.event(edge.type, self.network.id, edge.detail, subject="meter")

        allocation = self._with_unreachable(self._allocate(grid, now_s))
        await self._arm_failsafes(now_s)  # the safety net first: at start, before any setpoint goes out
        failed, sent = await self._command(allocation, now_s)

        result = CycleResult(allocation, grid, tuple(s.config.id for s in self.slots.values() if not s.available), failed,
                             sent)
        self.recorder.sample(self.network.id, allocation, grid, self.slots)
        self.last = result
        return result

    def _allocate(self, grid: GridReading | None, now_s: float) -> Allocation:
        """The controller's allocation; if anything in it fails, everything paused (never a crash, never more current)."""
        try:
            limits, grid_measurement, reserved = self._engine_inputs(grid, now_s)
            states = [slot.state() for slot in self.slots.values() if slot.controllable]
            allocation = self.controller.step(limits, grid_measurement, states, now_s, reserved=reserved)
        except Exception:  # noqa: BLE001 - a bad value or a bug must not stop regulation: draw less
            if not self.allocation_failing:
                log.exception("network %s: allocation failed; pausing every charger until it succeeds", self.network.id)
            self.allocation_failing = True
            return Allocation(
                mode="fallback",
                setpoints_a={cid: 0.0 for cid in self.slots},
                reasons={cid: reasons.ALLOCATION_FAILED for cid in self.slots},
            )
        if self.allocation_failing:
            log.info("network %s: allocation works again", self.network.id)
        self.allocation_failing = False
        return allocation

    async def _bounded(self, awaitable, timeout_s: float | None = None):
        """Await with a timeout (the I/O timeout by default); return the result or the exception (never raise)."""
        return await outcome_within(awaitable, self.io_timeout_s if timeout_s is None else timeout_s)

    def _record(self, slot: ChargerSlot, edge: ChargerEdge | None) -> None:
        if edge is not None:
            self.recorder.event(edge.type, self.network.id, edge.detail, subject=slot.config.id)

    def _engine_inputs(
        self, grid: GridReading | None, now_s: float
    ) -> tuple[NetworkLimits, GridMeasurement | None, Reservation]:
        """The engine's limits and measurement, and the room kept free for chargers we cannot reach."""
        limits = network_limits(self.network, max_measurement_age_s=GRID_READING_MAX_AGE_POLLS * self.gateway.poll_interval_s,
                                power_caps=self.caps.in_force())
        reserved = reservation(
            (slot.config, slot.possible_draw_a()) for slot in self.slots.values() if not slot.controllable
        )
        if grid is None:
            return limits, None, reserved
        return limits, GridMeasurement(current_a=grid.current_a, age_s=max(0.0, now_s - grid.monotonic_s)), reserved

    def _with_unreachable(self, allocation: Allocation) -> Allocation:
        missing = [s.config.id for s in self.slots.values() if not s.controllable]
        if not missing:
            return allocation
        return replace(
            allocation,
            setpoints_a={**allocation.setpoints_a, **{cid: 0.0 for cid in missing}},
            reasons={
                **allocation.reasons,
                **{cid: UNREACHABLE if not self.slots[cid].available else NOT_READ_YET for cid in missing},
            },
        )

    async def _command(self, allocation: Allocation, now_s: float) -> tuple[dict[str, str], tuple[str, ...]]:
        """Send each reachable charger whose setpoint is due (see the module docstring): decreases first, then the rest."""
        setpoints = allocation.setpoints_a
        due = [
            s for s in self.slots.values()
            if s.controllable and s.send_due(setpoints[s.config.id], now_s, self.setpoint_valid_for_s)
        ]
        decreases = [s for s in due if s.commanded_a is None or setpoints[s.config.id] < s.commanded_a]
        others = [s for s in due if s not in decreases]
        failed: dict[str, str] = {}
        sent: list[str] = []
        for wave in (decreases, others):
            started_s = self.clock()
            outcomes = await asyncio.gather(
                *(self._bounded(s.driver.apply_setpoint(setpoints[s.config.id], self.setpoint_valid_for_s),
                                self.command_timeout_s)
                  for s in wave)
            )
            done_s = self.clock()
            for slot, outcome in zip(wave, outcomes):
                if isinstance(outcome, BaseException):
                    failed[slot.config.id] = failure_text(outcome)
                    self._record(slot, slot.note_command_failed(outcome))
                    continue
                slot.note_command(setpoints[slot.config.id], outcome, started_s, done_s)
                if outcome is not False:
                    sent.append(slot.config.id)
        return failed, tuple(sent)

    async def _arm_failsafes(self, now_s: float) -> None:
        """Arm (and confirm by read-back) the watchdog of each reachable charger that still needs it."""
        due = [s for s in self.slots.values() if s.failsafe_due(now_s)]
        if not due:
            return
        outcomes = await asyncio.gather(
            *(self._bounded(s.driver.arm_failsafe(s.failsafe_wanted), self.command_timeout_s) for s in due)
        )
        for slot, outcome in zip(due, outcomes):
            self._record(slot, slot.note_arming(outcome, now_s))

    async def close(self) -> None:
        """Stop reads in flight and close the meter, control box and charger connections."""
        for slot in self.slots.values():
            if slot.read_task is not None:
                slot.read_task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await slot.read_task
                slot.read_task = None
        await self.meter.close()
        await self.caps.close()
        for slot in self.slots.values():
            await slot.driver.close()
