"""The plan's JSON shape: bad input is refused naming the field; plans and results survive a round trip."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from balancing import ScenarioError
from planning import Plan, PlanResult, replay

EXAMPLE = Path(__file__).resolve().parents[2] / "planning" / "examples" / "four_more_chargers.json"


def small() -> dict:
    """A valid plan in JSON shape: one charger, one session, three hours of 1-minute samples."""
    return {
        "limits": {"max_current_per_phase_a": 35, "max_power_w": 22000},
        "chargers": [{"id": "cp1", "max_current_a": 16}],
        "load": {"start": "2026-11-02T00:00:00+01:00", "resolution_s": 60, "house_current_a": [[5, 6, 7]] * 180},
        "sessions": [
            {"charger": "cp1", "arrival": "2026-11-02T01:00:00+01:00", "departure": "2026-11-02T02:00:00+01:00", "energy_wh": 5000}
        ],
    }


def _set(data: dict, path: str, value) -> dict:
    data = copy.deepcopy(data)
    *parents, last = path.split(".")
    node = data
    for part in parents:
        node = node[int(part)] if part.isdigit() else node[part]
    if value is _DELETE:
        del node[last]
    elif last.isdigit():
        node[int(last)] = value
    else:
        node[last] = value
    return data


_DELETE = object()

BAD = [
    # --- misspelled or missing fields ---------------------------------------
    ("limits.max_current_per_phase", 35, "limits.max_current_per_phase: unknown field"),
    ("limits.max_current_per_phase_a", _DELETE, "limits.max_current_per_phase_a: is required"),
    ("load", _DELETE, "load: is required"),
    # --- numbers and choices -----------------------------------------------
    ("limits.max_current_per_phase_a", -1, "limits.max_current_per_phase_a: must be at least 0"),
    ("chargers.0.phases", 4, "chargers[0].phases: must be one of 1, 2, 3"),
    ("chargers.0.min_current_a", 20, "chargers[0].max_current_a: must be at least min_current_a"),
    ("load.resolution_s", 0, "load.resolution_s: must be greater than 0"),
    ("load.house_current_a", [[1, 2]], "load.house_current_a[0]: must be a list of three numbers"),
    ("load.house_current_a", [], "load.house_current_a: must hold at least one sample"),
    ("sessions.0.energy_wh", "lots", "sessions[0].energy_wh: must be a number"),
    ("sessions.0.vehicle_phases", 0, "sessions[0].vehicle_phases: must be one of 1, 2, 3"),
    # --- times --------------------------------------------------------------
    ("load.start", "2026-11-02T00:00:00", "load.start: must carry a UTC offset"),
    ("sessions.0.arrival", "yesterday", "sessions[0].arrival: must be an ISO 8601 date and time"),
    ("sessions.0.departure", "2026-11-02T00:30:00+01:00", "sessions[0].departure: must be after arrival"),
    ("sessions.0.departure", "2026-11-02T04:00:00+01:00", "sessions[0].departure: is after the load series ends"),
    ("sessions.0.arrival", "2026-11-01T23:00:00+01:00", "sessions[0].arrival: is before the load series starts"),
    # --- references ---------------------------------------------------------
    ("sessions.0.charger", "cp9", "sessions[0].charger: unknown charger 'cp9'"),
    ("chargers", [{"id": "cp1", "max_current_a": 16}, {"id": "cp1", "max_current_a": 16}], "chargers[1].id: duplicate id"),
    ("profile", {"chargers": ["nope"]}, "profile.chargers: unknown charger 'nope'"),
    ("profile", {"probability": 2}, "profile.probability: must be at most 1"),
    ("profile", {"arrival_window": ["17:00"]}, "profile.arrival_window: must be [from, to]"),
    ("controller", {"increase_step": 2}, "controller.increase_step: unknown field"),
]


@pytest.mark.parametrize(("path", "value", "message"), BAD, ids=[row[2].split(":")[0] + "-" + str(i) for i, row in enumerate(BAD)])
def test_bad_input_is_refused_naming_the_field(path, value, message):
    with pytest.raises(ScenarioError) as caught:
        Plan.from_dict(_set(small(), path, value))
    assert str(caught.value).startswith(message)


def test_overlapping_sessions_on_one_charger_are_refused():
    data = small()
    data["sessions"].append(dict(data["sessions"][0], arrival="2026-11-02T01:30:00+01:00"))
    with pytest.raises(ScenarioError, match=r"^sessions\[1\]: overlaps sessions\[0\] on charger 'cp1'"):
        Plan.from_dict(data)


def test_a_plan_survives_its_json_round_trip():
    plan = Plan.from_dict(json.loads(EXAMPLE.read_text()))
    again = Plan.from_dict(json.loads(json.dumps(plan.to_dict())))
    assert again == plan


def test_a_result_survives_its_json_round_trip():
    result = replay(Plan.from_dict(small()))
    assert PlanResult.from_dict(json.loads(json.dumps(result.to_dict()))) == result
