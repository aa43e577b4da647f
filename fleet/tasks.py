"""Celery tasks: thin wrappers that take ids and call a service (the logic lives in fleet/services)."""

from __future__ import annotations

from celery import shared_task

from fleet.services.alerts_evaluate import alerts_evaluate as evaluate
from fleet.services.notifications_dispatch import notifications_dispatch as dispatch_transitions
from fleet.services.notifications_enqueue import deliveries_release_node, notifications_due
from fleet.services.notifications_send import delivery_send
from fleet.services.plan_run import plan_run
from fleet.services.telemetry_partitions import telemetry_partitions_create_ahead
from fleet.services.telemetry_retention import telemetry_apply_retention


@shared_task(name="fleet.tasks.alerts_evaluate")
def alerts_evaluate() -> dict:
    """Evaluate the fleet into incidents and their transitions, then dispatch at once (groups that are due go out too)."""
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
    """File unprocessed transitions into groups, make the due groups' notifications, hand each to a worker; how many."""
    return _dispatch()


def _dispatch() -> int:
    delivery_ids = dispatch_transitions().delivery_ids
    for delivery_id in delivery_ids:
        delivery_deliver.delay(delivery_id)
    return len(delivery_ids)


@shared_task(name="fleet.tasks.notifications_dispatch_due")
def notifications_dispatch_due() -> int:
    """Hand every due delivery (retries, and claims of dead workers past their lease) to a worker."""
    due = notifications_due()
    for delivery_id in due:
        delivery_deliver.delay(delivery_id)
    return len(due)


@shared_task(name="fleet.tasks.notifications_recover")
def notifications_recover(node: str) -> int:
    """A worker node has started: void its former process's claims, then hand out every due delivery at once."""
    deliveries_release_node(node)
    return notifications_dispatch_due()


@shared_task(name="fleet.tasks.delivery_deliver", bind=True)
def delivery_deliver(self, delivery_id: int) -> str:
    """Attempt one delivery under this worker's node name; the service's claim makes a duplicate task harmless."""
    return delivery_send(delivery_id, node=self.request.hostname or "")


@shared_task(name="fleet.tasks.telemetry_retention")
def telemetry_retention() -> dict:
    """Fold raw days past their retention into rollups, drop what is past the retention (hourly; cheap when idle)."""
    result = telemetry_apply_retention()
    return {"raw_folded": result.raw_folded, "rows_written": result.rows_written, "deleted": result.deleted,
            "partitions_dropped": result.partitions_dropped}


@shared_task(name="fleet.tasks.telemetry_partitions")
def telemetry_partitions() -> dict:
    """Create the telemetry partitions from yesterday to a few days ahead (hourly; a catalogue look when they exist)."""
    return {"created": [day.isoformat() for day in telemetry_partitions_create_ahead()]}


@shared_task(name="fleet.tasks.capacity_plan_run")
def capacity_plan_run(plan_id: int) -> str:
    """Replay one capacity plan against its network's recorded load and store the answer."""
    return plan_run(plan_id)
