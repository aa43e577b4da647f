"""Life at a simulated site, for the demo: house load that wanders, vehicles that come and go, a flaky meter.

Kept apart from `simulation` (the physics) so tests can drive the physics
step by step while the demo lets this module make things happen over time.
"""

from __future__ import annotations

import asyncio
import logging
import random
from dataclasses import dataclass

from gateways.chargers.simulated import Vehicle
from gateways.simulation import SimulatedNetwork

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SiteLife:
    """How lively a simulated site is."""

    house_base_a: tuple[float, float, float] = (4.0, 2.5, 3.0)
    house_spike_a: float = 14.0
    """Size of the occasional big consumer (oven, heat pump) switching on one phase."""
    spike_chance_per_s: float = 0.02
    arrival_chance_per_s: float = 0.02
    departure_chance_per_s: float = 0.005
    meter_dropout_every_s: float | None = None
    """Drop the meter out at about this period (None: a reliable meter)."""
    meter_dropout_for_s: float = 20.0


async def live(network: SimulatedNetwork, life: SiteLife, *, step_s: float = 1.0, seed: int | None = None) -> None:
    """Change the site's world once per `step_s` until cancelled."""
    rng = random.Random(seed)
    spike: tuple[int, float] | None = None  # (phase, seconds left)
    dropout_left_s = 0.0
    until_dropout_s = life.meter_dropout_every_s * rng.uniform(0.5, 1.0) if life.meter_dropout_every_s else None
    for station_id in list(network.stations)[: max(1, len(network.stations) // 2)]:
        network.plug_in(station_id, _vehicle(rng))
    while True:
        await asyncio.sleep(step_s)
        house = [base + rng.uniform(-0.8, 0.8) for base in life.house_base_a]
        if spike is None and rng.random() < life.spike_chance_per_s * step_s:
            spike = (rng.randrange(3), rng.uniform(30, 120))
        if spike is not None:
            phase, left_s = spike
            house[phase] += life.house_spike_a
            spike = (phase, left_s - step_s) if left_s > step_s else None
        network.house_load_a = tuple(round(max(0.0, value), 2) for value in house)
        for station_id, station in network.stations.items():
            if station.vehicle is None and rng.random() < life.arrival_chance_per_s * step_s:
                network.plug_in(station_id, _vehicle(rng))
            elif station.vehicle is not None and (
                station.vehicle.energy_wanted_wh <= 0 or rng.random() < life.departure_chance_per_s * step_s
            ):
                station.unplug()
        if until_dropout_s is not None:
            if dropout_left_s > 0:
                dropout_left_s -= step_s
                if dropout_left_s <= 0:
                    log.info("simulated meter back")
                    await network.meter.drop_out(False)
            else:
                until_dropout_s -= step_s
                if until_dropout_s <= 0:
                    log.info("simulated meter drops out for %.0f s", life.meter_dropout_for_s)
                    await network.meter.drop_out(True, mode="silent")
                    dropout_left_s = life.meter_dropout_for_s
                    until_dropout_s = life.meter_dropout_every_s * rng.uniform(0.7, 1.3)


def _vehicle(rng: random.Random) -> Vehicle:
    return Vehicle(
        phases=rng.choice((1, 3, 3, 3)),
        max_current_a=rng.choice((16.0, 16.0, 32.0, 10.0)),
        energy_wanted_wh=rng.uniform(5_000, 40_000),
    )
