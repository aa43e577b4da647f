"""How the loop judges its grid meter: phase mapping, direction, and lost/restored edges reported once."""

import time
from datetime import datetime, timezone

import pytest

from gateways.meter_watch import MeterWatch, to_grid_phases
from meters import MeterReading, MeterTransportError


def reading(current_a=(10.0, 5.0, 2.0), power_w=None, voltage_v=(230.1, 229.8, 231.0)) -> MeterReading:
    return MeterReading(
        model="test", current_a=current_a, voltage_v=voltage_v, power_w=power_w, power_total_w=None,
        energy_import_wh=None, energy_export_wh=None, frequency_hz=None,
        read_at=datetime.now(timezone.utc), monotonic_s=time.monotonic(),
    )


# --- phase rotation of the meter ------------------------------------------------


@pytest.mark.parametrize(
    ("rotation", "grid"),
    [
        ("L1L2L3", ("p1", "p2", "p3")),
        ("L2L3L1", ("p3", "p1", "p2")),  # the meter's phase 1 is grid L2
        ("L3L1L2", ("p2", "p3", "p1")),  # the meter's phase 1 is grid L3
    ],
)
def test_meter_phases_map_to_grid_phases_by_rotation(rotation, grid):
    assert to_grid_phases(("p1", "p2", "p3"), rotation) == grid


def test_export_on_a_phase_makes_its_current_negative():
    watch = MeterWatch("L1L2L3", stale_after_polls=3)
    grid, _ = watch.observe(reading(current_a=(10.0, 5.0, 2.0), power_w=(2300.0, -1150.0, 460.0)))
    assert grid.current_a == (10.0, -5.0, 2.0)


def test_without_per_phase_power_currents_count_as_import():
    watch = MeterWatch("L1L2L3", stale_after_polls=3)
    grid, _ = watch.observe(reading(current_a=(10.0, 5.0, 2.0), power_w=None))
    assert grid.current_a == (10.0, 5.0, 2.0)


# --- edges ----------------------------------------------------------------------


def test_a_failed_read_means_no_measurement_at_once_and_one_lost_edge():
    watch = MeterWatch("L1L2L3", stale_after_polls=3)
    assert watch.observe(reading())[0] is not None
    grid, edge = watch.observe(MeterTransportError("timed out"))
    assert grid is None and edge.type == "meter_lost" and "timed out" in edge.detail
    assert watch.observe(MeterTransportError("timed out")) == (None, None)  # no second edge
    grid, edge = watch.observe(reading(voltage_v=(230.0, 230.0, 230.2)))
    assert grid is not None and edge.type == "meter_restored"


def test_a_reading_without_currents_is_a_lost_meter():
    watch = MeterWatch("L1L2L3", stale_after_polls=3)
    grid, edge = watch.observe(reading(current_a=(1.0, None, 2.0)))
    assert grid is None and edge.type == "meter_lost"


def test_values_frozen_for_stale_after_polls_reads_count_as_lost():
    watch = MeterWatch("L1L2L3", stale_after_polls=3)
    frozen = reading()
    outcomes = [watch.observe(frozen) for _ in range(4)]
    assert [grid is not None for grid, _ in outcomes] == [True, True, True, False]
    assert outcomes[3][1].type == "meter_lost" and "frozen" in outcomes[3][1].detail
