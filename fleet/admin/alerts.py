"""Admin for alerts: incidents (open first, with their duration and transitions), channels, groups and deliveries.

Incidents, their transitions and deliveries are written by the evaluation,
dispatch and delivery tasks, so they are view-only here; channels are edited
by the organisation's operators.
"""

from datetime import timedelta

from django.contrib import admin
from django.db.models import Case, IntegerField, Value, When

from fleet.admin.scoping import TenantScopedAdmin, TenantScopedTabularInline
from fleet.models import Delivery, Incident, IncidentStatus, IncidentTransition, NotificationChannel, NotificationGroup

OPEN_FIRST = Case(When(status=IncidentStatus.OPEN, then=Value(0)), default=Value(1), output_field=IntegerField())


def _readable(seconds: float) -> str:
    return str(timedelta(seconds=int(seconds)))


class _ViewOnly:
    """Rows the tasks own: members look, nobody edits by hand (superusers may delete)."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return request.user.is_superuser


class IncidentTransitionInline(TenantScopedTabularInline):
    """An incident's edges in order, and whether the dispatcher has handled each."""

    model = IncidentTransition
    fields = ["at", "kind", "occurrence", "processed_at"]
    readonly_fields = fields
    ordering = ["at", "id"]
    extra = 0

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Incident)
class IncidentAdmin(_ViewOnly, TenantScopedAdmin):
    """Incidents, open ones first and newest first within each group."""

    inlines = [IncidentTransitionInline]

    list_display = ["__str__", "status", "kind", "site", "opened_at", "duration", "occurrences", "flapping", "resolved_at"]
    list_filter = ["status", "kind", "flapping"]
    search_fields = ["site__name", "gateway__name", "meter__host", "detail"]
    ordering = [OPEN_FIRST.asc(), "-opened_at", "-id"]
    list_select_related = ["site", "gateway__site", "meter__network__site"]
    date_hierarchy = "opened_at"

    @admin.display(description="duration")
    def duration(self, incident: Incident) -> str:
        return _readable(incident.duration_s)


@admin.register(NotificationChannel)
class NotificationChannelAdmin(TenantScopedAdmin):
    """Where an organisation hears about incidents."""

    list_display = ["name", "organization", "kind", "is_active", "group_by", "group_wait_s", "group_interval_s",
                    "repeat_interval_s"]
    list_filter = ["kind", "is_active"]
    search_fields = ["name", "organization__name", "email_recipients", "webhook_url"]

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "webhook_url":
            kwargs["assume_scheme"] = "https"  # a receiver of signed alerts should not be plain HTTP by accident
        return super().formfield_for_dbfield(db_field, request, **kwargs)


@admin.register(Delivery)
class DeliveryAdmin(_ViewOnly, TenantScopedAdmin):
    """Each notification sent or being retried, with its idempotency key."""

    list_display = ["idempotency_key", "transition", "summary", "channel", "status", "attempts", "next_attempt_at", "sent_at"]
    list_filter = ["status", "transition"]
    search_fields = ["idempotency_key", "channel__name"]
    list_select_related = ["channel"]

    @admin.display(description="summary")
    def summary(self, delivery: Delivery) -> str:
        return delivery.payload.get("summary", "") if delivery.payload else f"incident {delivery.incident_id}"


@admin.register(NotificationGroup)
class NotificationGroupAdmin(_ViewOnly, TenantScopedAdmin):
    """Each channel's groups: what they hold and when the dispatcher looks at them next."""

    list_display = ["__str__", "channel", "member_count", "notifications", "last_notified_at", "pending_since", "next_flush_at"]
    list_select_related = ["channel"]
    search_fields = ["key", "channel__name"]

    @admin.display(description="incidents")
    def member_count(self, group: NotificationGroup) -> int:
        return group.members.count()


@admin.register(IncidentTransition)
class IncidentTransitionAdmin(_ViewOnly, TenantScopedAdmin):
    """Every incident edge the evaluation recorded; unprocessed ones still wait for the dispatcher."""

    list_display = ["__str__", "kind", "at", "occurrence", "processed_at"]
    list_filter = ["kind", ("processed_at", admin.EmptyFieldListFilter)]
    list_select_related = ["incident"]
    date_hierarchy = "at"
