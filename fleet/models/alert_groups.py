"""Notification groups: per channel, the incidents one notification speaks for (the Alertmanager's aggregation group).

A channel groups incidents by organisation and its `group_by` labels (site,
kind, severity). A group's row is its schedule: `next_flush_at` says when the
dispatcher looks at it again (group_wait after its first change, group_interval
after a notification, repeat_interval while incidents stay open), and
`pending_since` says a change waits. Each member remembers what the channel was
last told about its incident, so the next notification knows what is new.
"""

from django.db import models
from django.db.models import Q

from fleet.models.alerts import Incident, NotificationChannel
from fleet.models.tenancy import Organization


class NotificationGroup(models.Model):
    """The incidents of one organisation sharing one channel's grouping labels, and when the channel hears of them next."""

    tenant_path = "organization"

    channel = models.ForeignKey(NotificationChannel, on_delete=models.CASCADE, related_name="groups")
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="notification_groups")
    key = models.CharField(max_length=200, help_text="The grouping labels as text, e.g. kind=meter_lost,site=12.")
    labels = models.JSONField(default=dict, help_text="The grouping labels, as sent in the notification.")
    created_at = models.DateTimeField()
    pending_since = models.DateTimeField(null=True, blank=True, help_text="Since when a change waits to be told; empty: none.")
    next_flush_at = models.DateTimeField(null=True, blank=True, help_text="When the dispatcher looks at the group next.")
    last_notified_at = models.DateTimeField(
        null=True, blank=True, help_text="The last notification while incidents stayed open; empty: the group starts afresh."
    )
    notifications = models.PositiveIntegerField(default=0, help_text="How many notifications were made (numbers their keys).")

    class Meta:
        ordering = ["channel", "key"]
        constraints = [models.UniqueConstraint(fields=["channel", "key"], name="notification_group_unique_key")]
        indexes = [
            models.Index(fields=["next_flush_at"], condition=Q(next_flush_at__isnull=False), name="notification_group_due")
        ]

    def __str__(self) -> str:
        return f"{self.key or 'all'} on {self.channel}"


class Announced(models.TextChoices):
    """What a channel was last told about one incident of a group."""

    NOTHING = "", "Nothing yet"
    FIRING = "firing", "Open"
    FOLDED = "folded", "Folded into another incident"


class NotificationGroupMember(models.Model):
    """One incident in one group, and what the group's channel last heard of it."""

    tenant_path = "group__organization"

    group = models.ForeignKey(NotificationGroup, on_delete=models.CASCADE, related_name="members")
    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="group_memberships")
    announced = models.CharField(max_length=16, choices=Announced.choices, default=Announced.NOTHING, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["group", "incident"], name="notification_group_member_once")]

    def __str__(self) -> str:
        return f"incident {self.incident_id} in {self.group_id}"
