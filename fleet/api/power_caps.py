"""Operator API for a network's external power caps: set one now or scheduled, list them, read the record.

`/api/v1/networks/{id}/limits/` (GET: the caps not yet ended; POST: a new
cap), `/api/v1/networks/{id}/limits/{cap_id}/` (GET: one cap; DELETE:
withdraw a cap that has not started), `/api/v1/networks/{id}/limits/{cap_id}/end/`
(POST: end a cap in force now) and
`/api/v1/networks/{id}/limits/recurring/` (GET, POST) and
`/api/v1/networks/{id}/limits/recurring/{id}/` (GET, DELETE): weekly windows
such as "weekdays 17:00-20:00" in the site's local time, and
`/api/v1/networks/{id}/limits/history/?from=&to=` (what the gateway applied,
from its events; JSON, or CSV with `?format=csv` or `Accept: text/csv`). The
network is looked up through the same tenant scoping as every other
endpoint, and a cap only among that network's caps, so another
organisation's network or cap is a 404.
"""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from django.db.models import Q
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.renderers import BaseRenderer, BrowsableAPIRenderer, JSONRenderer
from rest_framework.response import Response

from fleet.api.fields import UtcDateTimeField
from fleet.api.serializers import TenantScopedModelSerializer
from fleet.api.views import TenantScopedViewSetMixin
from fleet.models import ChargingNetwork, NetworkPowerCap, NetworkRecurringCap
from gateways.protocol.limits import WEEKDAYS
from fleet.services.power_cap_end import CapNotChanged, power_cap_end, power_cap_withdraw
from fleet.services.power_cap_history import power_cap_history

DEFAULT_HISTORY_RANGE = timedelta(days=30)
MAX_HISTORY_RANGE = timedelta(days=800)
"""The record covers up to two years (and a little), what a grid operator may ask to see."""

HISTORY_FIELDS = ["source", "power_w", "start", "end", "detail"]


class PowerCapSerializer(TenantScopedModelSerializer):
    """A cap on a network's power; `start` defaults to now, `end` to never."""

    start = UtcDateTimeField(required=False, help_text="When the cap takes effect (ISO 8601). Default: now.")
    end = UtcDateTimeField(required=False, allow_null=True, help_text="When it ends (ISO 8601). Default: never.")

    class Meta:
        model = NetworkPowerCap
        fields = ["id", "network", "source", "power_w", "start", "end", "reason", "created_at"]
        read_only_fields = ["id", "network", "created_at"]

    def validate(self, attrs):
        attrs = {**attrs, "network": self.context["network"]}
        attrs.setdefault("start", timezone.now())
        return super().validate(attrs)


class RecurringCapSerializer(TenantScopedModelSerializer):
    """A weekly window on a network's power; times are the site's local time (its `time_zone`)."""

    days = serializers.ListField(child=serializers.CharField(), help_text=f"Days the window starts on: {', '.join(WEEKDAYS)}.")
    start_time = serializers.TimeField(format="%H:%M", help_text="Local time, HH:MM.")
    end_time = serializers.TimeField(format="%H:%M", help_text="Local time, HH:MM; earlier than start_time: the next day.")

    class Meta:
        model = NetworkRecurringCap
        fields = ["id", "network", "source", "power_w", "days", "start_time", "end_time", "reason", "created_at"]
        read_only_fields = ["id", "network", "created_at"]

    def validate_days(self, days: list[str]) -> list[str]:
        # Week order, as the gateway keeps them; anything else the protocol's check (model clean) names.
        return sorted(days, key=WEEKDAYS.index) if set(days) <= set(WEEKDAYS) else days

    def validate(self, attrs):
        return super().validate({**attrs, "network": self.context["network"]})


class HistoryQuerySerializer(serializers.Serializer):
    """The time range of the record."""

    vars()["from"] = UtcDateTimeField(required=False, help_text="Start, inclusive (ISO 8601). Default: 30 days before `to`.")
    to = UtcDateTimeField(required=False, help_text="End, exclusive (ISO 8601). Default: now.")

    def validate(self, attrs):
        to = attrs.setdefault("to", timezone.now())
        start = attrs.setdefault("from", to - DEFAULT_HISTORY_RANGE)
        if start >= to:
            raise serializers.ValidationError({"to": "`to` must be later than `from`."})
        if to - start > MAX_HISTORY_RANGE:
            raise serializers.ValidationError({"from": f"The range may span at most {MAX_HISTORY_RANGE.days} days."})
        return attrs


class HistoryRowSerializer(serializers.Serializer):
    """One interval: a source held the chargers to a power from `start` to `end` (null: still in force)."""

    source = serializers.CharField(help_text="Who set it: 14a-control-box, grid_operator:<id>, operator:<id>, schedule:<id>.")
    power_w = serializers.IntegerField(allow_null=True, help_text="The power the chargers were held to (W).")
    start = serializers.DateTimeField()
    end = serializers.DateTimeField(allow_null=True)
    detail = serializers.CharField(help_text="The gateway's words: reason code and cause (signal, input unreadable...).")


class CsvRenderer(BaseRenderer):
    """The record as CSV, one interval per row, for the grid operator's files."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        out = io.StringIO()
        if isinstance(data, list):
            writer = csv.DictWriter(out, fieldnames=HISTORY_FIELDS, extrasaction="ignore", lineterminator="\n")
            writer.writeheader()
            writer.writerows(data)
        else:  # an error answer
            out.write("error\n")
            out.write(f"{data}\n")
        return out.getvalue().encode(self.charset)


class NetworkLimitsViewSet(TenantScopedViewSetMixin, viewsets.GenericViewSet):
    """External caps of charging networks (EnWG section 14a dimming, operators' caps, schedules) and their record."""

    queryset = ChargingNetwork.objects.select_related("site")
    serializer_class = PowerCapSerializer
    filter_backends: list = []

    @extend_schema(request=PowerCapSerializer, responses=PowerCapSerializer(many=True))
    @action(detail=True, methods=["get", "post"], url_path="limits")
    def limits(self, request, pk=None):
        """GET: the network's caps not yet ended. POST: set a cap now (no `start`) or scheduled."""
        network = self.get_object()
        context = {**self.get_serializer_context(), "network": network}
        if request.method == "POST":
            serializer = PowerCapSerializer(data=request.data, context=context)
            serializer.is_valid(raise_exception=True)
            serializer.save()
            return Response(serializer.data, status=status.HTTP_201_CREATED)
        caps = network.power_caps.filter(Q(end__isnull=True) | Q(end__gt=timezone.now())).order_by("start", "pk")
        return Response(PowerCapSerializer(caps, many=True, context=context).data)

    def _cap(self, network: ChargingNetwork, cap_pk: str) -> NetworkPowerCap:
        """One of the network's caps, or 404 (whoever may see the network may see its caps)."""
        try:
            return network.power_caps.get(pk=cap_pk)
        except NetworkPowerCap.DoesNotExist:
            raise NotFound("No such cap on this network.") from None

    @extend_schema(request=None, responses={200: PowerCapSerializer, 204: None, 409: None})
    @action(detail=True, methods=["get", "delete"], url_path=r"limits/(?P<cap_pk>[0-9]+)")
    def cap(self, request, pk=None, cap_pk=None):
        """GET: one cap. DELETE: withdraw a cap that has not started (one that has is on record: end it instead)."""
        network = self.get_object()
        cap = self._cap(network, cap_pk)
        if request.method == "DELETE":
            try:
                power_cap_withdraw(cap)
            except CapNotChanged as refusal:
                return Response({"detail": str(refusal), "state": refusal.state.value}, status=status.HTTP_409_CONFLICT)
            return Response(status=status.HTTP_204_NO_CONTENT)
        context = {**self.get_serializer_context(), "network": network}
        return Response(PowerCapSerializer(cap, context=context).data)

    @extend_schema(request=None, responses={200: PowerCapSerializer, 409: None})
    @action(detail=True, methods=["post"], url_path=r"limits/(?P<cap_pk>[0-9]+)/end")
    def end_cap(self, request, pk=None, cap_pk=None):
        """End a cap in force now: it leaves the site config, so the gateway lifts it at its next config poll.

        A cap already ended, or not started yet (withdraw it with DELETE), is a 409.
        """
        network = self.get_object()
        cap = self._cap(network, cap_pk)
        try:
            power_cap_end(cap)
        except CapNotChanged as refusal:
            return Response({"detail": str(refusal), "state": refusal.state.value}, status=status.HTTP_409_CONFLICT)
        except NetworkPowerCap.DoesNotExist:  # withdrawn meanwhile
            raise NotFound("No such cap on this network.") from None
        context = {**self.get_serializer_context(), "network": network}
        return Response(PowerCapSerializer(cap, context=context).data)

    @extend_schema(request=RecurringCapSerializer, responses=RecurringCapSerializer(many=True))
    @action(detail=True, methods=["get", "post"], url_path="limits/recurring", serializer_class=RecurringCapSerializer)
    def recurring(self, request, pk=None):
        """GET: the network's weekly windows. POST: a new one; it reaches the gateway with the next config poll."""
        network = self.get_object()
        context = {**self.get_serializer_context(), "network": network}
        if request.method == "POST":
            serializer = RecurringCapSerializer(data=request.data, context=context)
            serializer.is_valid(raise_exception=True)
            serializer.save()
            return Response(serializer.data, status=status.HTTP_201_CREATED)
        caps = network.recurring_caps.order_by("start_time", "pk")
        return Response(RecurringCapSerializer(caps, many=True, context=context).data)

    @extend_schema(request=None, responses={200: RecurringCapSerializer, 204: None})
    @action(detail=True, methods=["get", "delete"], url_path=r"limits/recurring/(?P<recurring_pk>[0-9]+)",
            serializer_class=RecurringCapSerializer)
    def recurring_cap(self, request, pk=None, recurring_pk=None):
        """GET: one weekly window. DELETE: remove it; the gateway drops it at its next config poll."""
        network = self.get_object()
        try:
            cap = network.recurring_caps.get(pk=recurring_pk)
        except NetworkRecurringCap.DoesNotExist:
            raise NotFound("No such recurring cap on this network.") from None
        if request.method == "DELETE":
            cap.delete()
            return Response(status=status.HTTP_204_NO_CONTENT)
        context = {**self.get_serializer_context(), "network": network}
        return Response(RecurringCapSerializer(cap, context=context).data)

    @extend_schema(parameters=[HistoryQuerySerializer], responses=HistoryRowSerializer(many=True))
    @action(detail=True, methods=["get"], url_path="limits/history",
            renderer_classes=[JSONRenderer, CsvRenderer, BrowsableAPIRenderer])
    def history(self, request, pk=None):
        """What the gateway applied and when, from its events: the grid operator's proof."""
        network = self.get_object()
        query = HistoryQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        rows = power_cap_history(network, query.validated_data["from"], query.validated_data["to"])
        return Response(HistoryRowSerializer(rows, many=True).data)
