"""Django app configuration for the fleet models, admin and API."""

from django.apps import AppConfig


class FleetConfig(AppConfig):
    """The one Django app holding FuseGuard's fleet data."""

    name = "fleet"
    verbose_name = "FuseGuard fleet"
    default_auto_field = "django.db.models.BigAutoField"
