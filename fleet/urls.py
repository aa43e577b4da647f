"""URL routes of the fleet server."""

from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from fleet.api.metrics import metrics_view

admin.site.site_header = "FuseGuard fleet"
admin.site.site_title = "FuseGuard"
admin.site.index_title = "Sites, charging networks and their limits"



class FaviconView(RedirectView):
    """Browsers ask for /favicon.ico on pages that name no icon (admin, API docs): send them to the dashboard's."""

    permanent = True

    def get_redirect_url(self, *args, **kwargs):
        return static("fleet/favicon.svg")


urlpatterns = [
    path("favicon.ico", FaviconView.as_view(), name="favicon"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("fleet.api.urls")),
    path("api/gateway/v1/", include("fleet.sync.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("metrics", metrics_view, name="metrics"),
    path("", include("fleet.dashboard.urls")),
]
