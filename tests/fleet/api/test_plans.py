"""Capacity plans over the API: asked, run as a task on the network's stored telemetry, stored, and kept per tenant."""

from datetime import timedelta

import pytest

from fleet.models import CapacityPlan, PlanStatus
from tests.fleet.plans.conftest import DAY_START, eager_tasks, record_days  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db

WINDOW = {"from": DAY_START.isoformat(), "to": (DAY_START + timedelta(days=2)).isoformat()}
"""Two days: the profile's evening-to-morning sessions need a night inside the window."""
FOUR_MORE = {"add_chargers": [{"count": 4, "max_current_a": 16, "phases": 3}]}


@pytest.fixture
def alpha(tenants, as_user):
    return as_user(tenants[0].operator)


def ask(client, network, *, changes=FOUR_MORE, **extra):
    body = {"network": network.pk, **WINDOW, "changes": changes, "profile": {"seed": 3}, **extra}
    return client.post("/api/v1/plans/", body, format="json")


# --- a plan end to end --------------------------------------------------------------------------------


def test_a_plan_runs_on_the_networks_telemetry_and_its_result_is_stored(
    tenants, alpha, eager_tasks, django_capture_on_commit_callbacks  # noqa: F811
):
    tenant_a, _ = tenants
    record_days(tenant_a, days=2, first_seq=1000, evening_peak_a=10.0)
    with django_capture_on_commit_callbacks(execute=True):
        created = ask(alpha, tenant_a.network, changes={**FOUR_MORE, "max_current_per_phase_a": 35})
    assert created.status_code == 201, created.content
    assert created["Location"] == f"/api/v1/plans/{created.json()['id']}/"
    # The task ran when the request's transaction committed (at once, in the embedded demo's autocommit).
    body = alpha.get(created["Location"]).json()
    assert (body["status"], body["progress_pct"], body["created_by"]) == ("done", 100, tenant_a.operator.username)
    assert body["request"]["changes"] == {
        "add_chargers": [{"count": 4, "max_current_a": 16.0, "min_current_a": 6.0, "phases": 3, "priority": 0}],
        "max_current_per_phase_a": 35.0,
    }
    assert body["request"]["profile"]["seed"] == 3 and body["request"]["from"] == DAY_START.isoformat()
    assert body["answer"].startswith("With 4 more 11 kW chargers and a 35 A fuse, ")
    assert body["result"]["limits"]["max_current_per_phase_a"] == [35.0, 35.0, 35.0]
    assert body["result"]["load"]["resolution_s"] == 60 and body["result"]["load"]["intervals_filled"] == 0
    stored = CapacityPlan.objects.get(pk=body["id"])
    assert stored.result["network"]["sessions"] == len(stored.result["sessions"]) > 0

    listed = alpha.get("/api/v1/plans/").json()["results"]
    assert [row["id"] for row in listed] == [body["id"]] and "result" not in listed[0]


def test_a_window_without_telemetry_is_a_failed_plan_that_says_why(tenants, alpha, eager_tasks, django_capture_on_commit_callbacks):  # noqa: F811
    with django_capture_on_commit_callbacks(execute=True):
        created = ask(alpha, tenants[0].network)
    assert created.status_code == 201
    failed = alpha.get(created["Location"]).json()
    assert (failed["status"], failed["result"]) == ("failed", None)
    assert failed["error"].startswith("from: no grid readings of this network")


def test_a_plan_is_queued_for_a_worker_when_there_is_a_broker(tenants, alpha, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        created = ask(alpha, tenants[0].network)
    assert created.status_code == 201
    assert (created.json()["status"], created.json()["progress_pct"]) == (PlanStatus.QUEUED, 0)
    assert len(callbacks) == 1  # the task is sent once the row is committed, so the worker finds it


# --- tenants ----------------------------------------------------------------------------------------


def test_plans_of_another_organisation_are_neither_listed_nor_found(tenants, alpha):
    tenant_a, tenant_b = tenants
    own = CapacityPlan.objects.create(network=tenant_a.network, request={})
    foreign = CapacityPlan.objects.create(network=tenant_b.network, request={})
    assert [row["id"] for row in alpha.get("/api/v1/plans/").json()["results"]] == [own.pk]
    assert alpha.get(f"/api/v1/plans/{foreign.pk}/").status_code == 404


def test_no_plan_can_be_asked_about_another_organisations_network(tenants, alpha):
    refused = ask(alpha, tenants[1].network)
    assert refused.status_code == 400
    assert refused.json() == {"network": [f'Invalid pk "{tenants[1].network.pk}" - object does not exist.']}
    assert not CapacityPlan.objects.exists()


def test_viewers_may_read_plans_but_not_ask_for_them(tenants, as_user):
    viewer = as_user(tenants[0].viewer)
    assert viewer.get("/api/v1/plans/").status_code == 200
    assert ask(viewer, tenants[0].network).status_code == 403


# --- validation names the field ---------------------------------------------------------------------

BAD_REQUESTS = [
    # the request's own fields (DRF keys a list's items by their index)
    ({"changes": {"max_current_per_phase_a": 0}}, {"changes": {"max_current_per_phase_a": ["Ensure this value is greater than or equal to 1."]}}),
    ({"changes": {"fuse_a": 40}}, {"changes": {"fuse_a": ['Unknown field; the writable fields are: add_chargers, max_current_per_phase_a, max_power_w.']}}),
    ({"changes": {"add_chargers": [{"count": 2, "max_current_a": 16, "phase": 1}]}},
     {"changes": {"add_chargers": {"0": {"phase": ['Unknown field; did you mean "phases"?']}}}}),
    ({"changes": {"add_chargers": [{"count": 2, "max_current_a": 16, "phases": 2}]}},
     {"changes": {"add_chargers": {"0": {"phases": ['"2" is not a valid choice.']}}}}),
    ({"from": (DAY_START + timedelta(days=2)).isoformat()}, {"to": ["`to` must be later than `from`."]}),
    ({"from": (DAY_START - timedelta(days=100)).isoformat()}, {"from": ["The window may span at most 92 days."]}),
    ({"sessions": "booked"}, {"sessions": ['"booked" is not a valid choice.']}),
    # what the planning core refuses, under the same path
    ({"changes": {"add_chargers": [{"max_current_a": 10, "min_current_a": 16}]}},
     {"changes": {"add_chargers": {"0": {"max_current_a": ["must be at least min_current_a (16)"]}}}}),
    ({"profile": {"arrival_window": ["17:00", "25:00"]}}, {"profile": {"arrival_window[1]": ["must be a time of day HH:MM, not '25:00'"]}}),
    ({"profile": {"probability": 2}}, {"profile": {"probability": ["must be at most 1, not 2"]}}),
    ({"profile": {"chargers": ["cp-nowhere"]}}, {"profile": {"chargers": ["unknown charger 'cp-nowhere'"]}}),
]


@pytest.mark.parametrize(("change", "errors"), BAD_REQUESTS, ids=[str(i) for i in range(len(BAD_REQUESTS))])
def test_a_bad_request_is_refused_naming_the_field_and_stores_nothing(tenants, alpha, change, errors):
    body = {"network": tenants[0].network.pk, **WINDOW, **change}
    refused = alpha.post("/api/v1/plans/", body, format="json")
    assert refused.status_code == 400
    assert refused.json() == errors
    assert not CapacityPlan.objects.exists()
