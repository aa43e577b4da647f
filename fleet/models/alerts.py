"""Alerts: incidents opened by the evaluation task, the channels that hear about them, and each delivery.

An incident is one problem of one object (a meter, a gateway) from the moment
the server notices it until data flows again. At most one incident per
(object, kind) is open at a time, enforced by partial unique constraints, so
several Celery workers evaluating at once cannot open two. Each edge of an
incident (opened, reopened, resolved, folded) is recorded as a transition by
the evaluation that caused it; a dispatcher later decides who hears about it
(healthchecks' `Flip`), so "what changed" and "who gets told" stay apart.
Deliveries carry an idempotency key that names the incident, the transition
and the channel; it is unique, so the same transition is never sent twice on
one channel.
"""

from django.core.exceptions import ValidationError
from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from fleet.models.devices import Meter
from fleet.models.sites import Gateway, Site
from fleet.models.tenancy import Organization


class IncidentKind(models.TextChoices):
    """What went wrong."""

    METER_LOST = "meter_lost", "Meter lost"
    GATEWAY_OFFLINE = "gateway_offline", "Gateway offline"
    CONNECTIVITY_OUTAGE = "connectivity_outage", "Connectivity outage"


SEVERITY_OF_KIND = {
    IncidentKind.METER_LOST: "warning",
    IncidentKind.GATEWAY_OFFLINE: "critical",
    IncidentKind.CONNECTIVITY_OUTAGE: "critical",
}
"""How urgent each kind is, for grouping and labels: a lost meter makes its site draw less (a fallback), a silent
gateway leaves the site on its own (its last limits) and the server blind; an outage does so for many at once."""


class IncidentStatus(models.TextChoices):
    """Open until data flows again, then resolved."""

    OPEN = "open", "Open"
    RESOLVED = "resolved", "Resolved"


class Incident(models.Model):
    """One problem of one meter or gateway, opened once, refreshed while it lasts, resolved when data flows again."""

    tenant_path = "organization"

    # Organisation and site are copies of the object's own, so that scoping and the
    # per-site rollups are one indexed filter instead of a four-table join.
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="incidents")
    site = models.ForeignKey(
        Site, on_delete=models.CASCADE, null=True, blank=True, related_name="incidents",
        help_text="Empty only for a connectivity outage, which spans sites.",
    )
    gateway = models.ForeignKey(Gateway, on_delete=models.CASCADE, null=True, blank=True, related_name="incidents")
    meter = models.ForeignKey(Meter, on_delete=models.CASCADE, null=True, blank=True, related_name="incidents")
    kind = models.CharField(max_length=32, choices=IncidentKind.choices)
    status = models.CharField(max_length=16, choices=IncidentStatus.choices, default=IncidentStatus.OPEN)
    started_at = models.DateTimeField(help_text="When the problem began according to the data (event time, last reading).")
    opened_at = models.DateTimeField(default=timezone.now, help_text="When the server opened the incident.")
    last_opened_at = models.DateTimeField(
        default=timezone.now, help_text="When the current occurrence opened (reminders count from here)."
    )
    last_seen = models.DateTimeField(default=timezone.now, help_text="When an evaluation last found the problem present.")
    resolved_at = models.DateTimeField(null=True, blank=True)
    cleared_at = models.DateTimeField(
        null=True, blank=True, help_text="A flapping incident: since when data has flowed again (it resolves after a quiet window)."
    )
    occurrences = models.PositiveIntegerField(default=1, help_text="How often the problem (re)appeared within this incident.")
    flapping = models.BooleanField(default=False, help_text="Lost and restored repeatedly within the flap window.")
    folded_into = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="folded",
        help_text="The incident that explains this one while it is open (a gateway's for its meters, a connectivity "
        "outage for its gateways); it stays quiet meanwhile.",
    )
    detail = models.TextField(blank=True)
    # An acknowledgement covers the occurrence it was given in: one older than `last_opened_at`
    # belongs to an earlier occurrence, so a problem that comes back is announced and reminded again.
    acknowledged_at = models.DateTimeField(
        null=True, blank=True, help_text="When someone took the incident on; no reminders for this occurrence after it."
    )
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="acknowledged_incidents"
    )
    acknowledgement_note = models.TextField(blank=True, help_text="What the person who acknowledged it is doing about it.")

    class Meta:
        ordering = ["-opened_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["meter", "kind"],
                condition=Q(status=IncidentStatus.OPEN, meter__isnull=False),
                name="incident_one_open_per_meter_kind",
            ),
            models.UniqueConstraint(
                fields=["gateway", "kind"],
                condition=Q(status=IncidentStatus.OPEN, gateway__isnull=False),
                name="incident_one_open_per_gateway_kind",
            ),
            models.CheckConstraint(
                condition=(
                    ((Q(meter__isnull=False) & Q(gateway__isnull=True)) | (Q(meter__isnull=True) & Q(gateway__isnull=False)))
                    & Q(site__isnull=False) & ~Q(kind=IncidentKind.CONNECTIVITY_OUTAGE)
                )
                | (
                    Q(kind=IncidentKind.CONNECTIVITY_OUTAGE) & Q(meter__isnull=True) & Q(gateway__isnull=True)
                    & Q(site__isnull=True)
                ),
                name="incident_exactly_one_object",
            ),
            models.UniqueConstraint(
                fields=["organization"],
                condition=Q(status=IncidentStatus.OPEN, kind=IncidentKind.CONNECTIVITY_OUTAGE),
                name="incident_one_open_outage_per_organization",
            ),
            models.CheckConstraint(
                condition=(Q(status=IncidentStatus.OPEN) & Q(resolved_at__isnull=True))
                | (Q(status=IncidentStatus.RESOLVED) & Q(resolved_at__isnull=False)),
                name="incident_resolved_at_matches_status",
            ),
            models.CheckConstraint(condition=Q(status__in=IncidentStatus.values), name="incident_status_valid"),
        ]
        indexes = [
            models.Index(fields=["status", "kind"], name="incident_status_kind"),
            models.Index(fields=["organization", "status"], name="incident_organization_status"),
        ]

    def __str__(self) -> str:
        subject = self.meter if self.meter_id else self.gateway if self.gateway_id else self.organization
        return f"{self.get_kind_display()}: {subject} ({self.status})"

    @property
    def is_acknowledged(self) -> bool:
        """Whether someone acknowledged the current occurrence (an earlier occurrence's acknowledgement does not count)."""
        return self.acknowledged_at is not None and self.acknowledged_at >= self.last_opened_at

    @property
    def duration_s(self) -> float:
        """How long the incident has lasted (until now while it is open)."""
        end = self.resolved_at or timezone.now()
        return max(0.0, (end - self.opened_at).total_seconds())


class IncidentTransitionKind(models.TextChoices):
    """Which edge of an incident the evaluation saw."""

    OPENED = "opened", "Opened"
    REOPENED = "reopened", "Reopened"
    RESOLVED = "resolved", "Resolved"
    FOLDED = "folded", "Folded into the incident that explains it"
    UNFOLDED = "unfolded", "No longer explained (what folded it is over)"


class IncidentTransition(models.Model):
    """One edge of one incident, written with the incident's change; the dispatcher turns it into deliveries once."""

    tenant_path = "incident__organization"

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="transitions")
    kind = models.CharField(max_length=16, choices=IncidentTransitionKind.choices)
    at = models.DateTimeField(help_text="When the evaluation that caused the edge ran.")
    occurrence = models.PositiveIntegerField(
        help_text="The incident's occurrence the edge belongs to (part of the delivery keys)."
    )
    processed_at = models.DateTimeField(
        null=True, blank=True, help_text="When the dispatcher turned it into deliveries; empty while it waits."
    )

    class Meta:
        ordering = ["-at", "-id"]
        constraints = [
            # Each notifying edge happens once per occurrence; a second row would mean a second
            # run believed it changed the incident. A fold can recur if its gateway incident is deleted.
            models.UniqueConstraint(
                fields=["incident", "occurrence", "kind"],
                condition=~Q(kind__in=[IncidentTransitionKind.FOLDED, IncidentTransitionKind.UNFOLDED]),
                name="incident_transition_once_per_occurrence",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=IncidentTransitionKind.values), name="incident_transition_kind_valid"
            ),
        ]
        indexes = [
            # The dispatcher's queue: small however long the history grows.
            models.Index(fields=["id"], condition=Q(processed_at__isnull=True), name="transition_unprocessed"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} of incident {self.incident_id} (occurrence {self.occurrence})"


class ChannelKind(models.TextChoices):
    """How a channel delivers."""

    EMAIL = "email", "E-mail"
    WEBHOOK = "webhook", "Webhook"


GROUP_LABELS = ("site", "kind", "severity")
"""What a channel may group incidents by, besides their organisation (the Alertmanager's `group_by`)."""


def group_by_validate(value: str) -> None:
    """Refuse grouping keys other than GROUP_LABELS, naming the bad key (the form names the field)."""
    for label in filter(None, (part.strip() for part in value.split(","))):
        if label not in GROUP_LABELS:
            raise ValidationError(f"group_by: unknown grouping key {label!r}; choose from {', '.join(GROUP_LABELS)}")


class NotificationChannel(models.Model):
    """Where an organisation hears about incidents: e-mail recipients or a webhook URL with its signing secret."""

    tenant_path = "organization"

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="notification_channels")
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=16, choices=ChannelKind.choices)
    email_recipients = models.TextField(blank=True, help_text="E-mail addresses, comma-separated (e-mail channels).")
    webhook_url = models.URLField(max_length=500, blank=True, help_text="Receives a JSON POST (webhook channels).")
    webhook_secret = models.CharField(
        max_length=200, blank=True, help_text="Key of the HMAC-SHA256 signature in the X-FuseGuard-Signature header."
    )
    repeat_interval_s = models.PositiveIntegerField(
        null=True, blank=True, help_text="Remind while a group has open incidents this often (s); empty: the server's default."
    )
    group_by = models.CharField(
        max_length=40, blank=True, default="kind", validators=[group_by_validate],
        help_text="Besides the organisation, what tells groups apart: comma-separated site, kind, severity "
        "(empty: one group per organisation).",
    )
    group_wait_s = models.PositiveIntegerField(
        null=True, blank=True, help_text="A new group's first notification waits this long to collect the burst (s); "
        "empty: the server's default.",
    )
    group_interval_s = models.PositiveIntegerField(
        null=True, blank=True, help_text="Later changes of a group go out at most this often (s); empty: the server's default."
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["organization__name", "name"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="channel_unique_name_per_organization"),
            models.CheckConstraint(
                condition=(Q(kind=ChannelKind.EMAIL) & ~Q(email_recipients=""))
                | (Q(kind=ChannelKind.WEBHOOK) & ~Q(webhook_url="")),
                name="channel_has_its_target",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_kind_display()})"

    @property
    def group_labels(self) -> list[str]:
        """The grouping keys in a fixed order (the group key must not depend on how they were typed)."""
        chosen = {part.strip() for part in self.group_by.split(",")}
        return [label for label in GROUP_LABELS if label in chosen]

    @property
    def recipients(self) -> list[str]:
        """The e-mail addresses as a list."""
        return [address.strip() for address in self.email_recipients.split(",") if address.strip()]


class Transition(models.TextChoices):
    """What a notification tells: incidents newly open, some resolved while others stay open, a reminder, all resolved."""

    OPENED = "opened", "Opened"
    UPDATED = "updated", "Changed"
    REMINDER = "reminder", "Still open"
    RESOLVED = "resolved", "Resolved"


class DeliveryStatus(models.TextChoices):
    """A delivery waits, is being sent by one worker, arrived, or was given up after its last attempt."""

    PENDING = "pending", "Pending"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"


class Delivery(models.Model):
    """One notification on one channel, with its attempts: of a notification group (or, before groups, of one incident)."""

    tenant_path = "channel__organization"

    channel = models.ForeignKey(NotificationChannel, on_delete=models.CASCADE, related_name="deliveries")
    incident = models.ForeignKey(
        Incident, on_delete=models.CASCADE, null=True, blank=True, related_name="deliveries",
        help_text="The incident of a notification made before grouping; empty for a group's notification.",
    )
    group = models.ForeignKey(
        "fleet.NotificationGroup", on_delete=models.CASCADE, null=True, blank=True, related_name="deliveries"
    )
    transition = models.CharField(max_length=16, choices=Transition.choices)
    payload = models.JSONField(
        default=dict, blank=True,
        help_text="What the group's notification says, fixed when it was made, so every retry says the same.",
    )
    idempotency_key = models.CharField(
        max_length=120, help_text="Names the group (or incident), the notification's number and the channel; sent as the "
        "X-FuseGuard-Delivery header.",
    )
    status = models.CharField(max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    lease_until = models.DateTimeField(null=True, blank=True, help_text="A worker sending this owns it until then.")
    claimed_by = models.CharField(
        max_length=200, blank=True, help_text="The Celery node sending it; when that node starts again, its claims are void."
    )
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "deliveries"
        constraints = [
            models.UniqueConstraint(fields=["idempotency_key"], name="delivery_unique_idempotency_key"),
            models.CheckConstraint(condition=Q(status__in=DeliveryStatus.values), name="delivery_status_valid"),
            models.CheckConstraint(
                condition=Q(incident__isnull=False) | Q(group__isnull=False), name="delivery_of_incident_or_group"
            ),
        ]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="delivery_status_due")]

    def __str__(self) -> str:
        subject = f"group {self.group_id}" if self.group_id else f"incident {self.incident_id}"
        return f"{self.get_transition_display()} of {subject} via {self.channel}"
