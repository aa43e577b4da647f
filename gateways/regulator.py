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
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from balancing import (
    Allocation,
    ChargerState,
    Controller,
    ControllerSettings,
    GridMeasurement,
    NetworkLimits,
    Reservation,
)
from balancing import reasons
from gateways.chargers.base import ChargerDriver, ChargerError, ChargerReading, ChargingState, FailsafeSettings, PlugState
from gateways.engine_inputs import charger_state, network_limits, reservation
from gateways.external_caps import CONTROL_BOX_SOURCE, CapLedger, DimmingWatch, scheduled_caps
from gateways.failsafe import failsafe_plan
from gateways.meter_watch import GridReading, MeterWatch
from gateways.protocol import ChargerConfig, GatewayConfig, NetworkConfig
from gateways.recorder import Recorder
from gateways.setpoint_renewal import renew_after_s, send_reason

log = logging.getLogger(__name__)

UNREACHABLE = reasons.CHARGER_UNREACHABLE
NOT_READ_YET = reasons.CHARGER_NOT_READ_YET

FAILSAFE_RETRY_S = 60.0
CHARGER_READ_TIMEOUT_S = 1.0
"""A charger read may take this long (in its own task); KEBA's two reports alone need 100 ms."""
CHARGER_COMMAND_TIMEOUT_S = 0.5
GRID_READING_MAX_AGE_POLLS = 3
"""Every cycle reads the meter afresh; a reading older than this many poll intervals (a late cycle) is too old."""
CHARGER_STALE_AFTER_POLLS = 3
"""A charger reading older than this many polls (and never less than two polls plus two read timeouts) is stale."""


@dataclass
class ChargerSlot:
    """A charger of the network and what the loop remembers about it."""

    config: ChargerConfig
    driver: ChargerDriver
    available: bool = True
    reading: ChargerReading | None = None
    read_task: asyncio.Task | None = None
    commanded_a: float | None = None
    sent_at_s: float | None = None
    """When the last send of `commanded_a` started (renewal counts from here); None: send at the next chance."""
    sent_done_s: float | None = None
    """When it was confirmed; readings taken from then on must show it."""
    failsafe_wanted: FailsafeSettings | None = None
    failsafe_confirmed: FailsafeSettings | None = None
    failsafe_next_try_s: float = 0.0
    failsafe_problem: str | None = None
    """Why the last arming was not confirmed, in words (e.g. an OCPP charger without room for the failsafe layer)."""
    problem: str = ""

    @property
    def controllable(self) -> bool:
        """Answering, and read at least once: it takes part in the allocation and gets commands."""
        return self.available and self.reading is not None

    def possible_draw_a(self) -> float:
        """The most this charger may draw while we cannot reach it."""
        last = self.commanded_a if self.commanded_a is not None else self.config.max_current_a
        failsafe = self.failsafe_confirmed.current_a if self.failsafe_confirmed else self.config.max_current_a
        return max(last, failsafe)


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
        dimming_input=None,
        wall_clock=None,
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
        self.dimming_input = dimming_input
        """The control box input (`gateways.dimming_input.DimmingInput`), read beside the meter; None if none."""
        self.dimming_watch = DimmingWatch(network) if network.dimming is not None else None
        self.wall_clock = wall_clock or (lambda: datetime.now(UTC))
        """The site's clock for scheduled caps: an aware time (tests inject one)."""
        self.cap_ledger = CapLedger()

    # --- the cycle ---------------------------------------------------------------

    async def cycle(self) -> CycleResult:
        """Read everything, allocate, arm pending failsafes, command, record one sample."""
        now_s = self.clock()
        for slot in self.slots.values():
            if slot.read_task is None:
                slot.read_task = asyncio.ensure_future(self._bounded(slot.driver.read(), self.read_timeout_s))
        meter_outcome, dimming_outcome = await asyncio.gather(
            self._bounded(self.meter.read()),
            self._bounded(self.dimming_input.read()) if self.dimming_input is not None else asyncio.sleep(0),
        )
        if self.dimming_watch is not None:
            self.dimming_watch.observe(
                dimming_outcome if self.dimming_input is not None else RuntimeError("no reader for the input"))
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
                self._note_charger(slot, slot.read_task.result())
                slot.read_task = None
            self._judge_age(slot)
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
            states = [self._state(slot) for slot in self.slots.values() if slot.controllable]
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
        timeout_s = self.io_timeout_s if timeout_s is None else timeout_s
        try:
            async with asyncio.timeout(timeout_s):
                return await awaitable
        except TimeoutError:
            return TimeoutError(f"no answer within {timeout_s:.2f} s")
        except Exception as problem:  # noqa: BLE001 - every failure becomes an outcome the loop handles
            return problem

    def _note_charger(self, slot: ChargerSlot, outcome) -> None:
        if isinstance(outcome, ChargerReading):
            if self.clock() - outcome.monotonic_s > self.charger_stale_after_s:
                return  # an old reading restores nothing; `_judge_age` decides about the slot
            slot.reading = outcome
            if not slot.available:
                slot.available = True
                # A station that was away may have restarted and forgotten an unsaved failsafe (arm it
                # again) or its setpoint, or sat in its failsafe state (send the setpoint at once).
                slot.failsafe_confirmed = None
                slot.failsafe_next_try_s = 0.0
                slot.sent_at_s = None
                log.info("charger %s reachable again", slot.config.id)
                self.recorder.event("charger_restored", self.network.id, f"answers again after: {slot.problem}",
                                    subject=slot.config.id)
            return
        if not isinstance(outcome, (ChargerError, TimeoutError, OSError)):
            log.error("charger %s: unexpected failure", slot.config.id, exc_info=outcome)
        self._lose(slot, f"{type(outcome).__name__}: {outcome}")

    def _judge_age(self, slot: ChargerSlot) -> None:
        """A charger whose latest reading is too old counts as unreachable (same edge events as a failed read)."""
        if slot.reading is None or not slot.available:
            return
        age_s = self.clock() - slot.reading.monotonic_s
        if age_s > self.charger_stale_after_s:
            self._lose(slot, f"no reading newer than {age_s:.1f} s (limit {self.charger_stale_after_s:g} s)")

    def _lose(self, slot: ChargerSlot, problem: str) -> None:
        slot.problem = problem
        if slot.available:
            slot.available = False
            log.warning("charger %s unreachable: %s", slot.config.id, problem)
            self.recorder.event("charger_lost", self.network.id, problem, subject=slot.config.id)

    def _engine_inputs(
        self, grid: GridReading | None, now_s: float
    ) -> tuple[NetworkLimits, GridMeasurement | None, Reservation]:
        """The engine's limits and measurement, and the room kept free for chargers we cannot reach."""
        limits = network_limits(self.network, max_measurement_age_s=GRID_READING_MAX_AGE_POLLS * self.gateway.poll_interval_s,
                                power_caps=self._external_caps())
        reserved = reservation(
            (slot.config, slot.possible_draw_a()) for slot in self.slots.values() if not slot.controllable
        )
        if grid is None:
            return limits, None, reserved
        return limits, GridMeasurement(current_a=grid.current_a, age_s=max(0.0, now_s - grid.monotonic_s)), reserved

    def _external_caps(self):
        """The caps of the control box and of the schedule in force now; their edges go to telemetry."""
        caps = scheduled_caps(self.network, self.wall_clock())
        causes = {}
        dimming_cap = self.dimming_watch.cap() if self.dimming_watch is not None else None
        if dimming_cap is not None:
            caps.insert(0, dimming_cap)
            causes[CONTROL_BOX_SOURCE] = self.dimming_watch.cause
        for edge in self.cap_ledger.update(caps, causes):
            self.recorder.event(edge.type, self.network.id, edge.detail, subject=edge.source)
        return tuple(caps)

    def _state(self, slot: ChargerSlot) -> ChargerState:
        reading = slot.reading
        config = slot.config
        active = reading is not None and reading.plug is PlugState.PLUGGED and reading.state is not ChargingState.ERROR
        return charger_state(
            config,
            active=active,
            current_a=reading.current_a if reading else (0.0, 0.0, 0.0),
            setpoint_a=self._lowest_setpoint_a(slot),
        )

    @staticmethod
    def _lowest_setpoint_a(slot: ChargerSlot) -> float | None:
        """The lowest limit the charger may be obeying: what it reported, or what we sent it since.

        The engine counts a charger's measured current as its own only up to this,
        so a reading taken before a decrease (and a meter that already shows the
        lower current) can never make the house load look smaller than it is.
        """
        known = [value for value in (slot.reading.setpoint_a if slot.reading else None, slot.commanded_a) if value is not None]
        return min(known) if known else None

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

    def _send_due(self, slot: ChargerSlot, target_a: float, now_s: float) -> bool:
        renew_after = renew_after_s(self.setpoint_valid_for_s, slot.driver.min_resend_interval_s)
        return send_reason(target_a, slot.commanded_a, slot.sent_at_s, slot.sent_done_s, slot.reading, now_s,
                           renew_after) is not None

    async def _command(self, allocation: Allocation, now_s: float) -> tuple[dict[str, str], tuple[str, ...]]:
        """Send each reachable charger whose setpoint is due (see the module docstring): decreases first, then the rest."""
        due = [
            s for s in self.slots.values()
            if s.controllable and self._send_due(s, allocation.setpoints_a[s.config.id], now_s)
        ]
        decreases = [s for s in due if s.commanded_a is None or allocation.setpoints_a[s.config.id] < s.commanded_a]
        others = [s for s in due if s not in decreases]
        failed: dict[str, str] = {}
        sent: list[str] = []
        for wave in (decreases, others):
            started_s = self.clock()
            outcomes = await asyncio.gather(
                *(self._bounded(s.driver.apply_setpoint(allocation.setpoints_a[s.config.id], self.setpoint_valid_for_s),
                                self.command_timeout_s)
                  for s in wave)
            )
            done_s = self.clock()
            for slot, outcome in zip(wave, outcomes):
                if isinstance(outcome, BaseException):
                    failed[slot.config.id] = f"{type(outcome).__name__}: {outcome}"
                    if not isinstance(outcome, (ChargerError, TimeoutError, OSError)):
                        log.error("charger %s: unexpected failure on command", slot.config.id, exc_info=outcome)
                    slot.sent_at_s = None  # the station may hold anything now: send again at the next chance
                    self._lose(slot, failed[slot.config.id])
                    continue
                # Held back (False) still counts as commanded: the station goes there next, and meanwhile
                # draws less (KEBA's silence after `ena 0`); it is asked again next cycle.
                slot.commanded_a = allocation.setpoints_a[slot.config.id]
                slot.sent_at_s, slot.sent_done_s = (started_s, done_s) if outcome is not False else (None, None)
                if outcome is not False:
                    sent.append(slot.config.id)
        return failed, tuple(sent)

    # --- failsafe ------------------------------------------------------------------

    async def _arm_failsafes(self, now_s: float) -> None:
        """Arm (and confirm by read-back) the watchdog of each reachable charger that still needs it."""
        due = [
            s for s in self.slots.values()
            if s.controllable and s.failsafe_wanted is not None and s.failsafe_confirmed != s.failsafe_wanted
            and now_s >= s.failsafe_next_try_s
        ]
        if not due:
            return
        outcomes = await asyncio.gather(
            *(self._bounded(s.driver.arm_failsafe(s.failsafe_wanted), self.command_timeout_s) for s in due)
        )
        for slot, outcome in zip(due, outcomes):
            wanted = slot.failsafe_wanted
            if isinstance(outcome, FailsafeSettings) and outcome == wanted:
                slot.failsafe_confirmed, slot.failsafe_problem = outcome, None
                self.recorder.event(
                    "failsafe_armed", self.network.id,
                    f"{wanted.current_a:g} A after {wanted.timeout_s} s without the gateway", subject=slot.config.id,
                )
                continue
            detail = (
                f"read back {outcome.current_a:g} A / {outcome.timeout_s} s, wanted {wanted.current_a:g} A / {wanted.timeout_s} s"
                if isinstance(outcome, FailsafeSettings) else f"{type(outcome).__name__}: {outcome}"
            )
            slot.failsafe_next_try_s = now_s + FAILSAFE_RETRY_S
            slot.failsafe_problem = detail
            log.warning("charger %s: failsafe not confirmed: %s", slot.config.id, detail)
            self.recorder.event("failsafe_failed", self.network.id, detail, subject=slot.config.id)

    async def close(self) -> None:
        """Stop reads in flight and close the meter and charger connections."""
        for slot in self.slots.values():
            if slot.read_task is not None:
                slot.read_task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await slot.read_task
                slot.read_task = None
        await self.meter.close()
        if self.dimming_input is not None:
            await self.dimming_input.close()
        for slot in self.slots.values():
            await slot.driver.close()
