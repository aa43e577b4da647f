"""Celery tasks: thin wrappers that take ids and call a service (the logic lives in fleet/services)."""

from __future__ import annotations

from celery import shared_task

from fleet.services.alerts_evaluate import alerts_evaluate as evaluate
from fleet.services.notifications_dispatch import notifications_dispatch as dispatch_transitions
from fleet.services.notifications_enqueue import notifications_due, notifications_enqueue_reminders
from fleet.services.notifications_send import delivery_send
from fleet.services.plan_run import plan_run
from fleet.services.telemetry_retention import telemetry_apply_retention


@shared_task(name="fleet.tasks.alerts_evaluate")
def alerts_evaluate() -> dict:
    """Evaluate the fleet into incidents and their transitions, then dispatch those at once (no wait for another schedule)."""
    result = evaluate()
    # The transitions are committed already: if this process dies here, the dispatcher's own
    # schedule (or the next evaluation) hands them out.
    deliveries = _dispatch()
    return {
        "opened": len(result.opened) + len(result.reopened), "resolved": len(result.resolved), "folded": result.folded,
        "deliveries": deliveries,
    }


@shared_task(name="fleet.tasks.notifications_dispatch")
def notifications_dispatch() -> int:
    """Turn unprocessed incident transitions into deliveries and hand each to a worker; how many were queued."""
    return _dispatch()


def _dispatch() -> int:
    delivery_ids = dispatch_transitions().delivery_ids
    for delivery_id in delivery_ids:
        delivery_deliver.delay(delivery_id)
    return len(delivery_ids)


@shared_task(name="fleet.tasks.notifications_dispatch_due")
def notifications_dispatch_due() -> int:
    """Queue reminders for long-open incidents and hand every due delivery (retries too) to a worker."""
    notifications_enqueue_reminders()
    due = notifications_due()
    for delivery_id in due:
        delivery_deliver.delay(delivery_id)
    return len(due)


@shared_task(name="fleet.tasks.delivery_deliver")
def delivery_deliver(delivery_id: int) -> str:
    """Attempt one delivery; the service's claim makes a duplicate task harmless."""
    return delivery_send(delivery_id)


@shared_task(name="fleet.tasks.telemetry_retention")
def telemetry_retention() -> dict:
    """Fold old raw samples into averages and delete what is past the retention (hourly; cheap when idle)."""
    result = telemetry_apply_retention()
    return {"raw_folded": result.raw_folded, "rows_written": result.rows_written, "deleted": result.deleted}


@shared_task(name="fleet.tasks.capacity_plan_run")
def capacity_plan_run(plan_id: int) -> str:
    """Replay one capacity plan against its network's recorded load and store the answer."""
    return plan_run(plan_id)
