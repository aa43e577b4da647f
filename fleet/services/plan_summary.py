"""What a plan's page shows beside the planner's numbers: the typical day and the answer in one sentence.

The typical day folds every replayed step onto its local time of day (in the
series' time zone) in 15-minute slots, per grid phase: the mean and the
highest phase current (house and chargers together), to draw against the
fuse. The sentence is what an installer tells the customer.
"""

from __future__ import annotations

from typing import Any

from balancing.reasons import NETWORK_POWER, limited_by_phase
from planning.replay import StepView

SLOT_S = 900
"""Width of one slot of the typical day (96 a day)."""

SLOTS = 86_400 // SLOT_S


class TypicalDay:
    """An observer for `planning.replay`: per local time-of-day slot, mean and peak current per grid phase."""

    def __init__(self, start, on_step=None) -> None:
        # Slots follow the clock at the series' start (a DST change inside the window shifts by an hour).
        self._first_s = start.hour * 3600 + start.minute * 60 + start.second
        self._sum_a = [[0.0, 0.0, 0.0] for _ in range(SLOTS)]
        self._peak_a = [[0.0, 0.0, 0.0] for _ in range(SLOTS)]
        self._steps = [0] * SLOTS
        self._on_step = on_step

    def __call__(self, step: StepView) -> None:
        phases = list(step.house_a)
        for _charger, current_a, grid_phases in step.drawing:
            for phase in grid_phases:
                phases[phase] += current_a
        slot = int((self._first_s + step.t_s) % 86_400) // SLOT_S
        for p in range(3):
            self._sum_a[slot][p] += phases[p]
            self._peak_a[slot][p] = max(self._peak_a[slot][p], phases[p])
        self._steps[slot] += 1
        if self._on_step is not None:
            self._on_step(step.t_s)

    def to_dict(self) -> dict[str, Any]:
        """Slots as "HH:MM" with the mean and peak current per phase (A)."""
        slots = []
        for slot in range(SLOTS):
            steps = self._steps[slot]
            if not steps:
                continue
            slots.append({
                "time": f"{slot * SLOT_S // 3600:02d}:{slot * SLOT_S % 3600 // 60:02d}",
                "mean_a": [round(total / steps, 2) for total in self._sum_a[slot]],
                "peak_a": [round(peak, 2) for peak in self._peak_a[slot]],
            })
        return {"slot_s": SLOT_S, "slots": slots}


def charger_power_kw(max_current_a: float, phases: int, voltage_v: float) -> float:
    """A charger's rated power as installers name it (11 kW for 16 A on three phases)."""
    return round(max_current_a * phases * voltage_v / 1000, 1)


def fuse_bound_minutes(network: dict[str, Any]) -> float:
    """Minutes in which a phase limit held a vehicle back (a minute where two phases bound counts once at most)."""
    bound = network.get("bound_minutes") or {}
    by_phase = sum(bound.get(limited_by_phase(p), 0.0) for p in range(3))
    return min(by_phase, network.get("limited_minutes", by_phase))


def plan_answer(request: dict[str, Any], result: dict[str, Any]) -> str:
    """The answer in one sentence, e.g. "With 4 more 11 kW chargers, 92 % of sessions would complete; ..."."""
    network = result["network"]
    limits = result.get("limits") or {}
    voltage_v = limits.get("nominal_voltage_v") or 230
    days = max(network["duration_minutes"] / 1440, 1 / 1440)
    changes = request.get("changes") or {}
    parts = [_change_phrase(changes, voltage_v)]
    if network["sessions"]:
        share = 100 * network["sessions_complete"] / network["sessions"]
        parts.append(f"{share:.0f} % of sessions would complete")
    else:
        parts.append("no charging sessions fell within the window")
    fuse_a = limits.get("max_current_per_phase_a") or [0]
    fuse_text = f"{max(fuse_a):g} A fuse"
    sentence = f"{', '.join(parts)}; the {fuse_text} would bind {fuse_bound_minutes(network) / 60 / days:.1f} h a day"
    cap_w = limits.get("max_power_w")
    cap_minutes = (network.get("bound_minutes") or {}).get(NETWORK_POWER, 0.0)
    if cap_w and cap_minutes:
        sentence += f" and the {cap_w / 1000:g} kW cap {cap_minutes / 60 / days:.1f} h a day"
    return sentence + "."


def _change_phrase(changes: dict[str, Any], voltage_v: float) -> str:
    """"With 4 more 11 kW chargers and a 40 A fuse" / "As installed"."""
    groups: dict[float, int] = {}
    for group in changes.get("add_chargers") or []:
        kw = charger_power_kw(group["max_current_a"], group.get("phases", 3), voltage_v)
        groups[kw] = groups.get(kw, 0) + int(group.get("count", 1))
    phrases = []
    if groups:
        count = sum(groups.values())
        noun = "charger" if count == 1 else "chargers"
        if len(groups) == 1:
            phrases.append(f"{count} more {next(iter(groups)):g} kW {noun}")
        else:
            mix = ", ".join(f"{n} × {kw:g} kW" for kw, n in groups.items())
            phrases.append(f"{count} more {noun} ({mix})")
    if changes.get("max_current_per_phase_a"):
        phrases.append(_with_article(f"{changes['max_current_per_phase_a']:g} A fuse"))
    if "max_power_w" in changes:
        cap = changes["max_power_w"]
        phrases.append("no power cap" if cap is None else _with_article(f"{cap / 1000:g} kW power cap"))
    return "With " + " and ".join(phrases) if phrases else "As installed"


def _with_article(phrase: str) -> str:
    """"a 40 A fuse", "an 80 A fuse", "an 11 kW power cap": the article as the number is spoken."""
    number = phrase.split(" ", 1)[0].split(".", 1)[0]
    spoken_with_vowel = number.startswith("8") or (number[:2] in ("11", "18") and len(number) in (2, 5))
    return f"{'an' if spoken_with_vowel else 'a'} {phrase}"
