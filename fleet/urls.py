"""URL routes of the fleet server."""

from django.contrib import admin
from django.urls import path

admin.site.site_header = "FuseGuard fleet"
admin.site.site_title = "FuseGuard"
admin.site.index_title = "Sites, charging networks and their limits"

urlpatterns = [
    path("admin/", admin.site.urls),
]
