"""Invalid input stops at the dataclasses with an error naming the field; valid input is normalised."""

from __future__ import annotations

import pytest

from balancing import ChargerState, GridMeasurement, NetworkLimits, ScenarioError, SubCircuit, allocate, parse_scenario

NAN = float("nan")
INF = float("inf")

BAD_LIMITS = [
    # per-phase limits
    ({"max_current_per_phase_a": NAN}, "max_current_per_phase_a: must be a finite number"),
    ({"max_current_per_phase_a": [32, INF, 32]}, r"max_current_per_phase_a\[1\]: must be a finite number"),
    ({"max_current_per_phase_a": [32, 32]}, "max_current_per_phase_a: must be a number or a list of three numbers"),
    ({"max_current_per_phase_a": -1}, "max_current_per_phase_a: must be at least 0"),
    ({"max_current_per_phase_a": "32"}, "max_current_per_phase_a: must be a number"),
    ({"max_current_per_phase_a": True}, "max_current_per_phase_a: must be a number"),
    # power, voltage, unbalance, step, age
    ({"max_current_per_phase_a": 32, "max_power_w": -5}, "max_power_w: must be at least 0"),
    ({"max_current_per_phase_a": 32, "fallback_power_w": NAN}, "fallback_power_w: must be a finite number"),
    ({"max_current_per_phase_a": 32, "nominal_voltage_v": 0}, "nominal_voltage_v: must be greater than 0"),
    ({"max_current_per_phase_a": 32, "max_unbalance_a": -1}, "max_unbalance_a: must be at least 0"),
    ({"max_current_per_phase_a": 32, "current_step_a": 0}, "current_step_a: must be greater than 0"),
    ({"max_current_per_phase_a": 32, "max_measurement_age_s": INF}, "max_measurement_age_s: must be a finite number"),
    (
        {"max_current_per_phase_a": 32, "sub_circuits": (SubCircuit("x", 16), SubCircuit("x", 16))},
        r"sub_circuits\[1\].id: duplicate id",
    ),
]


@pytest.mark.parametrize(("fields", "message"), BAD_LIMITS)
def test_bad_limits_are_refused(fields, message):
    with pytest.raises(ScenarioError, match=f"^{message}"):
        NetworkLimits(**fields)


BAD_CHARGERS = [
    ({"phase_rotation": "L1L3L2"}, "phase_rotation: must be one of L1L2L3, L2L3L1, L3L1L2"),
    ({"phases": 4}, "phases: must be 1, 2 or 3"),
    ({"phases": True}, "phases: must be 1, 2 or 3"),
    ({"min_current_a": 0}, "min_current_a: must be greater than 0"),
    ({"max_current_a": 5}, "max_current_a: must be at least min_current_a"),
    ({"max_current_a": NAN}, "max_current_a: must be a finite number"),
    ({"current_a": (1, NAN, 1)}, r"current_a\[1\]: must be a finite number"),
    ({"current_a": 3}, "current_a: must be a list of three numbers"),
    ({"priority": 1.5}, "priority: must be an integer"),
    ({"active": "yes"}, "active: must be true or false"),
    ({"id": ""}, "id: must be a non-empty string"),
    ({"setpoint_a": -1}, "setpoint_a: must be at least 0"),
    ({"sub_circuit": ""}, "sub_circuit: must be a non-empty string or null"),
]


@pytest.mark.parametrize(("fields", "message"), BAD_CHARGERS)
def test_bad_chargers_are_refused(fields, message):
    with pytest.raises(ScenarioError, match=f"^{message}"):
        ChargerState(**{"id": "a", "max_current_a": 16, **fields})


@pytest.mark.parametrize(
    ("fields", "message"), [({"current_a": (1, 2, NAN)}, r"current_a\[2\]"), ({"current_a": (1, 2, 3), "age_s": -1}, "age_s")]
)
def test_bad_grid_readings_are_refused(fields, message):
    with pytest.raises(ScenarioError, match=f"^{message}"):
        GridMeasurement(**fields)


def test_one_number_stands_for_all_three_phases():
    assert NetworkLimits(32).max_current_per_phase_a == (32.0, 32.0, 32.0)
    assert NetworkLimits([32, 25, 20]).max_current_per_phase_a == (32.0, 25.0, 20.0)
    assert SubCircuit("deck", 16).max_current_per_phase_a == (16.0, 16.0, 16.0)


def test_scenario_error_is_a_value_error_with_the_field():
    error = ScenarioError("phases", "must be 1, 2 or 3").within("chargers[2]")
    assert isinstance(error, ValueError)
    assert (error.field, str(error)) == ("chargers[2].phases", "chargers[2].phases: must be 1, 2 or 3")


@pytest.mark.parametrize(
    ("chargers", "message"),
    [
        ([ChargerState("a", 16), ChargerState("a", 16)], r"chargers\[1\].id: duplicate id 'a'"),
        ([ChargerState("a", 16, sub_circuit="deck")], r"chargers\[0\].sub_circuit: unknown sub-circuit 'deck'"),
        ([{"id": "a"}], r"chargers\[0\]: must be a ChargerState"),
    ],
)
def test_allocate_refuses_inconsistent_chargers(chargers, message):
    with pytest.raises(ScenarioError, match=f"^{message}"):
        allocate(NetworkLimits(32), None, chargers)


GOOD = {"limits": {"max_current_per_phase_a": 32}, "grid": None, "chargers": [{"id": "a", "max_current_a": 16}]}

BAD_SCENARIOS = [
    # (a change to a valid scenario, the field the error must name)
    (
        {"chargers": [{"id": "a", "max_current_a": 16, "phase_rotation": "L1L3L2"}]},
        r"chargers\[0\].phase_rotation: must be one of",
    ),
    ({"chargers": [{"id": "a", "max_current_a": 16}, {"id": "b"}]}, r"chargers\[1\].max_current_a: is required"),
    ({"chargers": [{"id": "a", "max_current_a": 16, "max_current": 20}]}, r"chargers\[0\].max_current: unknown field"),
    ({"chargers": {"id": "a"}}, "chargers: must be a list"),
    ({"limits": {"max_current_per_phase": 32}}, "limits.max_current_per_phase: unknown field"),
    ({"limits": {}}, "limits.max_current_per_phase_a: is required"),
    (
        {"limits": {"max_current_per_phase_a": 32, "sub_circuits": [{"id": "d"}]}},
        r"limits.sub_circuits\[0\].max_current_per_phase_a: is required",
    ),
    (
        {"limits": {"max_current_per_phase_a": 32, "sub_circuits": [{"id": "d", "max_current_per_phase_a": -1}]}},
        r"limits.sub_circuits\[0\].max_current_per_phase_a: must be at least 0",
    ),
    ({"grid": {"current_a": [1, 2]}}, "grid.current_a: must be a list of three numbers"),
    ({"grid": {"current_a": [1, 2, NAN]}}, r"grid.current_a\[2\]: must be a finite number"),
    ({"grid": [1, 2, 3]}, "grid: must be an object"),
    ({"turn_order": "a"}, "turn_order: must be a list of charger ids"),
    ({"extra": 1}, "extra: unknown field"),
]


@pytest.mark.parametrize(("change", "message"), BAD_SCENARIOS)
def test_bad_scenarios_name_the_field(change, message):
    with pytest.raises(ScenarioError, match=f"^{message}"):
        parse_scenario({**GOOD, **change})


def test_a_scenario_must_be_an_object():
    with pytest.raises(ScenarioError, match="^scenario: must be an object"):
        parse_scenario([GOOD])


def test_a_scenario_fills_in_the_defaults():
    scenario = parse_scenario(GOOD)
    assert scenario.limits == NetworkLimits(32, nominal_voltage_v=230)
    assert scenario.grid is None
    assert scenario.chargers == (
        ChargerState("a", 16, min_current_a=6, phase_rotation="L1L2L3", phases=3, priority=0, active=True),
    )
