"""Sites (one house connection each) and the gateway agents that run them."""

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from fleet.models.tenancy import Organization
from fleet.validators import validate_time_zone


class Site(models.Model):
    """A place with one house connection: one gateway regulates its charging networks."""

    tenant_path = "organization"

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="sites")
    name = models.CharField(max_length=200)
    address = models.TextField(blank=True)
    time_zone = models.CharField(max_length=64, default="Europe/Berlin", validators=[validate_time_zone])
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["organization__name", "name"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="site_unique_name_per_organization"),
        ]

    def __str__(self) -> str:
        return self.name


class Gateway(models.Model):
    """The on-site agent of a site; it authenticates with a token of which only a hash is stored."""

    tenant_path = "site__organization"

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="gateways")
    name = models.CharField(max_length=100)
    token_hash = models.CharField(max_length=64, unique=True, null=True, blank=True, editable=False)
    token_prefix = models.CharField(
        max_length=12, blank=True, editable=False, help_text="First characters of the token, to tell tokens apart."
    )
    token_revoked_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_seen = models.DateTimeField(null=True, blank=True, editable=False)
    software_version = models.CharField(max_length=64, blank=True, editable=False)
    acked_seq = models.BigIntegerField(
        default=0, editable=False, help_text="Every telemetry item up to this sequence number has arrived."
    )
    config_etag = models.CharField(max_length=80, blank=True, editable=False, help_text="ETag of the config last fetched.")
    failsafe_timeout_s = models.PositiveSmallIntegerField(
        default=60,
        validators=[MinValueValidator(10), MaxValueValidator(600)],
        help_text="After this long without the gateway, each charger falls back by itself to its failsafe current "
        "(10-600 s, the range KEBA stations accept).",
    )
    stale_after_polls = models.PositiveSmallIntegerField(
        default=3,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text="A meter whose values stay exactly the same for this many reads counts as frozen (lost).",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["site__name", "name"]
        constraints = [
            models.UniqueConstraint(fields=["site", "name"], name="gateway_unique_name_per_site"),
            models.CheckConstraint(
                condition=models.Q(failsafe_timeout_s__gte=10, failsafe_timeout_s__lte=600),
                name="gateway_failsafe_timeout_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.site} / {self.name}"

    @property
    def has_active_token(self) -> bool:
        """Whether a token is issued and not revoked."""
        return bool(self.token_hash) and self.token_revoked_at is None
