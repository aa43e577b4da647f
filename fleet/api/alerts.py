"""Alerts in the operator API: incidents (open first, with their duration) and the organisations' summary.

Incidents are opened and resolved by the evaluation task, never by hand; the
one write is an acknowledgement (operators and admins: someone has taken the
incident on, reminders stop). Scoping is the operator API's base viewset, as
for every other endpoint.
"""

import django_filters
from django.db.models import Case, IntegerField, Value, When
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from fleet.api.filtersets import related
from fleet.api.known_fields import KnownFieldsOnlyMixin
from fleet.api.scoping import scope_for_request
from fleet.api.views import TenantScopedReadOnlyViewSet
from fleet.models import Incident, IncidentStatus, Organization, Site
from fleet.services.alerts_summary import alerts_summary
from fleet.services.incidents_acknowledge import MAX_NOTE_LENGTH, AckOutcome, incident_acknowledge


class IncidentSerializer(serializers.ModelSerializer):
    """An incident with the object it concerns and how long it has lasted."""

    duration_s = serializers.SerializerMethodField(help_text="Seconds from opening to resolution, or to now while open.")
    acknowledged = serializers.BooleanField(
        source="is_acknowledged", read_only=True, help_text="Whether someone acknowledged the current occurrence."
    )
    acknowledged_by = serializers.SlugRelatedField(slug_field="username", read_only=True, help_text="Who acknowledged it.")

    class Meta:
        model = Incident
        fields = [
            "id", "kind", "status", "organization", "site", "gateway", "meter", "started_at", "opened_at", "last_seen",
            "resolved_at", "duration_s", "occurrences", "flapping", "folded_into", "detail",
            "acknowledged", "acknowledged_at", "acknowledged_by", "acknowledgement_note",
        ]
        read_only_fields = fields

    def get_duration_s(self, incident: Incident) -> float:
        return round(incident.duration_s, 1)


class AcknowledgeSerializer(KnownFieldsOnlyMixin, serializers.Serializer):
    """An acknowledgement: an optional note on what is being done."""

    note = serializers.CharField(
        required=False, allow_blank=True, max_length=MAX_NOTE_LENGTH, default="",
        help_text="What the person acknowledging is doing about it (shown on the incident).",
    )


class SiteRollupSerializer(serializers.Serializer):
    """The open incidents of one site."""

    site_id = serializers.IntegerField()
    site_name = serializers.CharField()
    lost_meters = serializers.IntegerField()
    gateways_offline = serializers.IntegerField()
    open_incidents = serializers.IntegerField()
    since = serializers.DateTimeField(help_text="When the oldest open problem of the site began.")


class OrganizationSummarySerializer(serializers.Serializer):
    """One organisation's open problems: how many sites have lost meters, since when, and per site."""

    organization_id = serializers.IntegerField()
    organization_name = serializers.CharField()
    open_incidents = serializers.IntegerField()
    lost_meters = serializers.IntegerField()
    gateways_offline = serializers.IntegerField()
    sites_with_lost_meters = serializers.IntegerField()
    sites_offline = serializers.IntegerField()
    since = serializers.DateTimeField(allow_null=True, help_text="When the oldest open problem began; null when none is open.")
    sites = SiteRollupSerializer(many=True)


class IncidentFilterSet(django_filters.FilterSet):
    """Incidents by state, kind, organisation and site."""

    organization = related(Organization, "organization", "Only this organisation's incidents.")
    site = related(Site, "site", "Only this site's incidents.")

    class Meta:
        model = Incident
        fields = {"status": ["exact"], "kind": ["exact"], "flapping": ["exact"]}


class IncidentViewSet(TenantScopedReadOnlyViewSet):
    """Incidents of lost meters and offline gateways, open ones first, newest first within each group."""

    queryset = Incident.objects.annotate(
        open_first=Case(When(status=IncidentStatus.OPEN, then=Value(0)), default=Value(1), output_field=IntegerField())
    ).order_by("open_first", "-opened_at", "-id")
    serializer_class = IncidentSerializer
    filterset_class = IncidentFilterSet
    ordering_fields = ["opened_at", "resolved_at", "last_seen", "id"]

    def get_queryset(self):
        return super().get_queryset().select_related("acknowledged_by")

    @extend_schema(request=AcknowledgeSerializer, responses={200: IncidentSerializer, 409: None}, filters=False)
    @action(detail=True, methods=["post"], filter_backends=[])
    def acknowledge(self, request, pk=None):
        """Take an open incident on (operators and admins): reminders stop for this occurrence, resolution is still sent.

        Idempotent: acknowledging an acknowledged incident keeps the first
        acknowledgement and answers 200 with it; a resolved incident is a 409.
        """
        incident = self.get_object()
        body = AcknowledgeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        outcome = incident_acknowledge(incident, request.user, body.validated_data["note"])
        if outcome is AckOutcome.RESOLVED:
            return Response({"detail": "The incident is resolved; there is nothing to acknowledge."}, status=status.HTTP_409_CONFLICT)
        return Response(IncidentSerializer(incident, context=self.get_serializer_context()).data)

    @extend_schema(responses=OrganizationSummarySerializer(many=True), filters=False)
    @action(detail=False, methods=["get"], filter_backends=[], pagination_class=None)
    def summary(self, request):
        """Per organisation of the user: open incidents, sites with lost meters, since when, and per-site rollups."""
        organizations = scope_for_request(Organization.objects.all(), request)
        summaries = alerts_summary(self.get_queryset(), organizations)
        return Response(OrganizationSummarySerializer(summaries, many=True).data)
