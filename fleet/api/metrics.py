"""`/metrics`: the fleet's Prometheus metrics for a scraper holding METRICS_TOKEN (404 while no token is set)."""

from __future__ import annotations

import hmac

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from fleet.services.metrics_collect import metrics_registry


@require_GET
def metrics_view(request: HttpRequest) -> HttpResponse:
    """Answer a scrape in the Prometheus text format if it carries `Authorization: Bearer <METRICS_TOKEN>`."""
    token = settings.METRICS_TOKEN
    if not token:
        raise Http404("metrics are disabled: set METRICS_TOKEN")  # not even telling that they exist
    offered = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    if not hmac.compare_digest(offered.encode(), token.encode()):
        response = HttpResponse("a valid bearer token is required\n", status=401, content_type="text/plain")
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return HttpResponse(generate_latest(metrics_registry()), content_type=CONTENT_TYPE_LATEST)
