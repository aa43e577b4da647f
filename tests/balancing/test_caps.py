"""Power caps as data: every cap (the network's, the fallback's, grid operator, operator, schedule) is one row.

The tightest cap in force binds, and a charger it holds reports that cap's
reason code; external caps hold in normal and fallback mode alike.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings

from balancing import NetworkLimits, PowerCap, ScenarioError, allocate, parse_scenario

from .builders import charger, grid, violations
from .strategies import networks

L = NetworkLimits
QUIET = grid(0, 0, 0)
PROPERTIES = settings(deadline=None)


def grid_operator(power_w: float) -> PowerCap:
    """A dimming signal from the grid operator's control box (EnWG section 14a)."""
    return PowerCap(power_w, "14a-control-box", "grid_operator_cap")


def operator(power_w: float) -> PowerCap:
    return PowerCap(power_w, "operator", "operator_cap")


def schedule(power_w: float) -> PowerCap:
    return PowerCap(power_w, "schedule:evening", "schedule_cap")


def case(limits, measurement, chargers, setpoints, reasons, id):
    """One row: the expected setpoint (A) and reason code for each charger, by id."""
    return pytest.param(limits, measurement, chargers, setpoints, reasons, id=id)


# fmt: off
CASES = [
    # The tightest cap binds and names itself: 8,280 W is 36 A over three phases, 6 A each for two chargers.
    case(L(32, max_power_w=22000, power_caps=(grid_operator(8280),)), QUIET, [charger("a"), charger("b")], {"a": 6, "b": 6}, {"a": "grid_operator_cap", "b": "grid_operator_cap"}, id="grid-operator-dims-below-network-power"),
    case(L(32, max_power_w=8280, power_caps=(operator(11000),)), QUIET, [charger("a"), charger("b")], {"a": 6, "b": 6}, {"a": "network_power", "b": "network_power"}, id="network-power-below-operator-cap"),
    case(L(32, max_power_w=22000, power_caps=(operator(11000), schedule(6900), grid_operator(9000))), QUIET, [charger("a")], {"a": 10}, {"a": "schedule_cap"}, id="tightest-of-three-binds-wherever-listed"),
    case(L(32, power_caps=(operator(2300),)), QUIET, [charger("a", current_a=(8, 0, 0))], {"a": 10}, {"a": "operator_cap"}, id="1-phase-vehicle-counts-one-phase-against-a-cap"),
    case(L(32, power_caps=(schedule(50000),)), grid(20, 20, 20), [charger("a", max_current_a=32)], {"a": 12}, {"a": "limited_by_phase_L1"}, id="a-loose-cap-changes-nothing"),
    case(L(32, power_caps=(grid_operator(0),)), QUIET, [charger("a"), charger("b")], {"a": 0, "b": 0}, {"a": "grid_operator_cap", "b": "grid_operator_cap"}, id="a-cap-of-zero-pauses-everyone-naming-itself"),
    case(L(32, power_caps=(grid_operator(3000),)), QUIET, [charger("a"), charger("b")], {"a": 0, "b": 0}, {"a": "grid_operator_cap", "b": "grid_operator_cap"}, id="a-cap-below-one-minimum"),
    # Equal caps: the one listed first names the limit (the network's own comes first).
    case(L(32, power_caps=(operator(6900), schedule(6900))), QUIET, [charger("a")], {"a": 10}, {"a": "operator_cap"}, id="equal-caps-first-listed-names-it"),
    case(L(32, max_power_w=6900, power_caps=(grid_operator(6900),)), QUIET, [charger("a")], {"a": 10}, {"a": "network_power"}, id="equal-to-network-power-network-names-it"),
    # Fallback: external caps hold without a grid reading too; the fallback power is one more cap, listed last.
    case(L(32, fallback_power_w=8280, power_caps=(grid_operator(4140),)), None, [charger("a"), charger("b")], {"a": 6, "b": 0}, {"a": "grid_operator_cap", "b": "waiting_turn"}, id="fallback-dimmed-below-fallback-power"),
    case(L(32, fallback_power_w=4140, power_caps=(grid_operator(8280),)), None, [charger("a")], {"a": 6}, {"a": "fallback"}, id="fallback-power-below-dimming"),
    case(L(32, fallback_power_w=4140, power_caps=(grid_operator(4140),)), None, [charger("a")], {"a": 6}, {"a": "grid_operator_cap"}, id="fallback-equal-to-dimming-dimming-names-it"),
    case(L(32, max_power_w=4140, fallback_power_w=8280, power_caps=(schedule(6900),)), None, [charger("a")], {"a": 6}, {"a": "network_power"}, id="fallback-network-power-tightest"),
    case(L(32, fallback_power_w=0, power_caps=(grid_operator(4140),)), None, [charger("a")], {"a": 0}, {"a": "fallback_zero"}, id="fallback-zero-still-pauses-all"),
    case(L(32, fallback_power_w=4140, power_caps=(grid_operator(4140),)), grid(0, 0, 0, age_s=10), [charger("a")], {"a": 6}, {"a": "grid_operator_cap"}, id="stale-reading-with-dimming"),
]
# fmt: on


@pytest.mark.parametrize(("limits", "measurement", "chargers", "setpoints", "reasons"), CASES)
def test_caps(limits, measurement, chargers, setpoints, reasons):
    result = allocate(limits, measurement, chargers)
    assert result.setpoints_a == setpoints
    assert result.reasons == reasons
    assert violations(limits, measurement, chargers, result) == []


def test_the_caps_in_force_are_the_networks_the_external_ones_and_in_fallback_the_fallback_power():
    dimming, evening = grid_operator(4200), schedule(11000)
    limits = L(32, max_power_w=22000, fallback_power_w=4140, power_caps=(dimming, evening))
    assert limits.power_caps_in_force(fallback=False) == (PowerCap(22000, "network", "network_power"), dimming, evening)
    assert limits.power_caps_in_force(fallback=True) == (
        PowerCap(22000, "network", "network_power"),
        dimming,
        evening,
        PowerCap(4140, "fallback", "fallback"),
    )


def test_without_network_power_or_fallback_power_only_what_is_set_is_in_force():
    assert L(32).power_caps_in_force(fallback=False) == ()
    # No fallback power means charging stops without a grid reading: a cap of 0.
    assert L(32).power_caps_in_force(fallback=True) == (PowerCap(0, "fallback", "fallback"),)
    assert L(32, power_caps=[operator(5000)]).power_caps == (operator(5000),)


def test_the_old_constructor_arguments_still_build_the_same_limits():
    assert L(32, max_power_w=22000, fallback_power_w=4140) == L(32, 22000, 4140)
    assert L(32, 22000, 4140).power_caps == ()


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: PowerCap(-1, "x", "operator_cap"), "power_w: must be at least 0"),
        (lambda: PowerCap(float("nan"), "x", "operator_cap"), "power_w: must be a finite number"),
        (lambda: PowerCap(True, "x", "operator_cap"), "power_w: must be a number"),
        (lambda: PowerCap("4200", "x", "operator_cap"), "power_w: must be a number"),
        (lambda: PowerCap(4200, "", "operator_cap"), "source: must be a non-empty string"),
        (lambda: PowerCap(4200, None, "operator_cap"), "source: must be a non-empty string"),
        (lambda: PowerCap(4200, "x", "dimmed"), "reason: must be one of network_power, fallback, grid_operator_cap"),
        (lambda: PowerCap(4200, "x", "at_max"), "reason: must be one of"),
        (lambda: L(32, power_caps="4200"), "power_caps: must be a list"),
        (lambda: L(32, power_caps=(operator(5000), 4200)), r"power_caps\[1\]: must be a PowerCap"),
    ],
)
def test_bad_caps_are_refused_naming_the_field(build, message):
    with pytest.raises(ScenarioError, match=f"^{message}"):
        build()


def test_the_scenario_json_takes_caps():
    scenario = parse_scenario(
        {
            "limits": {
                "max_current_per_phase_a": 32,
                "power_caps": [{"power_w": 4200, "source": "14a-control-box", "reason": "grid_operator_cap"}],
            },
            "chargers": [{"id": "a", "max_current_a": 16}],
        }
    )
    assert scenario.limits.power_caps == (grid_operator(4200),)
    assert allocate(scenario.limits, QUIET, scenario.chargers).reasons == {"a": "grid_operator_cap"}


@pytest.mark.parametrize(
    ("caps", "message"),
    [
        ({"power_w": 4200}, "limits.power_caps: must be a list"),
        ([{"power_w": 4200, "source": "x"}], r"limits.power_caps\[0\].reason: is required"),
        ([{"power_w": 4200, "source": "x", "reason": "operator_cap", "until": "18:00"}], r"limits.power_caps\[0\].until: unknown field"),
        ([{"power_w": -1, "source": "x", "reason": "operator_cap"}], r"limits.power_caps\[0\].power_w: must be at least 0"),
        ([{"power_w": 1, "source": "x", "reason": "fast"}], r"limits.power_caps\[0\].reason: must be one of"),
    ],
)
def test_bad_caps_in_a_scenario_name_their_path(caps, message):
    with pytest.raises(ScenarioError, match=f"^{message}"):
        parse_scenario({"limits": {"max_current_per_phase_a": 32, "power_caps": caps}, "chargers": []})


@PROPERTIES
@given(networks(caps=True, max_chargers=12))
def test_a_charger_held_by_a_power_cap_names_the_tightest_one(network):
    limits, measurement, chargers = network
    result = allocate(limits, measurement, chargers)
    caps = limits.power_caps_in_force(fallback=result.mode == "fallback")
    for code in result.reasons.values():
        if code in {cap.reason for cap in caps}:
            tightest_w = min(cap.limit_w for cap in caps)
            assert code in {cap.reason for cap in caps if cap.limit_w == tightest_w}, (code, caps)
