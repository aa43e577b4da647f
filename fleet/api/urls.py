"""Routes of the operator API (kebab-case plurals)."""

from rest_framework.routers import DefaultRouter

router = DefaultRouter()

urlpatterns = router.urls
