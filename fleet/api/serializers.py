"""Serializers of the operator API: the models' fields, their validation, and tenant-scoped relations.

Validation is the models' own: `TenantScopedModelSerializer.validate` runs
`full_clean()` on the would-be instance, so the API and the admin give the
same messages (e.g. a fallback power no charger can run on) under the same
field names. A key that is not a field of the resource is refused
(`fleet.api.known_fields`), so a misspelt limit is never silently dropped.
"""

import copy
from datetime import UTC, datetime, timedelta

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.settings import api_settings

from fleet.api.downsampling import MAX_BUCKETS, bucket_count
from fleet.api.fields import UtcDateTimeField
from fleet.api.known_fields import KnownFieldsOnlyMixin
from fleet.api.scoping import is_tenant_owned, scope_for_request
from fleet.models import (
    Charger,
    ChargingNetwork,
    Gateway,
    Meter,
    Organization,
    Site,
    TelemetryEvent,
)
from fleet.validators import meter_model_keys
from gateways.protocol import CHARGER_DRIVERS

DEFAULT_TELEMETRY_RANGE = timedelta(hours=24)
"""The range the telemetry endpoint covers when the request gives no `from`."""


class TenantScopedRelationsMixin:
    """Confines every writable relation to a tenant-owned model to the objects the request may use.

    An id of another organisation then fails exactly like an id that does not
    exist ("Invalid pk ... object does not exist"), so writes cannot attach
    objects to foreign data and errors cannot reveal which ids exist.
    `relations_for_editing` is False for read-only inputs such as query
    parameters, where seeing the object is enough.
    """

    relations_for_editing = True

    def get_fields(self):
        fields = super().get_fields()
        request = self.context.get("request")
        for field in fields.values():
            relation = field.child_relation if isinstance(field, serializers.ManyRelatedField) else field
            scoped = isinstance(relation, serializers.RelatedField) and relation.queryset is not None
            if scoped and is_tenant_owned(relation.queryset.model):
                relation.queryset = scope_for_request(relation.queryset, request, editing=self.relations_for_editing)
        return fields


class TenantScopedModelSerializer(KnownFieldsOnlyMixin, TenantScopedRelationsMixin, serializers.ModelSerializer):
    """Base of every writable serializer: unknown keys refused, scoped relations, the model's `full_clean()`."""

    def validate(self, attrs):
        attrs = super().validate(attrs)
        candidate = self._candidate(attrs)
        try:
            candidate.full_clean(exclude=self._unchecked_fields())
        except DjangoValidationError as error:
            raise serializers.ValidationError(_drf_error_detail(error)) from None
        return attrs

    def _candidate(self, attrs):
        """The instance as it would be saved, without touching `self.instance` if validation fails."""
        if self.instance is None:
            return self.Meta.model(**attrs)
        candidate = copy.copy(self.instance)
        for name, value in attrs.items():
            setattr(candidate, name, value)
        return candidate

    def _unchecked_fields(self) -> list[str]:
        """Model fields that are neither written nor checked through this serializer (hashes, counters)."""
        return [field.name for field in self.Meta.model._meta.concrete_fields if not field.editable]


def _drf_error_detail(error: DjangoValidationError) -> dict | list:
    """Django's errors keyed the way DRF keys them (non-field errors under `non_field_errors`)."""
    if not hasattr(error, "error_dict"):
        return {api_settings.NON_FIELD_ERRORS_KEY: error.messages}
    return {
        (api_settings.NON_FIELD_ERRORS_KEY if field == NON_FIELD_ERRORS else field): messages
        for field, messages in error.message_dict.items()
    }


class OrganizationSerializer(serializers.ModelSerializer):
    """An organisation the user belongs to (read only in the API)."""

    class Meta:
        model = Organization
        fields = ["id", "name", "slug", "created_at"]
        read_only_fields = fields


class SiteSerializer(TenantScopedModelSerializer):
    """A site with one house connection."""

    class Meta:
        model = Site
        fields = ["id", "organization", "name", "address", "time_zone", "created_at"]
        read_only_fields = ["created_at"]


class GatewaySerializer(TenantScopedModelSerializer):
    """A site's gateway agent; its token is never shown here, only whether one is active and its prefix."""

    has_active_token = serializers.BooleanField(read_only=True)

    class Meta:
        model = Gateway
        fields = [
            "id", "site", "name", "poll_interval_s", "failsafe_timeout_s", "frozen_after_s", "ocpp_listen", "ocpp_tls_cert",
            "ocpp_tls_key", "has_active_token", "token_prefix",
            "token_revoked_at", "last_seen", "software_version", "acked_seq", "created_at",
        ]
        read_only_fields = [
            "token_prefix", "token_revoked_at", "last_seen", "software_version", "acked_seq", "created_at",
        ]


class GatewayWithTokenSerializer(GatewaySerializer):
    """The answer to creating a gateway: the gateway plus its token in clear, shown this once."""

    token = serializers.CharField(
        read_only=True, help_text="The gateway's token in clear; it is stored hashed and shown only in this answer."
    )

    class Meta(GatewaySerializer.Meta):
        fields = [*GatewaySerializer.Meta.fields, "token"]


class GatewayTokenSerializer(serializers.Serializer):
    """A newly issued gateway token, shown this once."""

    token = serializers.CharField(read_only=True, help_text="Put it into the gateway's config; it is not shown again.")
    token_prefix = serializers.CharField(read_only=True, help_text="First characters, to tell tokens apart later.")


class ChargingNetworkSerializer(TenantScopedModelSerializer):
    """A charging network and the limits its chargers share."""

    class Meta:
        model = ChargingNetwork
        fields = [
            "id", "site", "name", "max_current_per_phase_a", "max_power_w", "fallback_power_w",
            "nominal_voltage_v", "created_at",
        ]
        read_only_fields = ["created_at"]


class MeterSerializer(TenantScopedModelSerializer):
    """A network's grid meter; `model` is a key of the meter catalog (the schema lists them)."""

    model = serializers.ChoiceField(
        choices=meter_model_keys(),
        help_text="Meter model key from the meter catalog.",
        error_messages={"invalid_choice": '"{input}" is not a meter model of the catalog.'},
    )

    class Meta:
        model = Meter
        fields = ["id", "network", "model", "host", "port", "unit_id", "phase_rotation", "timeout_s"]


class ChargerSerializer(TenantScopedModelSerializer):
    """A charging point and how the gateway drives it."""

    driver = serializers.ChoiceField(
        choices=CHARGER_DRIVERS,
        help_text="Charger driver of the gateway agent.",
        error_messages={"invalid_choice": '"{input}" is not a charger driver the gateway ships.'},
    )

    class Meta:
        model = Charger
        fields = [
            "id", "network", "name", "driver", "host", "port", "unit_id", "phase_rotation", "phases",
            "min_current_a", "max_current_a", "priority", "charge_point_id", "connector_id", "password",
        ]
        # The OCPP password is for the charge point and the gateway, never shown back.
        extra_kwargs = {"password": {"write_only": True}}


class TelemetryEventSerializer(serializers.ModelSerializer):
    """An edge a gateway reported."""

    class Meta:
        model = TelemetryEvent
        fields = ["id", "gateway", "network", "seq", "ts", "received_at", "type", "subject", "detail"]
        read_only_fields = fields


class TelemetryQuerySerializer(TenantScopedRelationsMixin, serializers.Serializer):
    """Query parameters of the telemetry endpoint: which samples, which time range, how coarse."""

    relations_for_editing = False  # reading: any organisation the user belongs to

    site = serializers.PrimaryKeyRelatedField(queryset=Site.objects.all(), required=False, help_text="Only this site's gateways.")
    network = serializers.PrimaryKeyRelatedField(
        queryset=ChargingNetwork.objects.all(), required=False, help_text="Only this charging network."
    )
    gateway = serializers.PrimaryKeyRelatedField(queryset=Gateway.objects.all(), required=False, help_text="Only this gateway.")
    charger = serializers.PrimaryKeyRelatedField(
        queryset=Charger.objects.all(),
        required=False,
        help_text="Only this charger's network, and add the charger's mean current and setpoint to every bucket.",
    )
    # `from` is a Python keyword, so the field is declared through the class namespace.
    vars()["from"] = UtcDateTimeField(
        required=False, help_text="Start of the range, inclusive (ISO 8601). Default: 24 hours before `to`."
    )
    to = UtcDateTimeField(required=False, help_text="End of the range, exclusive (ISO 8601). Default: now.")
    resolution_s = serializers.IntegerField(
        min_value=1,
        max_value=86_400,
        default=60,
        help_text=f"Bucket width in seconds, e.g. 10, 60 or 900; the range may span at most {MAX_BUCKETS} buckets.",
    )

    def validate(self, attrs):
        attrs = super().validate(attrs)
        to = attrs.setdefault("to", timezone.now())
        if "from" not in attrs:
            if to - datetime.min.replace(tzinfo=UTC) < DEFAULT_TELEMETRY_RANGE:
                raise serializers.ValidationError({"to": "Too early for the default range; give `from` as well."})
            attrs["from"] = to - DEFAULT_TELEMETRY_RANGE
        start = attrs["from"]
        if start >= to:
            raise serializers.ValidationError({"to": "`to` must be later than `from`."})
        resolution_s = attrs["resolution_s"]
        buckets = bucket_count(start.timestamp(), to.timestamp(), resolution_s)
        if buckets > MAX_BUCKETS:
            raise serializers.ValidationError(
                {
                    "resolution_s": f"The range from {start.isoformat()} to {to.isoformat()} at resolution_s={resolution_s} "
                    f"spans {buckets} buckets; at most {MAX_BUCKETS} are allowed. Choose a larger resolution_s "
                    "or a shorter range."
                }
            )
        return attrs


class TelemetryBucketSerializer(serializers.Serializer):
    """The mean of one network's samples over one time bucket."""

    network = serializers.IntegerField(allow_null=True, help_text="Charging network id (null: sample without a network).")
    ts = serializers.SerializerMethodField(help_text="Start of the bucket (UTC).")
    resolution_s = serializers.SerializerMethodField(help_text="Width of the bucket in seconds.")
    sample_count = serializers.IntegerField(help_text="Samples in the bucket.")
    grid_l1_a = serializers.FloatField(source="avg_grid_l1_a", allow_null=True, help_text="Mean grid current on L1 (A).")
    grid_l2_a = serializers.FloatField(source="avg_grid_l2_a", allow_null=True, help_text="Mean grid current on L2 (A).")
    grid_l3_a = serializers.FloatField(source="avg_grid_l3_a", allow_null=True, help_text="Mean grid current on L3 (A).")
    fallback_share = serializers.FloatField(help_text="Share of the samples taken in fallback mode, 0 to 1.")
    charger_current_a = serializers.SerializerMethodField(
        help_text="With `charger`: its mean current per charger phase (A), null where it reported none."
    )
    charger_setpoint_a = serializers.FloatField(
        source="avg_charger_setpoint_a", default=None, allow_null=True, help_text="With `charger`: its mean setpoint (A)."
    )

    @extend_schema_field(OpenApiTypes.DATETIME)
    def get_ts(self, row) -> datetime:
        return datetime.fromtimestamp(row["bucket_epoch_s"], tz=UTC)

    def get_resolution_s(self, row) -> int:
        return self.context["resolution_s"]

    @extend_schema_field(
        {"type": "array", "items": {"type": "number", "format": "double", "nullable": True}, "minItems": 3, "maxItems": 3,
         "nullable": True}
    )
    def get_charger_current_a(self, row) -> list[float | None] | None:
        means = [row.get(f"avg_charger_l{phase}_a") for phase in (1, 2, 3)]
        return None if all(mean is None for mean in means) else means
