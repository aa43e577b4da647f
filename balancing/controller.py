"""The stateful layer over ``allocate``: pacing, pause/resume hysteresis, turn-taking.

The pure allocation answers "what is safe now"; this layer only ever answers
"that, or less". Decreases apply in the same cycle; increases are paced; a
paused charger resumes only after it was paused long enough and the offer has
held for a while; when chargers of one priority must wait, the ones charging
go to the back of the queue every turn period (KEBA's queue works alike).
Time comes in as a parameter (monotonic seconds), so every rule is testable
without a clock.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

from . import reasons as why
from .constraints import units_down, units_up
from .engine import allocate, is_fallback
from .errors import ScenarioError
from .model import Allocation, ChargerState, GridMeasurement, NetworkLimits, Reservation, check_chargers
from .phases import DRAWING_THRESHOLD_A, chargers_current_a, drawn_grid_phases, load_besides_chargers_a


@dataclass(frozen=True)
class ControllerSettings:
    """How fast a controller may raise current and how it avoids contactor chatter.

    ``increase_step_a`` None means an increase may go straight to the safe
    value, still at most once per ``increase_interval_s``.
    """

    increase_interval_s: float = 10.0
    increase_step_a: float | None = 2.0
    min_pause_s: float = 60.0
    resume_delay_s: float = 10.0
    turn_period_s: float = 900.0

    def __post_init__(self) -> None:
        for name in ("increase_interval_s", "min_pause_s", "resume_delay_s", "turn_period_s"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
                raise ScenarioError(name, f"must be a finite number of seconds >= 0, not {value!r}")
        step = self.increase_step_a
        if step is not None and (
            isinstance(step, bool) or not isinstance(step, (int, float)) or not math.isfinite(step) or step <= 0
        ):
            raise ScenarioError("increase_step_a", f"must be a finite number > 0 or None, not {step!r}")
        if self.turn_period_s <= 0:
            raise ScenarioError("turn_period_s", "must be greater than 0")


@dataclass
class _Track:
    """What the controller remembers about one charger between cycles."""

    setpoint_a: float
    last_increase_s: float | None = None
    paused_since_s: float | None = None
    offered_since_s: float | None = None


class Controller:
    """Runs ``allocate`` each cycle and shapes its answer in time, never above it."""

    def __init__(self, settings: ControllerSettings | None = None) -> None:
        self.settings = settings or ControllerSettings()
        self._tracks: dict[str, _Track] = {}
        self._queue: list[str] = []
        self._contention_since_s: float | None = None
        self._last_now_s: float | None = None
        self.last_safe: Allocation | None = None
        """The pure allocation of the last step: the ceiling the answer stayed under."""

    @property
    def turn_order(self) -> tuple[str, ...]:
        """Active charger ids in the order they are served within a priority class."""
        return tuple(self._queue)

    def step(
        self,
        limits: NetworkLimits,
        grid: GridMeasurement | None,
        chargers: Sequence[ChargerState],
        now_s: float,
        *,
        reserved: Reservation | None = None,
    ) -> Allocation:
        """One regulation cycle at monotonic time ``now_s``; ``reserved`` goes to ``allocate`` as it is."""
        if isinstance(now_s, bool) or not isinstance(now_s, (int, float)) or not math.isfinite(now_s):
            raise ScenarioError("now_s", f"must be a finite number, not {now_s!r}")
        if self._last_now_s is not None and now_s < self._last_now_s:
            raise ScenarioError("now_s", f"went backwards ({now_s:g} < {self._last_now_s:g}); pass a monotonic clock")
        self._last_now_s = now_s
        chargers = tuple(chargers)
        check_chargers(chargers, limits)
        self._remember(chargers)
        # An active charger's reading counts as its own only up to what we last
        # allowed it (an inactive one's not at all, as in allocate).
        effective = tuple(
            replace(c, setpoint_a=self._tracks[c.id].setpoint_a) if c.active and c.setpoint_a is None else c for c in chargers
        )
        safe = self._allocate_with_turns(limits, grid, effective, now_s, reserved)
        self.last_safe = safe

        step_a = limits.current_step_a
        setpoints: dict[str, float] = {}
        reasons = dict(safe.reasons)
        for charger in effective:
            track = self._tracks[charger.id]
            target_a = safe.setpoints_a[charger.id]
            minimum_a = round(units_up(charger.min_current_a, step_a) * step_a, 6)
            new_a, reason = self._shape(track, target_a, minimum_a, step_a, now_s)
            if reason is not None:
                reasons[charger.id] = reason
            setpoints[charger.id] = new_a
        if limits.max_unbalance_a is not None:
            self._keep_balance(limits, effective, setpoints, reasons)
        for charger in effective:
            self._record(self._tracks[charger.id], setpoints[charger.id], safe.setpoints_a[charger.id], now_s)
        headroom_a = self._headroom(limits, grid, safe, effective, setpoints, reserved)
        return Allocation(safe.mode, setpoints, reasons, headroom_a, safe.house_current_a)

    def _remember(self, chargers: tuple[ChargerState, ...]) -> None:
        """Forget chargers that left, start tracking new ones, keep the queue to the active ones."""
        present = {charger.id for charger in chargers}
        for charger_id in [charger_id for charger_id in self._tracks if charger_id not in present]:
            del self._tracks[charger_id]
        for charger in chargers:
            if charger.id not in self._tracks:
                self._tracks[charger.id] = _Track(setpoint_a=_first_sight_setpoint_a(charger))
        active = {charger.id for charger in chargers if charger.active}
        queue = [charger_id for charger_id in self._queue if charger_id in active]
        queued = set(queue)
        queue.extend(charger.id for charger in chargers if charger.active and charger.id not in queued)
        self._queue = queue

    def _allocate_with_turns(
        self,
        limits: NetworkLimits,
        grid: GridMeasurement | None,
        chargers: tuple[ChargerState, ...],
        now_s: float,
        reserved: Reservation | None,
    ) -> Allocation:
        """Allocate in queue order; once a turn period of waiting has passed, rotate the queue."""
        safe = allocate(limits, grid, chargers, turn_order=self._queue, reserved=reserved)
        waiting = [charger_id for charger_id, code in safe.reasons.items() if code == why.WAITING_TURN]
        if not waiting:
            self._contention_since_s = None
            return safe
        if self._contention_since_s is None:
            self._contention_since_s = now_s
            return safe
        if now_s - self._contention_since_s < self.settings.turn_period_s:
            return safe
        self._contention_since_s = now_s
        by_id = {charger.id: charger for charger in chargers}
        classes = {by_id[charger_id].priority for charger_id in waiting}
        movers = [
            charger_id
            for charger_id in self._queue
            if by_id[charger_id].priority in classes and self._tracks[charger_id].setpoint_a > 0
        ]
        if not movers:
            return safe
        moving = set(movers)
        self._queue = [charger_id for charger_id in self._queue if charger_id not in moving] + movers
        return allocate(limits, grid, chargers, turn_order=self._queue, reserved=reserved)

    def _shape(self, track: _Track, target_a: float, minimum_a: float, step_a: float, now_s: float) -> tuple[float, str | None]:
        """This charger's setpoint: the safe target, or less while paced or held paused."""
        previous_a = track.setpoint_a
        if target_a <= 0:
            return 0.0, None
        if previous_a <= 0:
            offered_since_s = track.offered_since_s if track.offered_since_s is not None else now_s
            paused_long_enough = track.paused_since_s is None or now_s - track.paused_since_s >= self.settings.min_pause_s
            offered_long_enough = now_s - offered_since_s >= self.settings.resume_delay_s
            if not (paused_long_enough and offered_long_enough):
                return 0.0, why.RESUME_PENDING
            # Resuming is an increase from zero: paced, it starts at the minimum.
            new_a = target_a if self.settings.increase_step_a is None else min(target_a, minimum_a)
            return new_a, (why.PACED_INCREASE if new_a < target_a else None)
        if target_a <= previous_a:
            return target_a, None
        due = track.last_increase_s is None or now_s - track.last_increase_s >= self.settings.increase_interval_s
        allowed_a = previous_a
        if due:
            increase = self.settings.increase_step_a
            allowed_a = target_a if increase is None else round(units_down(previous_a + increase, step_a) * step_a, 6)
        # A remembered setpoint below the minimum (first seen drawing little)
        # is not a valid setpoint; the minimum is, and it is within the target.
        new_a = min(target_a, max(allowed_a, minimum_a))
        return new_a, (why.PACED_INCREASE if new_a < target_a else None)

    def _keep_balance(
        self, limits: NetworkLimits, chargers: tuple[ChargerState, ...], setpoints: dict[str, float], reasons: dict[str, str]
    ) -> None:
        """Lower chargers until the unbalance limit holds again.

        Holding one charger below its safe value can unbalance the phases the
        safe allocation had balanced; lowering (never raising) repairs that.
        """
        assert limits.max_unbalance_a is not None
        step_a = limits.current_step_a
        drawn = {charger.id: drawn_grid_phases(charger) for charger in chargers}
        minimum = {charger.id: round(units_up(charger.min_current_a, step_a) * step_a, 6) for charger in chargers}
        while True:
            load_a = [0.0, 0.0, 0.0]
            for charger_id, setpoint_a in setpoints.items():
                for p in drawn[charger_id]:
                    load_a[p] += setpoint_a
            high = max(range(3), key=load_a.__getitem__)
            low = min(range(3), key=load_a.__getitem__)
            excess_a = load_a[high] - load_a[low] - limits.max_unbalance_a
            if excess_a <= 1e-9:
                return
            culprits = [
                charger_id
                for charger_id in setpoints
                if setpoints[charger_id] > 0 and high in drawn[charger_id] and low not in drawn[charger_id]
            ]
            culprit = max(culprits, key=setpoints.__getitem__)
            lowered_a = round(units_down(setpoints[culprit] - excess_a, step_a) * step_a, 6)
            setpoints[culprit] = lowered_a if lowered_a >= minimum[culprit] else 0.0
            reasons[culprit] = why.UNBALANCE_LIMIT

    def _record(self, track: _Track, new_a: float, target_a: float, now_s: float) -> None:
        """Update the timers the next cycle's pacing and hysteresis depend on."""
        previous_a = track.setpoint_a
        if new_a > previous_a:
            track.last_increase_s = now_s
        if new_a <= 0 < previous_a:
            track.paused_since_s = now_s
        if new_a > 0 or target_a <= 0:
            track.offered_since_s = None
        elif track.offered_since_s is None:
            track.offered_since_s = now_s
        track.setpoint_a = new_a

    @staticmethod
    def _headroom(
        limits: NetworkLimits,
        grid: GridMeasurement | None,
        safe: Allocation,
        chargers: tuple[ChargerState, ...],
        setpoints: dict[str, float],
        reserved: Reservation | None,
    ):
        """Headroom per grid phase after what the controller actually set and the reservation (None in fallback)."""
        if is_fallback(limits, grid) or safe.house_current_a is None:
            return None
        load_a = [0.0, 0.0, 0.0]
        for charger in chargers:
            for p in drawn_grid_phases(charger):
                load_a[p] += setpoints[charger.id]
        besides_a = safe.house_current_a
        if reserved is not None:
            # What the engine kept the chargers' room from, rounded as it rounds the house load.
            assert grid is not None
            exact_a = load_besides_chargers_a(grid.current_a, chargers_current_a(chargers), reserved.current_a)
            besides_a = tuple(round(value, 6) for value in exact_a)
        return tuple(
            round(limit - besides - load, 6)
            for limit, besides, load in zip(limits.max_current_per_phase_a, besides_a, load_a, strict=True)
        )


def _first_sight_setpoint_a(charger: ChargerState) -> float:
    """What a charger seen for the first time is taken to be set to: known, or what it draws."""
    if charger.setpoint_a is not None:
        return charger.setpoint_a
    drawing_a = [charger.current_a[p] for p in range(charger.phases) if charger.current_a[p] > DRAWING_THRESHOLD_A]
    return max(drawing_a) if drawing_a else 0.0
