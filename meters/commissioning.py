"""The human-readable reading `python -m meters read` prints: what an installer checks on site.

Per phase side by side (current, voltage, active power and its direction), then totals,
energies and the catalog entry's notes, so that a wrongly wired CT (a phase that shows
export while the site draws from the grid), a missing value or a connection limit is
seen before the gateway regulates on the meter. `--json` prints the plain reading.
"""

from __future__ import annotations

import textwrap

from meters.reading import MeterReading, Phases
from meters.registers import MeterModel

_LABEL_WIDTH = 14
_COLUMN_WIDTH = 14
NOT_AVAILABLE = "n/a"


def _number(value: float | None, unit: str, decimals: int) -> str:
    return NOT_AVAILABLE if value is None else f"{value:,.{decimals}f} {unit}"


def _direction(power_w: float | None) -> str:
    """Which way energy flows, by the import-positive convention of `MeterReading`."""
    if power_w is None:
        return NOT_AVAILABLE
    if power_w > 0:
        return "import"
    return "export" if power_w < 0 else "none"


def _row(label: str, cells: list[str]) -> str:
    return (label.ljust(_LABEL_WIDTH) + "".join(cell.ljust(_COLUMN_WIDTH) for cell in cells)).rstrip()


def _phase_row(label: str, values: Phases, unit: str, decimals: int) -> str:
    return _row(label, [_number(v, unit, decimals) for v in values])


def _total_power(power_w: float | None) -> str:
    if power_w is None:
        return NOT_AVAILABLE
    return f"{_number(power_w, 'W', 1)} ({_direction(power_w)})"


def describe_reading(model: MeterModel, reading: MeterReading, endpoint: str) -> str:
    """The commissioning view of one reading of `model` at `endpoint` (host:port unit id)."""
    codes = ", ".join(str(code) for code in model.function_codes)
    plural = "s" if len(model.function_codes) > 1 else ""
    lines = [
        f"{model.key}: {model.manufacturer} {model.model}",
        f"at {endpoint}, function code{plural} {codes}, read {reading.read_at.isoformat(timespec='seconds')}",
        *textwrap.wrap(f"map: {model.verification}", width=100, subsequent_indent="  "),
        "",
        _row("", ["L1", "L2", "L3"]),
        _phase_row("current", reading.current_a, "A", 2),
        _phase_row("voltage", reading.voltage_v, "V", 1),
        _phase_row("active power", reading.power_w, "W", 1),
        _row("direction", [_direction(p) for p in reading.power_w]),
        "",
        _row("total power", [_total_power(reading.power_total_w)]),
        _row("frequency", [_number(reading.frequency_hz, "Hz", 3)]),
        _row("energy import", [_kwh(reading.energy_import_wh)]),
        _row("energy export", [_kwh(reading.energy_export_wh)]),
    ]
    if all(p is None for p in reading.power_w):
        lines += ["", "no per-phase power: the gateway counts every phase's current as import"]
    if model.notes:
        lines += ["", *textwrap.wrap(f"note: {model.notes}", width=100, subsequent_indent="  ")]
    return "\n".join(lines)


def _kwh(energy_wh: float | None) -> str:
    return _number(None if energy_wh is None else energy_wh / 1000.0, "kWh", 3)
