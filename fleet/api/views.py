"""Viewsets of the operator API; tenant scoping lives in `TenantScopedViewSetMixin` and nowhere else."""

from django.db import transaction
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from fleet.api import filtersets, serializers
from fleet.api.downsampling import downsample_samples
from fleet.api.permissions import TenantRolePermission
from fleet.api.schema import ResourceTaggedSchema
from fleet.api.scoping import scope_for_request
from fleet.models import (
    Charger,
    ChargingNetwork,
    Gateway,
    Meter,
    Organization,
    Site,
    TelemetryEvent,
    TelemetryHistory,
)
from fleet.services.gateway_tokens import gateway_issue_token, gateway_revoke_token


class TenantScopedViewSetMixin:
    """Confines a viewset to the organisations of the requesting user, by the model's `tenant_path`.

    Objects of other organisations are simply not in the queryset, so list,
    retrieve, update, delete and actions all answer 404 for them alike.
    Writes additionally need an editing role (`TenantRolePermission`).
    """

    permission_classes = [IsAuthenticated, TenantRolePermission]
    schema = ResourceTaggedSchema()

    def get_queryset(self):
        return scope_for_request(super().get_queryset(), self.request)


class TenantScopedViewSet(TenantScopedViewSetMixin, viewsets.ModelViewSet):
    """Base of the read-write endpoints."""


class TenantScopedReadOnlyViewSet(TenantScopedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    """Base of the read-only endpoints."""


class OrganizationViewSet(TenantScopedReadOnlyViewSet):
    """The organisations the user belongs to."""

    queryset = Organization.objects.all()
    serializer_class = serializers.OrganizationSerializer
    filterset_fields = {"slug": ["exact"], "name": ["exact", "icontains"]}
    ordering_fields = ["id", "name", "slug", "created_at"]


class SiteViewSet(TenantScopedViewSet):
    """Sites, one house connection each."""

    queryset = Site.objects.select_related("organization")
    serializer_class = serializers.SiteSerializer
    filterset_class = filtersets.SiteFilterSet
    ordering_fields = ["id", "name", "created_at"]


@extend_schema_view(
    create=extend_schema(
        request=serializers.GatewaySerializer,
        responses={201: serializers.GatewayWithTokenSerializer},
        description="Create a gateway and issue its token; the answer shows the token this once.",
    )
)
class GatewayViewSet(TenantScopedViewSet):
    """Gateway agents; tokens are issued on creation and by rotate-token, and shown only then."""

    queryset = Gateway.objects.select_related("site")
    serializer_class = serializers.GatewaySerializer
    filterset_class = filtersets.GatewayFilterSet
    ordering_fields = ["id", "name", "last_seen", "created_at"]

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with transaction.atomic():
            gateway = serializer.save()
            gateway.token = gateway_issue_token(gateway)
        answer = serializers.GatewayWithTokenSerializer(gateway, context=self.get_serializer_context())
        return Response(answer.data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=serializers.GatewayTokenSerializer)
    @action(detail=True, methods=["post"], url_path="rotate-token")
    def rotate_token(self, request, pk=None):
        """Issue a new token (the old one stops working at once) and show it this once."""
        gateway = self.get_object()
        token = gateway_issue_token(gateway)
        return Response(serializers.GatewayTokenSerializer({"token": token, "token_prefix": gateway.token_prefix}).data)

    @extend_schema(request=None, responses=serializers.GatewaySerializer)
    @action(detail=True, methods=["post"], url_path="revoke-token")
    def revoke_token(self, request, pk=None):
        """Stop the gateway's token from authenticating, e.g. when the box is lost or replaced."""
        gateway = self.get_object()
        gateway_revoke_token(gateway)
        return Response(self.get_serializer(gateway).data)


class ChargingNetworkViewSet(TenantScopedViewSet):
    """Charging networks and their shared limits."""

    queryset = ChargingNetwork.objects.select_related("site")
    serializer_class = serializers.ChargingNetworkSerializer
    filterset_class = filtersets.ChargingNetworkFilterSet
    ordering_fields = ["id", "name", "max_current_per_phase_a", "max_power_w", "created_at"]


class MeterViewSet(TenantScopedViewSet):
    """Grid meters, one per network."""

    queryset = Meter.objects.select_related("network")
    serializer_class = serializers.MeterSerializer
    filterset_class = filtersets.MeterFilterSet
    ordering_fields = ["id", "model", "host"]


class ChargerViewSet(TenantScopedViewSet):
    """Charging points."""

    queryset = Charger.objects.select_related("network")
    serializer_class = serializers.ChargerSerializer
    filterset_class = filtersets.ChargerFilterSet
    ordering_fields = ["id", "name", "priority", "max_current_a"]


class TelemetryEventViewSet(TenantScopedReadOnlyViewSet):
    """Edges the gateways reported: meters lost and restored, chargers unreachable, failsafes armed..."""

    queryset = TelemetryEvent.objects.all()
    serializer_class = serializers.TelemetryEventSerializer
    filterset_class = filtersets.TelemetryEventFilterSet
    ordering_fields = ["ts", "received_at", "id"]


class TelemetryViewSet(TenantScopedViewSetMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """Telemetry samples averaged per network over time buckets of `resolution_s` seconds."""

    queryset = TelemetryHistory.objects.all()  # raw samples, and rollups past the raw retention
    serializer_class = serializers.TelemetryBucketSerializer
    filter_backends: list = []  # the query serializer filters; buckets are ordered by time

    @extend_schema(parameters=[serializers.TelemetryQuerySerializer])
    def list(self, request, *args, **kwargs):
        query = serializers.TelemetryQuerySerializer(data=request.query_params, context=self.get_serializer_context())
        query.is_valid(raise_exception=True)
        params = query.validated_data
        samples = self.get_queryset().filter(ts__gte=params["from"], ts__lt=params["to"])
        for name, lookup in (("site", "gateway__site"), ("network", "network"), ("gateway", "gateway")):
            if params.get(name) is not None:
                samples = samples.filter(**{lookup: params[name]})
        charger = params.get("charger")
        if charger is not None:
            samples = samples.filter(network=charger.network_id)
        rows = downsample_samples(samples, params["resolution_s"], charger.pk if charger else None)
        page = self.paginate_queryset(rows)
        context = {**self.get_serializer_context(), "resolution_s": params["resolution_s"]}
        return self.get_paginated_response(serializers.TelemetryBucketSerializer(page, many=True, context=context).data)
