"""The engine's inputs built from the site config: the reservation for chargers the loop cannot set."""

import pytest

from balancing import Reservation
from gateways.engine_inputs import reservation
from gateways.protocol import ChargerConfig


def station(phases: int = 3, phase_rotation: str = "L1L2L3") -> ChargerConfig:
    return ChargerConfig(id="cp", driver="simulated", phases=phases, phase_rotation=phase_rotation)


@pytest.mark.parametrize(
    ("draws", "reserved_a"),
    [
        # Nothing unreachable: nothing kept free.
        ([], (0, 0, 0)),
        # A 3-phase station keeps its allowance free on every grid phase, whatever its rotation.
        ([(station(), 16)], (16, 16, 16)),
        ([(station(phase_rotation="L3L1L2"), 10)], (10, 10, 10)),
        # A 1-phase station only on the grid phase its phase 1 is wired to.
        ([(station(1), 16)], (16, 0, 0)),
        ([(station(1, "L2L3L1"), 16)], (0, 16, 0)),
        ([(station(1, "L3L1L2"), 13)], (0, 0, 13)),
        # Several stations add up.
        ([(station(1, "L2L3L1"), 16), (station(), 6), (station(1, "L2L3L1"), 8)], (6, 30, 6)),
    ],
)
def test_the_reservation_maps_each_unreachable_station_to_its_grid_phases(draws, reserved_a):
    assert reservation(draws) == Reservation(reserved_a)
    # As power, counted like a charger: 230 V per ampere on each phase.
    assert reservation(draws).power_w(230) == sum(draw_a * config.phases * 230 for config, draw_a in draws)
