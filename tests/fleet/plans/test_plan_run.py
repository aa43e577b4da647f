"""Running a capacity plan from stored telemetry: the house load it builds and the answer it stores."""

from datetime import timedelta

import pytest

from balancing import ScenarioError
from fleet.models import CapacityPlan, PlanStatus, TelemetrySample
from fleet.services.plan_house_load import plan_house_load
from fleet.services.plan_run import plan_run
from fleet.services.plan_sessions import plan_recorded_sessions
from fleet.services.telemetry_retention import telemetry_apply_retention
from tests.fleet.plans.conftest import DAY_START, record_days

pytestmark = pytest.mark.django_db

PROFILE = {"seed": 14, "arrival_window": ["17:00", "20:00"], "departure_window": ["06:30", "08:00"], "energy_wh": [8000, 20000]}


def request_for(tenant, **changes):
    return {
        "network": tenant.network.pk, "from": DAY_START.isoformat(), "to": (DAY_START + timedelta(days=2)).isoformat(),
        "changes": changes, "sessions": "profile", "profile": PROFILE,
    }


# --- the house load ---------------------------------------------------------------------------------


def test_house_load_is_grid_minus_the_chargers_per_minute_maximum_in_the_sites_zone(tenant_a):
    record_days(tenant_a, every_s=20)
    recorded = plan_house_load(tenant_a.network, DAY_START, DAY_START + timedelta(days=1))
    load = recorded.load
    assert load.resolution_s == 60 and len(load.house_current_a) == 1440
    assert load.start.utcoffset() == timedelta(hours=1)  # Europe/Berlin in November
    # Samples of minute 0 are i = 0, 1, 2: L1 = 6, 7, 8 A; the maximum, not the mean.
    assert load.house_current_a[0] == (8.0, 7.0, 8.0)
    # While charging (18:00 UTC) the charger's 10 A are taken off again.
    assert load.house_current_a[18 * 60][1:] == (7.0, 8.0)
    assert (recorded.intervals_recorded, recorded.intervals_filled) == (1440, 0)


def test_a_charger_wired_with_another_rotation_is_taken_off_its_own_grid_phases(tenant_a):
    tenant_a.charger.phases, tenant_a.charger.phase_rotation = 1, "L2L3L1"
    tenant_a.charger.save()
    TelemetrySample.objects.create(
        gateway=tenant_a.gateway, network=tenant_a.network, seq=1, ts=DAY_START, mode="normal",
        grid_l1_a=5.0, grid_l2_a=20.0, grid_l3_a=5.0, chargers={str(tenant_a.charger.pk): {"current_a": [14.0, 0.0, 0.0]}},
    )
    load = plan_house_load(tenant_a.network, DAY_START, DAY_START + timedelta(minutes=1)).load
    assert load.house_current_a == ((5.0, 6.0, 5.0),)


def test_gaps_carry_the_last_recorded_minute_and_are_counted(tenant_a):
    for seq, minute, l1 in ((1, 0, 9.0), (2, 3, 4.0)):
        TelemetrySample.objects.create(
            gateway=tenant_a.gateway, network=tenant_a.network, seq=seq, ts=DAY_START + timedelta(minutes=minute),
            mode="normal", grid_l1_a=l1, grid_l2_a=1.0, grid_l3_a=1.0, chargers={},
        )
    recorded = plan_house_load(tenant_a.network, DAY_START, DAY_START + timedelta(minutes=5))
    assert [sample[0] for sample in recorded.load.house_current_a] == [9.0, 9.0, 9.0, 4.0, 4.0]
    assert (recorded.intervals_recorded, recorded.intervals_filled) == (2, 3)


def test_older_windows_use_the_retention_jobs_five_minute_rollups(tenant_a, settings):
    settings.TELEMETRY_RAW_RETENTION_DAYS = 7
    record_days(tenant_a, every_s=60)
    telemetry_apply_retention(DAY_START + timedelta(days=9))
    assert not TelemetrySample.objects.exists()
    load = plan_house_load(tenant_a.network, DAY_START, DAY_START + timedelta(hours=1)).load
    assert load.resolution_s == 300 and len(load.house_current_a) == 12


def test_a_window_without_grid_readings_is_refused_naming_from(tenant_a, tenant_b):
    record_days(tenant_b)  # another network's telemetry is not this one's
    with pytest.raises(ScenarioError, match="^from: no grid readings"):
        plan_house_load(tenant_a.network, DAY_START, DAY_START + timedelta(days=1))


# --- the run ----------------------------------------------------------------------------------------


def test_a_run_stores_the_result_the_typical_day_and_the_answer(tenant_a):
    record_days(tenant_a, days=2, evening_peak_a=12.0)
    plan = CapacityPlan.objects.create(
        network=tenant_a.network, request=request_for(tenant_a, add_chargers=[{"count": 4, "max_current_a": 16, "phases": 3}])
    )
    assert plan_run(plan.pk) == PlanStatus.DONE
    plan.refresh_from_db()
    assert (plan.status, plan.progress_pct, plan.error) == (PlanStatus.DONE, 100, "")
    network = plan.result["network"]
    assert network["sessions"] >= 5 and network["duration_minutes"] == 2 * 1440
    assert [c["id"] for c in plan.result["chargers"]] == ["cp-alpha", "new-1", "new-2", "new-3", "new-4"]
    assert len(plan.result["typical_day"]["slots"]) == 96
    # Five 11 kW chargers behind a 32 A fuse with an evening peak: the fuse binds and the sentence says so.
    assert network["bound_minutes"].get("limited_by_phase_L1", 0) > 0
    assert plan.answer.startswith("With 4 more 11 kW chargers, ")
    assert "% of sessions would complete; the 32 A fuse would bind " in plan.answer
    assert plan_run(plan.pk) == "skipped"  # a task delivered twice runs once


def test_a_bigger_fuse_binds_less(tenant_a):
    record_days(tenant_a, days=2, evening_peak_a=12.0)
    add = [{"count": 4, "max_current_a": 16, "phases": 3}]
    small = CapacityPlan.objects.create(network=tenant_a.network, request=request_for(tenant_a, add_chargers=add))
    big = CapacityPlan.objects.create(
        network=tenant_a.network, request=request_for(tenant_a, add_chargers=add, max_current_per_phase_a=80)
    )
    plan_run(small.pk), plan_run(big.pk)
    small.refresh_from_db(), big.refresh_from_db()
    assert big.result["network"]["limited_minutes"] < small.result["network"]["limited_minutes"]
    assert big.answer.startswith("With 4 more 11 kW chargers and an 80 A fuse, ")


def test_a_run_the_planner_refuses_fails_naming_the_field(tenant_a):
    record_days(tenant_a)
    request = request_for(tenant_a)
    request["profile"] = {**PROFILE, "arrival_window": ["17:00", "25:00"]}
    plan = CapacityPlan.objects.create(network=tenant_a.network, request=request)
    assert plan_run(plan.pk) == PlanStatus.FAILED
    plan.refresh_from_db()
    assert plan.error.startswith("profile.arrival_window[1]: ")
    assert plan.result is None


# --- recorded sessions ------------------------------------------------------------------------------


def test_recorded_sessions_are_the_runs_in_which_a_charger_drew(tenant_a):
    record_days(tenant_a, days=2)
    sessions = plan_recorded_sessions(tenant_a.network, DAY_START, DAY_START + timedelta(days=2))
    # Arrival at the first drawing minute, departure a quarter of an hour after the last one.
    assert [(s.charger, s.arrival.strftime("%H:%M"), s.departure.strftime("%H:%M")) for s in sessions] == [
        ("cp-alpha", "18:00", "22:15")
    ] * 2
    # 4 h at 10 A on three phases of 230 V, and a vehicle that took 10 A on three phases.
    assert [s.energy_wh for s in sessions] == [27600.0, 27600.0]
    assert {(s.vehicle_phases, s.vehicle_max_current_a) for s in sessions} == {(3, 10.0)}


def test_as_installed_the_recorded_sessions_replay_complete_and_added_chargers_get_the_profile(tenant_a):
    record_days(tenant_a, days=2)
    as_installed = CapacityPlan.objects.create(network=tenant_a.network, request={**request_for(tenant_a), "sessions": "recorded"})
    added = CapacityPlan.objects.create(
        network=tenant_a.network,
        request={**request_for(tenant_a, add_chargers=[{"count": 2, "max_current_a": 16, "phases": 3}]), "sessions": "recorded"},
    )
    assert plan_run(as_installed.pk) == plan_run(added.pk) == PlanStatus.DONE
    as_installed.refresh_from_db(), added.refresh_from_db()
    sessions = as_installed.result["sessions"]
    assert [(s["charger"], s["energy_wanted_wh"], s["complete"]) for s in sessions] == [("cp-alpha", 27600.0, True)] * 2
    assert as_installed.answer.startswith("As installed, 100 % of sessions would complete; ")
    chargers = {s["charger"] for s in added.result["sessions"]}
    assert "cp-alpha" in chargers and chargers - {"cp-alpha"} <= {"new-1", "new-2"} and len(chargers) > 1
