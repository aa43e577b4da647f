"""Running a capacity plan: claim it, build the load from telemetry, replay, store the answer or the reason it failed.

The planner is pure code (`planning`); this service only feeds it the
network's recorded house load and settings and keeps the outcome on the
`CapacityPlan`. Every state change is a conditional UPDATE on the status, so
a task delivered twice (or a plan run by hand while a worker holds it) runs
once. Progress is written at most every few percent: a 30-day replay at
one-minute steps takes seconds, not a write per step.
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from balancing import ScenarioError
from planning import replay

from fleet.models import CapacityPlan, ChargingNetwork, PlanStatus
from fleet.services.plan_build import plan_build
from fleet.services.plan_house_load import plan_house_load
from fleet.services.plan_sessions import plan_recorded_sessions
from fleet.services.plan_summary import TypicalDay, plan_answer

log = logging.getLogger(__name__)

LOAD_DONE_PCT = 20
"""Progress once the house load is read; the replay fills the rest up to 99."""

PROGRESS_STEP_PCT = 5


def plan_create(network: ChargingNetwork, request: dict, *, user=None) -> CapacityPlan:
    """Store a validated request as a queued plan and hand it to a worker once the row is committed."""
    from fleet.tasks import capacity_plan_run  # the tasks module imports the services, not the other way round

    plan = CapacityPlan.objects.create(network=network, request=request, created_by=user)
    # Without a broker (the embedded demo) the task runs eagerly here, after the commit.
    transaction.on_commit(lambda: capacity_plan_run.delay(plan.pk))
    return plan


def plan_run(plan_id: int) -> str:
    """Run one queued plan to done or failed; the status it ends in ("skipped" if it was not queued)."""
    claimed = CapacityPlan.objects.filter(pk=plan_id, status=PlanStatus.QUEUED).update(
        status=PlanStatus.RUNNING, started_at=timezone.now(), progress_pct=0
    )
    if not claimed:
        return "skipped"
    plan = CapacityPlan.objects.select_related("network__site").get(pk=plan_id)
    try:
        result = _replayed(plan)
    except ScenarioError as error:
        return _finish(plan_id, PlanStatus.FAILED, error=str(error))
    except Exception:  # a bug must leave a failed plan with a reason, not one running forever
        log.exception("capacity plan %s failed", plan_id)
        return _finish(plan_id, PlanStatus.FAILED, error="The planner failed unexpectedly; the server log has the details.")
    return _finish(plan_id, PlanStatus.DONE, answer=plan_answer(plan.request, result), result=result)


def _replayed(plan: CapacityPlan) -> dict:
    """The plan's result JSON: the planner's answer, the typical day and what the load was built from."""
    start, end = (datetime.fromisoformat(plan.request[key]) for key in ("from", "to"))
    recorded = plan_house_load(plan.network, start, end)
    _progress(plan.pk, LOAD_DONE_PCT)
    sessions = ()
    if plan.request.get("sessions") == "recorded":
        sessions = tuple(plan_recorded_sessions(plan.network, start, end))
    question = plan_build(plan.network, plan.request, recorded.load, sessions)
    duration_s = recorded.load.duration_s
    reported = [LOAD_DONE_PCT]

    def on_step(t_s: float) -> None:
        pct = LOAD_DONE_PCT + int((99 - LOAD_DONE_PCT) * t_s / duration_s)
        if pct >= reported[0] + PROGRESS_STEP_PCT:
            reported[0] = pct
            _progress(plan.pk, pct)

    typical_day = TypicalDay(recorded.load.start, on_step)
    result = replay(question, observe=typical_day).to_dict()
    result["typical_day"] = typical_day.to_dict()
    result["load"] = recorded.to_dict()
    result["chargers"] = [charger.to_dict() for charger in question.chargers]
    return result


def _progress(plan_id: int, pct: int) -> None:
    CapacityPlan.objects.filter(pk=plan_id, status=PlanStatus.RUNNING).update(progress_pct=min(pct, 99))


def _finish(plan_id: int, status: str, **values) -> str:
    CapacityPlan.objects.filter(pk=plan_id, status=PlanStatus.RUNNING).update(
        status=status, finished_at=timezone.now(), **({"progress_pct": 100} if status == PlanStatus.DONE else {}), **values
    )
    return status
