"""Organisations (the tenants) and who belongs to them."""

from django.conf import settings
from django.db import models

from fleet.validators import validate_time_zone


class Role(models.TextChoices):
    """What a member may do in an organisation: look, operate the sites, or also manage members."""

    VIEWER = "viewer", "Viewer"
    OPERATOR = "operator", "Operator"
    ADMIN = "admin", "Admin"


EDITING_ROLES = (Role.OPERATOR, Role.ADMIN)
"""Roles that may change sites, networks and devices."""


class Organization(models.Model):
    """A customer of the fleet (installer, housing company, fleet operator); the unit of data isolation."""

    tenant_path = ""

    name = models.CharField(max_length=200, unique=True)
    slug = models.SlugField(max_length=80, unique=True, help_text="Short name used in URLs and exports.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    """A user's role in one organisation; a user may belong to several."""

    tenant_path = "organization"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.VIEWER)

    class Meta:
        ordering = ["organization__name", "user__username"]
        constraints = [
            models.UniqueConstraint(fields=["user", "organization"], name="membership_unique_user_per_organization"),
            models.CheckConstraint(condition=models.Q(role__in=Role.values), name="membership_role_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.user} is {self.get_role_display().lower()} of {self.organization}"


class OperatorProfile(models.Model):
    """A person's own settings for the dashboard; a user without one sees the defaults."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="operator_profile")
    time_zone = models.CharField(
        max_length=64, blank=True, validators=[validate_time_zone],
        help_text="Every time on the dashboard in this zone; empty: each site's own zone.",
    )

    def __str__(self) -> str:
        return f"Profile of {self.user}"


class ApiToken(models.Model):
    """A person's token for fleet tools (operator API), shown once and stored only as its SHA-256 hash."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, help_text="What the token is for, e.g. the tool that uses it.")
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    token_prefix = models.CharField(max_length=12, editable=False, help_text="The token's first characters, to recognise it.")
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["user", "name"], name="api_token_unique_name_per_user")]

    def __str__(self) -> str:
        return f"{self.name} ({self.token_prefix}…) of {self.user}"
