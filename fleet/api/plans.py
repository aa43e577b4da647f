"""Capacity plans in the operator API: ask "what if" about a network, get the replayed answer later.

`POST /api/v1/plans/` validates the request (unknown keys refused, every
error under the field's name, including the planner's own `ScenarioError`
paths), stores it as a queued `CapacityPlan` and hands it to a Celery task;
`GET /api/v1/plans/ID/` shows status, progress and, once done, the answer and
the full result. Scoping is the base viewset's, as for every endpoint.
"""

from __future__ import annotations

from datetime import timedelta

import django_filters
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.response import Response

from balancing import PHASE_ROTATIONS, ScenarioError
from fleet.api.fields import UtcDateTimeField
from fleet.api.filtersets import related
from fleet.api.known_fields import KnownFieldsOnlyMixin
from fleet.api.serializers import TenantScopedRelationsMixin
from fleet.api.views import TenantScopedViewSetMixin
from fleet.models import CapacityPlan, ChargingNetwork
from fleet.services.plan_build import plan_check
from fleet.services.plan_run import plan_create
from planning import PlannedCharger, SessionProfile

DEFAULT_WINDOW = timedelta(days=30)
"""The window a plan replays unless `from` is given: the last 30 days."""

MAX_WINDOW = timedelta(days=92)
"""A quarter at most: about 132,000 one-minute steps, some seconds of a worker."""

MAX_ADDED_CHARGERS = 100


class AddedChargersSerializer(KnownFieldsOnlyMixin, serializers.Serializer):
    """`count` hypothetical chargers alike (single-phase ones spread over L1, L2, L3 unless a rotation is given)."""

    count = serializers.IntegerField(min_value=1, max_value=MAX_ADDED_CHARGERS, default=1)
    max_current_a = serializers.FloatField(min_value=1, max_value=80, help_text="Per phase (A); 16 A on 3 phases is 11 kW.")
    min_current_a = serializers.FloatField(min_value=1, max_value=80, default=6.0)
    phases = serializers.ChoiceField(choices=[1, 3], default=3)
    phase_rotation = serializers.ChoiceField(choices=list(PHASE_ROTATIONS), required=False)
    priority = serializers.IntegerField(min_value=-1000, max_value=1000, default=0)

    def validate(self, attrs):
        values = {key: value for key, value in attrs.items() if key != "count"}
        _planner_says(lambda: PlannedCharger(id="new", **values))
        return attrs


class PlanChangesSerializer(KnownFieldsOnlyMixin, serializers.Serializer):
    """What differs from the network as installed; a key left out stays as it is."""

    add_chargers = AddedChargersSerializer(many=True, required=False)
    max_current_per_phase_a = serializers.FloatField(
        min_value=1, max_value=4000, required=False, help_text="Another fuse at the house connection (A per phase)."
    )
    max_power_w = serializers.FloatField(
        min_value=1, required=False, allow_null=True, help_text="A power cap for the chargers (W); null removes the network's."
    )

    def validate_add_chargers(self, groups):
        if sum(group["count"] for group in groups) > MAX_ADDED_CHARGERS:
            raise serializers.ValidationError(f"At most {MAX_ADDED_CHARGERS} chargers may be added in one plan.")
        return groups


class CapacityPlanRequestSerializer(KnownFieldsOnlyMixin, TenantScopedRelationsMixin, serializers.Serializer):
    """A capacity question: a network, a recorded window, the changes, and how vehicles come and go."""

    network = serializers.PrimaryKeyRelatedField(queryset=ChargingNetwork.objects.select_related("site"))
    vars()["from"] = UtcDateTimeField(required=False, help_text="Start of the recorded window. Default: 30 days before `to`.")
    to = UtcDateTimeField(required=False, help_text="End of the recorded window. Default: now.")
    changes = PlanChangesSerializer(required=False)
    sessions = serializers.ChoiceField(
        choices=["profile", "recorded"], default="profile",
        help_text="Where sessions come from: `profile` draws them (seeded) for every charger; `recorded` replays the "
        "installed chargers' own sessions read from telemetry and draws from `profile` for the added ones.",
    )
    profile = serializers.JSONField(
        required=False,
        help_text="planning.SessionProfile: seed, chargers, arrival_window, departure_window, energy_wh, probability, vehicles.",
    )

    def validate_profile(self, value):
        return _planner_says(lambda: SessionProfile.from_dict(value).to_dict())

    def validate(self, attrs):
        attrs = super().validate(attrs)
        end = attrs.get("to") or timezone.now().replace(second=0, microsecond=0)
        try:
            start = attrs.get("from") or end - DEFAULT_WINDOW
        except OverflowError:
            raise serializers.ValidationError({"to": "Too early for the default window; give `from` as well."}) from None
        if start >= end:
            raise serializers.ValidationError({"to": "`to` must be later than `from`."})
        if end - start > MAX_WINDOW:
            raise serializers.ValidationError({"from": f"The window may span at most {MAX_WINDOW.days} days."})
        network = attrs["network"]
        request = {
            "network": network.pk,
            "from": start.isoformat(),
            "to": end.isoformat(),
            "changes": attrs.get("changes") or {},
            "sessions": attrs["sessions"],
            "profile": attrs.get("profile") or SessionProfile().to_dict(),
        }
        _planner_says(lambda: plan_check(network, request, start, end), nested=True)
        return {"network": network, "request": request}


def _planner_says(check, *, nested: bool = False):
    """Run a planner check; its ScenarioError becomes a 400 under the field's name.

    `nested` places a path such as `changes.max_current_per_phase_a` as DRF
    nests its own errors: {"changes": {"max_current_per_phase_a": [...]}}.
    """
    try:
        return check()
    except ScenarioError as error:
        head, _, rest = error.field.partition(".")
        if nested and rest:
            raise serializers.ValidationError({head: {rest: [error.problem]}}) from None
        raise serializers.ValidationError({error.field or "non_field_errors": [error.problem]}) from None


class CapacityPlanSerializer(serializers.ModelSerializer):
    """A plan as listed: the question, where its run stands and the answer in one sentence."""

    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = CapacityPlan
        fields = [
            "id", "network", "status", "progress_pct", "answer", "error", "request", "created_by", "created_at",
            "started_at", "finished_at",
        ]
        read_only_fields = fields


class CapacityPlanDetailSerializer(CapacityPlanSerializer):
    """A plan with its full result: network summary, every session, the typical day, the load it was built from."""

    class Meta(CapacityPlanSerializer.Meta):
        fields = [*CapacityPlanSerializer.Meta.fields, "result"]
        read_only_fields = fields


class CapacityPlanFilterSet(django_filters.FilterSet):
    """Plans by network and status."""

    network = related(ChargingNetwork, "network", "Only this network's plans.")

    class Meta:
        model = CapacityPlan
        fields = {"status": ["exact"]}


class CapacityPlanViewSet(
    TenantScopedViewSetMixin, mixins.CreateModelMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Capacity plans: create one (it runs as a task), list them, read one with its result."""

    queryset = CapacityPlan.objects.select_related("network", "created_by")
    serializer_class = CapacityPlanRequestSerializer  # what is written; reads use the plan serializers below
    filterset_class = CapacityPlanFilterSet
    ordering_fields = ["id", "created_at", "status"]

    def get_serializer_class(self):
        if self.action == "create":
            return self.serializer_class
        return CapacityPlanDetailSerializer if self.action == "retrieve" else CapacityPlanSerializer

    @extend_schema(request=CapacityPlanRequestSerializer, responses={201: CapacityPlanDetailSerializer})
    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        plan = plan_create(serializer.validated_data["network"], serializer.validated_data["request"], user=request.user)
        plan.refresh_from_db()  # without a broker the run has happened by now
        answer = CapacityPlanDetailSerializer(plan, context=self.get_serializer_context())
        location = reverse("capacityplan-detail", args=[plan.pk])
        return Response(answer.data, status=status.HTTP_201_CREATED, headers={"Location": location})

