"""The external caps in force on a network this cycle, and their edges for telemetry.

Two kinds of source, one rule: every cap becomes a ``balancing.PowerCap``
with its reason code, and the engine holds the chargers to the lowest.

- The control box input (EnWG section 14a). Fail safe: while the input cannot
  be read the network counts as dimmed, from the first failed read on, and at
  start until the first good read. A grid operator's cap is never below the
  guaranteed minimum for the network's chargers (``balancing.dimming``).
- The scheduled caps of the site config, in force from start to end by the
  gateway's own clock, so a cap also ends on time while the server is away;
  and the recurring ones (tariff windows), in force while the site's wall
  clock is inside their window (``RecurringCapConfig.in_force``).

Each start and end of a cap is one event (``power_cap_started`` /
``power_cap_ended``) whose subject is the cap's source and whose detail
starts with the power it holds the chargers to, in whole watts: the record
the fleet shows the grid operator is built from these events.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from balancing import PowerCap
from balancing import reasons as why
from balancing.dimming import guaranteed_minimum_w
from gateways.protocol import NetworkConfig
from gateways.protocol.power_caps import PowerCapConfig, RecurringCapConfig

log = logging.getLogger(__name__)

CONTROL_BOX_SOURCE = "14a-control-box"
"""``PowerCap.source`` (and event subject) of the local control box input."""

CAP_STARTED = "power_cap_started"
CAP_ENDED = "power_cap_ended"

_REASON_BY_SOURCE = {
    "grid_operator": why.GRID_OPERATOR_CAP,
    "operator": why.OPERATOR_CAP,
    "schedule": why.SCHEDULE_CAP,
}


def network_guarantee_w(network: NetworkConfig) -> float:
    """What a grid-operator dimming must leave this network: the section 14a minimum for its configured chargers."""
    return guaranteed_minimum_w(max(1, len(network.chargers)))


def cap_source(cap: PowerCapConfig | RecurringCapConfig) -> str:
    """The ``PowerCap.source`` of a cap from the config: its kind and the server's key (or, from a file, its times).

    Recurring caps are told apart by ``recurring-``, since their keys are the
    server's keys of another table.
    """
    if isinstance(cap, RecurringCapConfig):
        return f"{cap.source}:recurring-{cap.id or ','.join(cap.days) + ' ' + cap.start_time + '-' + cap.end_time}"
    return f"{cap.source}:{cap.id or cap.start}"


def scheduled_caps(network: NetworkConfig, now: datetime) -> list[PowerCap]:
    """The network's configured caps, one-off and recurring, in force at ``now`` (an aware time), as engine caps."""
    caps = []
    for cap in (*network.power_caps, *network.recurring_caps):
        if not cap.in_force(now):
            continue
        guaranteed_w = network_guarantee_w(network) if cap.source == "grid_operator" else 0.0
        caps.append(PowerCap(cap.power_w, cap_source(cap), _REASON_BY_SOURCE[cap.source], guaranteed_w=guaranteed_w))
    return caps


class DimmingWatch:
    """The control box's state across cycles: dimmed on the signal, on a failed read, and until the first good read."""

    def __init__(self, network: NetworkConfig):
        self.network = network
        self.dimmed = True
        self.cause = "not read yet since the gateway started"

    def observe(self, outcome: bool | BaseException) -> None:
        """Digest one read of the input: True/False is the signal, an exception an unreadable input."""
        if isinstance(outcome, BaseException):
            self.dimmed, self.cause = True, f"input unreadable, counted as dimmed: {type(outcome).__name__}: {outcome}"
        else:
            self.dimmed, self.cause = bool(outcome), "signal active" if outcome else "signal inactive"

    def cap(self) -> PowerCap | None:
        """The grid operator's cap while dimmed, else None."""
        if not self.dimmed:
            return None
        config = self.network.dimming
        assert config is not None
        return PowerCap(config.power_w or 0.0, CONTROL_BOX_SOURCE, why.GRID_OPERATOR_CAP,
                        guaranteed_w=network_guarantee_w(self.network))


@dataclass(frozen=True)
class CapEdge:
    """A cap that started (or changed its power or cause) or ended, for telemetry and the log."""

    type: str
    source: str
    detail: str


class CapLedger:
    """Remembers the caps in force last cycle and tells what started, changed or ended since."""

    def __init__(self) -> None:
        self.in_force: dict[str, PowerCap] = {}
        self.causes: dict[str, str] = {}

    def update(self, caps: list[PowerCap], causes: dict[str, str]) -> list[CapEdge]:
        """The edges from last cycle's caps to ``caps``; ``causes`` words why a source's cap holds."""
        edges = []
        now = {cap.source: cap for cap in caps}
        for source, cap in now.items():
            before = self.in_force.get(source)
            # A new cause with the same power (signal -> input unreadable) is a new start too: the record shows it.
            if before is None or before.limit_w != cap.limit_w or self.causes.get(source) != causes.get(source, ""):
                detail = f"{cap.limit_w:.0f} W ({cap.reason})"
                if cap.guaranteed_w > cap.power_w:
                    detail += f", the guaranteed minimum (asked {cap.power_w:.0f} W)"
                if causes.get(source):
                    detail += f": {causes[source]}"
                log.warning("power cap %s in force: %s", source, detail)
                edges.append(CapEdge(CAP_STARTED, source, detail))
        for source, cap in self.in_force.items():
            if source not in now:
                log.info("power cap %s lifted", source)
                edges.append(CapEdge(CAP_ENDED, source, f"{cap.limit_w:.0f} W ({cap.reason}) lifted"))
        self.in_force = now
        self.causes = {source: causes.get(source, "") for source in now}
        return edges
