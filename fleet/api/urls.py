"""Routes of the operator API (kebab-case plurals); a new endpoint is one `register` line."""

from rest_framework.routers import DefaultRouter

from fleet.api import alerts, plans, power_caps, views

router = DefaultRouter()
router.register("organizations", views.OrganizationViewSet)
router.register("sites", views.SiteViewSet)
router.register("gateways", views.GatewayViewSet)
router.register("charging-networks", views.ChargingNetworkViewSet)
router.register("meters", views.MeterViewSet)
router.register("chargers", views.ChargerViewSet)
router.register("telemetry", views.TelemetryViewSet, basename="telemetry")
router.register("events", views.TelemetryEventViewSet)
router.register("alerts", alerts.IncidentViewSet)
router.register("plans", plans.CapacityPlanViewSet)
router.register("networks", power_caps.NetworkLimitsViewSet, basename="network-limits")

urlpatterns = router.urls
