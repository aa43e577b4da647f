"""Routes of the gateway sync API."""

from django.urls import path

from fleet.sync.views import ConfigView, TelemetryView

urlpatterns = [
    path("config", ConfigView.as_view(), name="gateway-config"),
    path("telemetry", TelemetryView.as_view(), name="gateway-telemetry"),
]
