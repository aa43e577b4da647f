"""The sync endpoints a gateway calls: fetch its config, send its telemetry."""

from __future__ import annotations

from django.conf import settings
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.parsers import BaseParser
from rest_framework.response import Response
from rest_framework.views import APIView

from gateways.protocol import TelemetryError, parse_batch_records
from gateways.protocol.telemetry import MAX_BATCH_ITEMS

from fleet.json_body import BodyTooLarge, JsonBodyInvalid, PayloadTooLarge, declared_length, json_body_read
from fleet.models import Gateway
from fleet.services.site_config import SiteConfigInconsistent, config_etag, site_config_build
from fleet.services.telemetry_ingest import telemetry_ingest, telemetry_network_ids
from fleet.sync.auth import GatewayTokenAuthentication, IsGateway
from fleet.sync.gc_pause import gc_paused
from fleet.sync.last_seen import last_seen_is_fresh
from fleet.sync.throttling import GatewayRateThrottle

VERSION_HEADER = "X-FuseGuard-Version"


class RawJSONParser(BaseParser):
    """The shared bounded JSON reading, with errors reported the sync API's way (400 naming the field, or 413)."""

    media_type = "application/json"

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return json_body_read(
                stream, content_length=declared_length(parser_context), max_bytes=settings.GATEWAY_MAX_BODY_BYTES
            )
        except BodyTooLarge as problem:
            raise PayloadTooLarge(f"{problem} Send fewer items per batch.") from None
        except JsonBodyInvalid as problem:
            raise TelemetryError("(body)", str(problem)) from None


class GatewayView(APIView):
    """Common settings of the sync endpoints."""

    authentication_classes = [GatewayTokenAuthentication]
    permission_classes = [IsGateway]
    throttle_classes = [GatewayRateThrottle]

    def gateway(self) -> Gateway:
        """The calling gateway."""
        return self.request.auth


_config_doc = inline_serializer(
    "SiteConfig",
    {
        "gateway": serializers.DictField(help_text="id (the gateway's stable key), poll_interval_s, failsafe_timeout_s, frozen_after_s"),
        "networks": serializers.ListField(child=serializers.DictField(), help_text="networks with meter and chargers"),
    },
)


class ConfigView(GatewayView):
    """The gateway's site config, the same structure as the agent's TOML file, with an ETag."""

    @extend_schema(
        operation_id="gateway_config",
        parameters=[OpenApiParameter("If-None-Match", str, OpenApiParameter.HEADER, required=False)],
        responses={
            200: _config_doc,
            304: OpenApiResponse(description="Unchanged since the ETag given."),
            409: OpenApiResponse(description="The site's objects do not fit together; the message names the key."),
        },
        tags=["gateway sync"],
    )
    def get(self, request):
        gateway = self.gateway()
        try:
            config = site_config_build(gateway)
        except SiteConfigInconsistent as problem:
            # The agent keeps regulating with its last good config; the operator sees the key to fix.
            return Response({"detail": f"the site's configuration does not fit together: {problem}"},
                            status=status.HTTP_409_CONFLICT)
        etag = config_etag(config)
        _gateway_seen(gateway, etag, request.headers.get(VERSION_HEADER))
        if request.headers.get("If-None-Match") == etag:
            return Response(status=status.HTTP_304_NOT_MODIFIED, headers={"ETag": etag})
        return Response(config, headers={"ETag": etag})


def _gateway_seen(gateway: Gateway, etag: str, version: str | None) -> None:
    """Record the contact, the ETag delivered and the version; no write when none changed and the time is fresh."""
    now = timezone.now()
    changes = {}
    if gateway.config_etag != etag:
        changes["config_etag"] = etag
    if version is not None and gateway.software_version != version[:64]:
        changes["software_version"] = version[:64]
    if changes or not last_seen_is_fresh(gateway.last_seen, now):  # see fleet/sync/last_seen.py
        Gateway.objects.filter(pk=gateway.pk).update(last_seen=now, **changes)


class TelemetryView(GatewayView):
    """Accepts a batch of numbered samples and events; answers the highest contiguous seq stored."""

    parser_classes = [RawJSONParser]

    @extend_schema(
        operation_id="gateway_telemetry",
        request=inline_serializer(
            "TelemetryBatch",
            {
                "gateway": serializers.CharField(required=False, help_text="The sender's key, informational: "
                                                 "the token identifies the gateway."),
                "items": serializers.ListField(child=serializers.DictField(), max_length=MAX_BATCH_ITEMS),
                "gaps": serializers.ListField(child=serializers.ListField(child=serializers.IntegerField()), required=False),
            },
        ),
        responses={
            200: inline_serializer("TelemetryAck", {"acked_seq": serializers.IntegerField()}),
            400: OpenApiResponse(
                description="Malformed batch, refused whole, nothing stored: `detail` says why, `field` names the "
                "field (`items[3].ts`) and `item` the index of the refused item. Times must carry a zone within "
                "+-15:59 and lie from 30 days before to 1 day after the server's clock (times before 2020 come "
                "from an unset clock and are re-stamped with the receive time); each seq once per batch; "
                "networks of the gateway's own site only."
            ),
            413: OpenApiResponse(description=f"More than {MAX_BATCH_ITEMS} items."),
        },
        tags=["gateway sync"],
    )
    def post(self, request):
        with gc_paused():  # thousands of acyclic objects per batch: see fleet/sync/gc_pause.py
            return self._store(request)

    def _store(self, request):
        gateway = self.gateway()
        network_ids = telemetry_network_ids(gateway)
        try:
            data = request.data
            if isinstance(data, dict) and isinstance(data.get("items"), list) and len(data["items"]) > MAX_BATCH_ITEMS:
                return Response(
                    {"detail": f"items: {len(data['items'])} items; at most {MAX_BATCH_ITEMS} per batch"},
                    status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
                )
            # The token identifies the gateway; the batch's `gateway` is informational (it survives renames).
            batch = parse_batch_records(data, now=timezone.now(), networks=network_ids)
        except TelemetryError as problem:
            body = {"detail": str(problem), "field": problem.path}
            if problem.item_index is not None:
                body["item"] = problem.item_index
            return Response(body, status=status.HTTP_400_BAD_REQUEST)
        result = telemetry_ingest(
            gateway, batch, software_version=request.headers.get(VERSION_HEADER, ""), network_ids=network_ids
        )
        return Response({"acked_seq": result.acked_seq})
