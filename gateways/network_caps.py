"""The external caps in force on one network, asked for once a cycle by its regulator.

One object per network wires the two sources that `gateways.external_caps`
describes: the control box input, read beside the meter with the meter's
deadline, and the scheduled caps of the config, taken by the site's wall clock.
It hands the regulator the caps in force as engine caps and records each
start and end of a cap as one telemetry event. Its record of the caps in force
outlives a config change (`take_record_from`), so a cap that goes on across
the change starts once in the record.
"""

from __future__ import annotations

from datetime import UTC, datetime

from balancing import PowerCap
from gateways.external_caps import CONTROL_BOX_SOURCE, CapLedger, DimmingWatch, scheduled_caps
from gateways.outcome import outcome_within
from gateways.protocol import NetworkConfig
from gateways.recorder import Recorder


class NetworkCaps:
    """The control box's state and the schedule of one network, turned into the caps in force now."""

    def __init__(self, network: NetworkConfig, recorder: Recorder, *, dimming_input=None, wall_clock=None):
        self.network = network
        self.recorder = recorder
        self.dimming_input = dimming_input
        """The control box input (`gateways.dimming_input.DimmingInput`); None if none."""
        self.dimming_watch = DimmingWatch(network) if network.dimming is not None else None
        self.wall_clock = wall_clock or (lambda: datetime.now(UTC))
        """The site's clock for scheduled caps: an aware time (tests inject one)."""
        self.ledger = CapLedger()

    async def read_input(self, timeout_s: float) -> None:
        """Read the control box once; a network configured with one but given no reader counts as dimmed."""
        outcome = await outcome_within(self.dimming_input.read(), timeout_s) if self.dimming_input is not None else None
        if self.dimming_watch is not None:
            self.dimming_watch.observe(outcome if self.dimming_input is not None else RuntimeError("no reader for the input"))

    def in_force(self) -> tuple[PowerCap, ...]:
        """The caps of the control box and of the schedule in force now; their edges go to telemetry."""
        caps = scheduled_caps(self.network, self.wall_clock())
        causes = {}
        dimming_cap = self.dimming_watch.cap() if self.dimming_watch is not None else None
        if dimming_cap is not None:
            caps.insert(0, dimming_cap)
            causes[CONTROL_BOX_SOURCE] = self.dimming_watch.cause
        self._record(self.ledger.update(caps, causes))
        return tuple(caps)

    def take_record_from(self, previous: NetworkCaps) -> None:
        """Carry on the record of the caps in force of the same network before a config change."""
        self.ledger = previous.ledger

    def end_all(self) -> None:
        """Record every cap in force as ended: the network is gone from the config."""
        self._record(self.ledger.update([], {}))

    def _record(self, edges) -> None:
        for edge in edges:
            self.recorder.event(edge.type, self.network.id, edge.detail, subject=edge.source)

    async def close(self) -> None:
        """Close the control box connection."""
        if self.dimming_input is not None:
            await self.dimming_input.close()
