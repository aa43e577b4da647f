"""Telemetry as a real gateway sends it: one network, two chargers, a sample per second with changing values.

Built from the wire dataclasses (`gateways.protocol`), so the items have the
shape the agent gives them; the values move like a site's do (house load
drifting, cars plugging in and out, setpoints following the headroom, reason
codes changing), because what lands on disk (JSON of the chargers, TOAST or
not, index entries) depends on them. Used by the scale-out test and by the
disk-per-site-day measurement (bench/telemetry_disk.py).
"""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime, timedelta

from balancing.reasons import AT_MAX, INACTIVE, NETWORK_POWER, PACED_INCREASE, limited_by_phase
from gateways.protocol.telemetry import ChargerSample, TelemetryBatch, TelemetryEvent, TelemetrySample

CHARGER_IDS = ("cp1", "cp2")
MAX_PER_PHASE_A = 32.0


def iso(ts: datetime) -> str:
    """The agent's timestamp format: UTC with a Z, milliseconds."""
    return ts.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def realistic_sample(seq: int, network: str, ts: datetime, rng: random.Random) -> TelemetrySample:
    """One regulation cycle of a two-charger network at `ts`: house load on a daily curve plus noise."""
    hour = ts.hour + ts.minute / 60
    house = [round(6 + 5 * math.sin(math.pi * hour / 12) + rng.uniform(-1.5, 1.5) + phase, 2) for phase in (0.0, 1.2, -0.8)]
    chargers = {}
    for index, charger_id in enumerate(CHARGER_IDS):
        plugged = (ts.minute // 20 + index) % 3 != 0  # each charger busy two thirds of the time, in turns
        if not plugged:
            chargers[charger_id] = ChargerSample(current_a=(0.0, 0.0, 0.0), setpoint_a=0.0, reason=INACTIVE)
            continue
        headroom = min(MAX_PER_PHASE_A - max(house), 16.0)
        setpoint = max(6.0, round(headroom, 1))
        reason = AT_MAX if setpoint >= 16.0 else rng.choice((limited_by_phase(house.index(max(house))), NETWORK_POWER, PACED_INCREASE))
        drawn = tuple(round(setpoint - rng.uniform(0.1, 0.6), 2) for _ in range(3))
        chargers[charger_id] = ChargerSample(current_a=drawn, setpoint_a=setpoint, reason=reason, failsafe_confirmed=True)
    drawn_per_phase = [sum(c.current_a[phase] for c in chargers.values()) for phase in range(3)]
    grid = tuple(round(house[phase] + drawn_per_phase[phase], 2) for phase in range(3))
    headroom_a = tuple(round(MAX_PER_PHASE_A - value, 2) for value in grid)
    return TelemetrySample(seq=seq, ts=iso(ts), network=network, mode="normal", grid_current_a=grid,
                           headroom_a=headroom_a, chargers=chargers)


def realistic_items(network: str, first_seq: int, count: int, start: datetime, *, poll_interval_s: float = 1.0,
                    seed: int = 0) -> list[TelemetrySample | TelemetryEvent]:
    """`count` consecutive items from `first_seq`: samples every poll interval, a meter_lost/restored pair now and then."""
    rng = random.Random(seed)
    items: list[TelemetrySample | TelemetryEvent] = []
    for offset in range(count):
        seq = first_seq + offset
        ts = start + timedelta(seconds=offset * poll_interval_s)
        if seq % 997 == 0:
            items.append(TelemetryEvent(seq=seq, ts=iso(ts), network=network, type="meter_lost", subject="meter",
                                        detail="MeterTransportError: timed out"))
        elif seq % 997 == 3:
            items.append(TelemetryEvent(seq=seq, ts=iso(ts), network=network, type="meter_restored", subject="meter"))
        else:
            items.append(realistic_sample(seq, network, ts, rng))
    return items


def batch_of(gateway: str, items: list) -> dict:
    """The JSON body of one upload."""
    return TelemetryBatch(gateway=gateway, items=tuple(items)).to_dict()
