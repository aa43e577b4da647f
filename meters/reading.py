"""`MeterReading`: one trustworthy snapshot of a meter, in SI units, import-positive."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime, timezone

Phases = tuple[float | None, float | None, float | None]

NO_PHASES: Phases = (None, None, None)


@dataclass(frozen=True)
class MeterReading:
    """Values as the meter reports them for L1..L3 (no phase rotation applied).

    `power_total_w` and `power_w` are positive when energy flows from the grid into
    the house (import). `None` means the meter does not provide that value. The read
    time is stored twice: `read_at` (UTC, for telemetry) and `monotonic_s`
    (`time.monotonic()`, for ageing readings without being fooled by clock steps).
    """

    model: str
    current_a: Phases = NO_PHASES
    voltage_v: Phases = NO_PHASES
    power_w: Phases = NO_PHASES
    power_total_w: float | None = None
    energy_import_wh: float | None = None
    energy_export_wh: float | None = None
    frequency_hz: float | None = None
    read_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    monotonic_s: float = field(default_factory=time.monotonic)

    def age_s(self, now_monotonic_s: float | None = None) -> float:
        """Seconds since the read, on the monotonic clock."""
        now = time.monotonic() if now_monotonic_s is None else now_monotonic_s
        return now - self.monotonic_s

    def to_json_dict(self) -> dict[str, object]:
        """The reading as the CLI's `--json` object (per-phase values as lists of three)."""
        return {
            "model": self.model,
            "current_a": list(self.current_a),
            "voltage_v": list(self.voltage_v),
            "power_w": list(self.power_w),
            "power_total_w": self.power_total_w,
            "energy_import_wh": self.energy_import_wh,
            "energy_export_wh": self.energy_export_wh,
            "frequency_hz": self.frequency_hz,
        }
