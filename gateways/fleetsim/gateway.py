"""One simulated gateway: telemetry recorded at the poll interval, numbered, held until the server acknowledges it.

No I/O and no clock of its own: the caller says what time it is, so the
numbering, the resend and the backlog are tested without a server. Items are
built with the protocol's dataclasses (`gateways.protocol.telemetry`) and held
in their wire form, as the agent's buffer holds them; what the server has not
acknowledged is sent again, oldest first, and the server's `acked_seq` alone
decides what is dropped, as in `gateways.sync.TelemetryUpload`.
"""

from __future__ import annotations

import math
import random
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime

from gateways.protocol import SiteConfig
from gateways.protocol.limits import DEFAULT_POLL_INTERVAL_S
from gateways.protocol.telemetry import MAX_BATCH_ITEMS, ChargerSample, TelemetryEvent, TelemetrySample
from gateways.protocol.telemetry_parse import utc_text

MEAN_OUTAGE_S = 30.0
"""How long a simulated meter outage lasts on average (uniform between 5 s and twice this less 5 s)."""


@dataclass(frozen=True)
class SimNetwork:
    """A network of the gateway's config: its key and its chargers' keys."""

    key: str
    charger_keys: tuple[str, ...]


def networks_of(config: SiteConfig) -> tuple[SimNetwork, ...]:
    """The networks a simulated gateway records samples for, from its site config."""
    return tuple(SimNetwork(n.id, tuple(c.id for c in n.chargers)) for n in config.networks)


def wire_time(epoch_s: float) -> str:
    """A time in the wire's canonical form, to the millisecond, as the agent's recorder writes it."""
    moment = datetime.fromtimestamp(round(epoch_s, 3), UTC)
    return utc_text(moment)


class SimulatedGateway:
    """Numbers, records and holds one gateway's telemetry; the session decides when to send it."""

    def __init__(self, token: str, *, seed: int, meter_loss_per_hour: float = 1.0):
        self.token = token
        self.rng = random.Random(seed)
        self.meter_loss_per_hour = meter_loss_per_hour
        self.gateway_id = ""
        self.etag: str | None = None
        self.poll_interval_s = DEFAULT_POLL_INTERVAL_S
        self.networks: tuple[SimNetwork, ...] = ()
        self.unacked: deque[dict] = deque()
        """Items the server has not acknowledged yet, in wire form, oldest (lowest seq) first."""
        self.last_seq = 0
        """The highest sequence number issued."""
        self.acked_seq = 0
        """The server's mark: every item up to it is stored."""
        self.next_sample_s: float | None = None
        """When the next sample is due (epoch seconds); None until recording starts."""
        self.meter_back_s: dict[str, float] = {}
        """Networks whose meter is lost, with when it comes back."""
        self.samples_made = 0
        self.events_made = 0
        self._charger_parts: dict[tuple, dict] = {}

    def apply_config(self, config: SiteConfig, etag: str | None) -> None:
        """Take a fetched config: the gateway's key, poll interval and networks."""
        self.gateway_id = config.gateway.id
        self.poll_interval_s = config.gateway.poll_interval_s
        self.networks = networks_of(config)
        self.etag = etag

    def start_recording(self, now_s: float) -> None:
        """Record from `now_s` on (the first sample is due at once)."""
        self.next_sample_s = now_s

    def stop_recording(self, now_s: float) -> None:
        """Make what is due up to `now_s` and record no more (the run is over; what is held still goes up)."""
        self.record_until(now_s)
        self.next_sample_s = None

    def due_unrecorded(self, now_s: float) -> int:
        """Items a real gateway would have recorded by `now_s` that this one makes only at its next upload."""
        if self.next_sample_s is None or now_s < self.next_sample_s:
            return 0
        return (math.floor((now_s - self.next_sample_s) / self.poll_interval_s) + 1) * len(self.networks)

    def backlog(self, now_s: float) -> int:
        """Items the gateway holds unacknowledged at `now_s`, as the agent's buffer would count them."""
        return len(self.unacked) + self.due_unrecorded(now_s)

    def record_until(self, now_s: float) -> int:
        """Make every sample due up to `now_s` (and the meter edges among them); returns how many items were made."""
        if self.next_sample_s is None:
            return 0
        made = 0
        step_s = self.poll_interval_s
        at_s = self.next_sample_s
        while at_s <= now_s:
            ts = wire_time(at_s)
            for network in self.networks:
                made += self._record_cycle(network, at_s, ts)
            at_s += step_s
        self.next_sample_s = at_s
        return made

    def _record_cycle(self, network: SimNetwork, at_s: float, ts: str) -> int:
        made = 0
        back_s = self.meter_back_s.get(network.key)
        if back_s is not None and at_s >= back_s:
            del self.meter_back_s[network.key]
            made += self._event("meter_restored", network.key, ts, "simulated: the meter answers again")
            back_s = None
        elif back_s is None and self.rng.random() < self.meter_loss_per_hour * self.poll_interval_s / 3600.0:
            back_s = at_s + self.rng.uniform(5.0, 2 * MEAN_OUTAGE_S - 5.0)
            self.meter_back_s[network.key] = back_s
            made += self._event("meter_lost", network.key, ts, "simulated: no answer within the read timeout")
        self._add(self._sample(network, ts, meter_lost=back_s is not None))
        self.samples_made += 1
        return made + 1

    def _sample(self, network: SimNetwork, ts: str, *, meter_lost: bool) -> dict:
        rng = self.rng
        if meter_lost:
            grid = None
            headroom = None
            setpoint_a, reason = 6.0, "fallback"
        else:
            grid = (round(8 + 16 * rng.random(), 2), round(8 + 16 * rng.random(), 2), round(8 + 16 * rng.random(), 2))
            headroom = (round(32 - grid[0], 2), round(32 - grid[1], 2), round(32 - grid[2], 2))
            setpoint_a, reason = float(rng.choice((6, 10, 16))), "fair_share"
        sample = TelemetrySample(seq=0, ts=ts, network=network.key, mode="fallback" if meter_lost else "normal",
                                 grid_current_a=grid, headroom_a=headroom).to_dict()
        sample["chargers"] = self._chargers(network, setpoint_a, reason)
        return sample

    def _chargers(self, network: SimNetwork, setpoint_a: float, reason: str) -> dict:
        """The chargers' part of a sample; it takes few values, so each is built (and serialised) once and shared."""
        key = (network.key, setpoint_a, reason)
        chargers = self._charger_parts.get(key)
        if chargers is None:
            chargers = {
                charger_key: ChargerSample(current_a=(setpoint_a,) * 3, setpoint_a=setpoint_a, reason=reason,
                                           failsafe_confirmed=True).to_dict()
                for charger_key in network.charger_keys
            }
            self._charger_parts[key] = chargers
        return chargers

    def _event(self, type_: str, network_key: str, ts: str, detail: str) -> int:
        event = TelemetryEvent(seq=0, ts=ts, network=network_key, type=type_, detail=detail, subject="meter")
        self._add(event.to_dict())
        self.events_made += 1
        return 1

    def _add(self, item: dict) -> None:
        self.last_seq += 1
        item["seq"] = self.last_seq
        self.unacked.append(item)

    def batch(self, limit: int = MAX_BATCH_ITEMS) -> list[dict]:
        """The oldest `limit` unacknowledged items: what the next upload sends (again, after a failure)."""
        if limit >= len(self.unacked):
            return list(self.unacked)
        return [self.unacked[index] for index in range(limit)]

    def body(self, items: list[dict]) -> dict:
        """The upload's JSON body, in the shape of `gateways.protocol.TelemetryBatch.to_dict()`."""
        return {"gateway": self.gateway_id, "items": items, "gaps": []}

    def acknowledge(self, acked_seq: int) -> int:
        """Take the server's mark; drop what it covers and return how many items left.

        A mark above every number this gateway issued means the server holds
        items from an earlier run with the same token: like the agent
        (`TelemetryBuffer.renumber_after`), the held items are renumbered above
        it, so none is taken for a resend and dropped.
        """
        if acked_seq > self.last_seq:
            for offset, item in enumerate(self.unacked, start=1):
                item["seq"] = acked_seq + offset
            self.acked_seq = acked_seq
            self.last_seq = acked_seq + len(self.unacked)
            return 0
        dropped = 0
        while self.unacked and self.unacked[0]["seq"] <= acked_seq:
            self.unacked.popleft()
            dropped += 1
        self.acked_seq = max(self.acked_seq, acked_seq)
        return dropped
