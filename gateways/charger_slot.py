"""What the regulation loop knows about one charger, and how each outcome of its I/O changes that.

The regulator does the I/O (reads, setpoints, failsafe arming, side by side
and bounded); a `ChargerSlot` digests each outcome: whether the charger is
reachable, what it was last told and when, whether its own failsafe is
confirmed. Each change of reachability, and each arming attempt, comes back as
one `ChargerEdge` for the regulator to record, so a charger that stays away is
reported once, not every cycle.

A charger that cannot be read cannot be regulated: until it answers again the
loop assumes it may draw what it was last allowed (or its failsafe current,
whichever is more) and keeps that much free for it (`possible_draw_a`).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from balancing import ChargerState
from gateways.chargers.base import ChargerDriver, ChargerError, ChargerReading, ChargingState, FailsafeSettings, PlugState
from gateways.engine_inputs import charger_state
from gateways.outcome import failure_text
from gateways.protocol import ChargerConfig
from gateways.setpoint_renewal import renew_after_s, send_reason

log = logging.getLogger(__name__)

FAILSAFE_RETRY_S = 60.0
EXPECTED_FAILURES = (ChargerError, TimeoutError, OSError)
"""Failures a charger's I/O may end with in normal life; anything else is a bug and logged with its traceback."""


@dataclass(frozen=True)
class ChargerEdge:
    """A change of a charger's reachability or failsafe, for telemetry (the charger is its subject)."""

    type: str  # "charger_lost" | "charger_restored" | "failsafe_armed" | "failsafe_failed"
    detail: str


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

    # --- reading -------------------------------------------------------------------

    def note_read(self, outcome, now_s: float, stale_after_s: float) -> ChargerEdge | None:
        """Digest one read: a fresh reading makes the charger reachable again, a failure unreachable."""
        if isinstance(outcome, ChargerReading):
            if now_s - outcome.monotonic_s > stale_after_s:
                return None  # an old reading restores nothing; `judge_age` decides about the slot
            self.reading = outcome
            if self.available:
                return None
            self.available = True
            # A station that was away may have restarted and forgotten an unsaved failsafe (arm it
            # again) or its setpoint, or sat in its failsafe state (send the setpoint at once).
            self.failsafe_confirmed = None
            self.failsafe_next_try_s = 0.0
            self.sent_at_s = None
            log.info("charger %s reachable again", self.config.id)
            return ChargerEdge("charger_restored", f"answers again after: {self.problem}")
        if not isinstance(outcome, EXPECTED_FAILURES):
            log.error("charger %s: unexpected failure", self.config.id, exc_info=outcome)
        return self.lose(failure_text(outcome))

    def judge_age(self, now_s: float, stale_after_s: float) -> ChargerEdge | None:
        """A charger whose latest reading is too old counts as unreachable (same edge as a failed read)."""
        if self.reading is None or not self.available:
            return None
        age_s = now_s - self.reading.monotonic_s
        if age_s > stale_after_s:
            return self.lose(f"no reading newer than {age_s:.1f} s (limit {stale_after_s:g} s)")
        return None

    def lose(self, problem: str) -> ChargerEdge | None:
        """Mark the charger unreachable for `problem`; the edge only when it was reachable until now."""
        self.problem = problem
        if not self.available:
            return None
        self.available = False
        log.warning("charger %s unreachable: %s", self.config.id, problem)
        return ChargerEdge("charger_lost", problem)

    def state(self) -> ChargerState:
        """The charger as the allocation engine sees it this cycle."""
        reading = self.reading
        active = reading is not None and reading.plug is PlugState.PLUGGED and reading.state is not ChargingState.ERROR
        return charger_state(
            self.config,
            active=active,
            current_a=reading.current_a if reading else (0.0, 0.0, 0.0),
            setpoint_a=self.lowest_setpoint_a(),
        )

    def lowest_setpoint_a(self) -> float | None:
        """The lowest limit the charger may be obeying: what it reported, or what we sent it since.

        The engine counts a charger's measured current as its own only up to this,
        so a reading taken before a decrease (and a meter that already shows the
        lower current) can never make the house load look smaller than it is.
        """
        known = [value for value in (self.reading.setpoint_a if self.reading else None, self.commanded_a) if value is not None]
        return min(known) if known else None

    # --- setpoints -----------------------------------------------------------------

    def send_due(self, target_a: float, now_s: float, valid_for_s: float) -> bool:
        """Whether `target_a` must go out this cycle (`gateways.setpoint_renewal`)."""
        renew_after = renew_after_s(valid_for_s, self.driver.min_resend_interval_s)
        return send_reason(target_a, self.commanded_a, self.sent_at_s, self.sent_done_s, self.reading, now_s,
                           renew_after) is not None

    def note_command(self, target_a: float, outcome, started_s: float, done_s: float) -> None:
        """Digest a send of `target_a` that did not fail (True: confirmed; False: held back by the driver)."""
        # Held back (False) still counts as commanded: the station goes there next, and meanwhile
        # draws less (KEBA's silence after `ena 0`); it is asked again next cycle.
        self.commanded_a = target_a
        self.sent_at_s, self.sent_done_s = (started_s, done_s) if outcome is not False else (None, None)

    def note_command_failed(self, problem: BaseException) -> ChargerEdge | None:
        """Digest a failed send: the station may hold anything now, so send again at the next chance."""
        if not isinstance(problem, EXPECTED_FAILURES):
            log.error("charger %s: unexpected failure on command", self.config.id, exc_info=problem)
        self.sent_at_s = None
        return self.lose(failure_text(problem))

    # --- failsafe ------------------------------------------------------------------

    def failsafe_due(self, now_s: float) -> bool:
        """Reachable, with a failsafe not confirmed yet, and past the wait after a failed try."""
        return (self.controllable and self.failsafe_wanted is not None and self.failsafe_confirmed != self.failsafe_wanted
                and now_s >= self.failsafe_next_try_s)

    def note_arming(self, outcome, now_s: float) -> ChargerEdge:
        """Digest an arming attempt: confirmed only by a read-back equal to what we wanted; else retry later."""
        wanted = self.failsafe_wanted
        if isinstance(outcome, FailsafeSettings) and outcome == wanted:
            self.failsafe_confirmed, self.failsafe_problem = outcome, None
            return ChargerEdge("failsafe_armed", f"{wanted.current_a:g} A after {wanted.timeout_s} s without the gateway")
        detail = (
            f"read back {outcome.current_a:g} A / {outcome.timeout_s} s, wanted {wanted.current_a:g} A / {wanted.timeout_s} s"
            if isinstance(outcome, FailsafeSettings) else failure_text(outcome)
        )
        self.failsafe_next_try_s = now_s + FAILSAFE_RETRY_S
        self.failsafe_problem = detail
        log.warning("charger %s: failsafe not confirmed: %s", self.config.id, detail)
        return ChargerEdge("failsafe_failed", detail)
