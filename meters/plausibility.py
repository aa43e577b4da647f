"""Physical plausibility: a reading outside what a house connection can show is an error.

The gateway regulates on these numbers; a decoded value that cannot be real (a word-order
mix-up, a marker slipping through) must stop regulation, not steer it.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from meters.errors import MeterDataError

if TYPE_CHECKING:
    from meters.reading import MeterReading

MAX_VOLTAGE_V = 500.0
FREQUENCY_RANGE_HZ = (40.0, 70.0)
MAX_ENERGY_WH = 1e13  # 10 TWh: far beyond any house connection's lifetime
# Line-to-neutral voltage ceiling times current: the most one phase can carry.
_PHASES = 3


def _finite(name: str, value: float) -> None:
    if not math.isfinite(value):
        raise MeterDataError(f"{name} is not a finite number ({value})")


def check_plausible(reading: MeterReading, *, max_current_a: float) -> None:
    """Raise `MeterDataError` naming the first implausible value of `reading`."""
    max_phase_power_w = MAX_VOLTAGE_V * max_current_a
    for index, current in enumerate(reading.current_a):
        if current is not None:
            _finite(f"current L{index + 1}", current)
            if abs(current) > max_current_a:
                raise MeterDataError(
                    f"current L{index + 1} {current:g} A exceeds the meter's {max_current_a:g} A"
                )
    for index, voltage in enumerate(reading.voltage_v):
        if voltage is not None:
            _finite(f"voltage L{index + 1}", voltage)
            if not 0.0 <= voltage <= MAX_VOLTAGE_V:
                raise MeterDataError(f"voltage L{index + 1} {voltage:g} V outside 0..{MAX_VOLTAGE_V:g} V")
    for index, power in enumerate(reading.power_w):
        if power is not None:
            _finite(f"power L{index + 1}", power)
            if abs(power) > max_phase_power_w:
                raise MeterDataError(f"power L{index + 1} {power:g} W beyond {max_phase_power_w:g} W")
    if reading.power_total_w is not None:
        _finite("total power", reading.power_total_w)
        if abs(reading.power_total_w) > _PHASES * max_phase_power_w:
            raise MeterDataError(f"total power {reading.power_total_w:g} W beyond {_PHASES * max_phase_power_w:g} W")
    for name, energy in (("import energy", reading.energy_import_wh), ("export energy", reading.energy_export_wh)):
        if energy is not None:
            _finite(name, energy)
            if not 0.0 <= energy <= MAX_ENERGY_WH:
                raise MeterDataError(f"{name} {energy:g} Wh outside 0..{MAX_ENERGY_WH:g} Wh")
    if reading.frequency_hz is not None:
        _finite("frequency", reading.frequency_hz)
        low, high = FREQUENCY_RANGE_HZ
        if not low <= reading.frequency_hz <= high:
            raise MeterDataError(f"frequency {reading.frequency_hz:g} Hz outside {low:g}..{high:g} Hz")
