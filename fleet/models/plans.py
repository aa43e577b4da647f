"""Capacity plans: an installer's "what if" for one charging network, run as a task and kept with its answer.

The request is stored as the operator sent it (validated), so a plan can be
read back, repeated or compared later; the replay itself is `planning`'s
pure code, run by `fleet.services.plan_run`. Status moves queued -> running
-> done or failed by conditional updates, so a task delivered twice runs once.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q

from fleet.models.networks import ChargingNetwork


class PlanStatus(models.TextChoices):
    """Where a plan's run stands."""

    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class CapacityPlan(models.Model):
    """One capacity question about a network (more chargers, another fuse, a power cap) and its replayed answer."""

    tenant_path = "network__site__organization"

    network = models.ForeignKey(ChargingNetwork, on_delete=models.CASCADE, related_name="capacity_plans")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="capacity_plans"
    )
    status = models.CharField(max_length=16, choices=PlanStatus.choices, default=PlanStatus.QUEUED)
    progress_pct = models.PositiveSmallIntegerField(default=0, help_text="How far the run is (0-100).")
    request = models.JSONField(help_text="The question as validated: window, changes, sessions.")
    answer = models.TextField(blank=True, help_text="The answer in one sentence, once done.")
    result = models.JSONField(null=True, blank=True, help_text="planning.PlanResult.to_dict() plus the typical day.")
    error = models.TextField(blank=True, help_text="Why the run failed, naming the field where the input was at fault.")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(progress_pct__lte=100), name="capacity_plan_progress_at_most_100"),
        ]

    def __str__(self) -> str:
        return f"plan {self.pk} of {self.network}"
