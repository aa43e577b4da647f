"""How the loop judges its grid meter: phase mapping, direction, and lost/restored edges reported once."""

import time
from datetime import datetime, timezone

import pytest

from gateways.meter_watch import MeterWatch, to_grid_phases
from meters import MeterReading, MeterTransportError


def reading(current_a=(10.0, 5.0, 2.0), power_w=None, voltage_v=(230.1, 229.8, 231.0), at_s=None) -> MeterReading:
    return MeterReading(
        model="test", current_a=current_a, voltage_v=voltage_v, power_w=power_w, power_total_w=None,
        energy_import_wh=None, energy_export_wh=None, frequency_hz=None,
        read_at=datetime.now(timezone.utc), monotonic_s=time.monotonic() if at_s is None else at_s,
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
    watch = MeterWatch("L1L2L3", frozen_after_s=10)
    grid, _ = watch.observe(reading(current_a=(10.0, 5.0, 2.0), power_w=(2300.0, -1150.0, 460.0)))
    assert grid.current_a == (10.0, -5.0, 2.0)


def test_without_per_phase_power_currents_count_as_import():
    watch = MeterWatch("L1L2L3", frozen_after_s=10)
    grid, _ = watch.observe(reading(current_a=(10.0, 5.0, 2.0), power_w=None))
    assert grid.current_a == (10.0, 5.0, 2.0)


# --- edges ----------------------------------------------------------------------


def test_a_failed_read_means_no_measurement_at_once_and_one_lost_edge():
    watch = MeterWatch("L1L2L3", frozen_after_s=10)
    assert watch.observe(reading())[0] is not None
    grid, edge = watch.observe(MeterTransportError("timed out"))
    assert grid is None and edge.type == "meter_lost" and "timed out" in edge.detail
    assert watch.observe(MeterTransportError("timed out")) == (None, None)  # no second edge
    grid, edge = watch.observe(reading(voltage_v=(230.0, 230.0, 230.2)))
    assert grid is not None and edge.type == "meter_restored"


def test_a_reading_without_currents_is_a_lost_meter():
    watch = MeterWatch("L1L2L3", frozen_after_s=10)
    grid, edge = watch.observe(reading(current_a=(1.0, None, 2.0)))
    assert grid is None and edge.type == "meter_lost"


# --- frozen values: judged by time, not by the number of reads ---------------------


def meter_refreshing_every(refresh_s: float, poll_s: float, duration_s: float):
    """Reads of a meter whose registers change once per `refresh_s`, polled every `poll_s`."""
    polls = int(duration_s / poll_s)
    for index in range(polls):
        at_s = 1000.0 + index * poll_s
        refresh = int(at_s // refresh_s)
        yield reading(voltage_v=(230.0 + refresh % 7 * 0.1, 229.8, 231.0), at_s=at_s)


def test_a_meter_refreshing_every_second_polled_every_quarter_second_never_counts_as_lost():
    watch = MeterWatch("L1L2L3", frozen_after_s=2)
    outcomes = [watch.observe(r) for r in meter_refreshing_every(refresh_s=1.0, poll_s=0.25, duration_s=60)]
    assert all(grid is not None for grid, _ in outcomes)
    assert all(edge is None for _, edge in outcomes)


@pytest.mark.parametrize(("frozen_after_s", "poll_s"), [(10, 1.0), (10, 0.25), (2, 0.25), (600, 5.0)])
def test_values_that_stop_changing_count_as_lost_within_frozen_after_s_plus_one_poll(frozen_after_s, poll_s):
    watch = MeterWatch("L1L2L3", frozen_after_s=frozen_after_s)
    frozen_since_s = 1000.0
    lost_at_s = None
    for index in range(int((frozen_after_s + 3 * poll_s) / poll_s) + 1):
        at_s = frozen_since_s + index * poll_s
        grid, edge = watch.observe(reading(at_s=at_s))
        if grid is None:
            assert edge is not None and edge.type == "meter_lost" and "frozen" in edge.detail
            lost_at_s = at_s
            break
        assert at_s - frozen_since_s < frozen_after_s  # never lost before its time
    assert lost_at_s is not None and lost_at_s - frozen_since_s <= frozen_after_s + poll_s


def test_a_frozen_meter_is_restored_on_the_first_changed_read():
    watch = MeterWatch("L1L2L3", frozen_after_s=2)
    for index in range(12):
        grid, edge = watch.observe(reading(at_s=100.0 + index * 0.25))
    assert grid is None and not watch.available
    grid, edge = watch.observe(reading(voltage_v=(230.4, 229.8, 231.0), at_s=103.25))
    assert grid is not None and edge.type == "meter_restored" and "frozen" in edge.detail
