"""Sites (one house connection each) and the gateway agents that run them."""

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from fleet.config_wire import ProtocolChecked, gateway_wire, protocol_verdict
from fleet.models.tenancy import Organization
from fleet.validators import validate_time_zone
from gateways.protocol import validate_gateway
from gateways.protocol.limits import (
    DEFAULT_FAILSAFE_TIMEOUT_S,
    DEFAULT_FROZEN_AFTER_S,
    DEFAULT_OCPP_PORT,
    DEFAULT_POLL_INTERVAL_S,
    FAILSAFE_TIMEOUT_RANGE_S,
    FROZEN_AFTER_RANGE_S,
    POLL_INTERVAL_RANGE_S,
    meter_timeout_error,
)


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


class Gateway(ProtocolChecked, models.Model):
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
    poll_interval_s = models.FloatField(
        default=DEFAULT_POLL_INTERVAL_S,
        validators=[MinValueValidator(POLL_INTERVAL_RANGE_S[0]), MaxValueValidator(POLL_INTERVAL_RANGE_S[1])],
        help_text="How often the gateway reads its meters and regulates (s); every meter read must time out sooner.",
    )
    failsafe_timeout_s = models.PositiveSmallIntegerField(
        default=DEFAULT_FAILSAFE_TIMEOUT_S,
        validators=[MinValueValidator(FAILSAFE_TIMEOUT_RANGE_S[0]), MaxValueValidator(FAILSAFE_TIMEOUT_RANGE_S[1])],
        help_text="After this long without the gateway, each charger falls back by itself to its failsafe current "
        "(10-600 s, the range KEBA stations accept).",
    )
    frozen_after_s = models.FloatField(
        default=DEFAULT_FROZEN_AFTER_S,
        validators=[MinValueValidator(FROZEN_AFTER_RANGE_S[0]), MaxValueValidator(FROZEN_AFTER_RANGE_S[1])],
        help_text="A meter whose every value stays exactly the same this long counts as frozen, hence lost (s). "
        "Real meters refresh about once a second.",
    )
    ocpp_listen = models.CharField(
        max_length=300, blank=True, default=f"0.0.0.0:{DEFAULT_OCPP_PORT}",
        help_text="Where the gateway's OCPP 1.6J central system listens for charge points (HOST:PORT; empty: "
        f"0.0.0.0:{DEFAULT_OCPP_PORT}); opened only when a network has an OCPP charger.",
    )
    ocpp_tls_cert = models.CharField(
        max_length=300, blank=True,
        help_text="Path on the gateway of the PEM certificate for wss:// (OCPP security profile 2); empty: plain ws://.",
    )
    ocpp_tls_key = models.CharField(max_length=300, blank=True, help_text="Path on the gateway of the certificate's key.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["site__name", "name"]
        constraints = [
            models.UniqueConstraint(fields=["site", "name"], name="gateway_unique_name_per_site"),
            models.CheckConstraint(
                condition=models.Q(failsafe_timeout_s__gte=FAILSAFE_TIMEOUT_RANGE_S[0],
                                   failsafe_timeout_s__lte=FAILSAFE_TIMEOUT_RANGE_S[1]),
                name="gateway_failsafe_timeout_range",
            ),
            models.CheckConstraint(
                condition=models.Q(poll_interval_s__gte=POLL_INTERVAL_RANGE_S[0], poll_interval_s__lte=POLL_INTERVAL_RANGE_S[1]),
                name="gateway_poll_interval_range",
            ),
            models.CheckConstraint(
                condition=models.Q(frozen_after_s__gte=FROZEN_AFTER_RANGE_S[0], frozen_after_s__lte=FROZEN_AFTER_RANGE_S[1]),
                name="gateway_frozen_after_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.site} / {self.name}"

    def clean(self) -> None:
        """The protocol's rules for a gateway, and a poll interval longer than every meter read of its site may take."""
        super().clean()
        protocol_verdict(validate_gateway, gateway_wire(self), instance=self)
        if self.site_id is None or self.poll_interval_s is None:
            return
        from fleet.models.devices import Meter  # devices depend on sites, not the other way round

        for network_name, timeout_s in Meter.objects.filter(network__site_id=self.site_id).values_list(
            "network__name", "timeout_s"
        ):
            if meter_timeout_error(timeout_s, self.poll_interval_s):
                raise ValidationError({
                    "poll_interval_s": f"The poll interval ({self.poll_interval_s:g} s) must be longer than the read "
                    f"timeout of the meter of network {network_name} ({timeout_s:g} s), or one dead meter stalls the loop."
                })

    @property
    def has_active_token(self) -> bool:
        """Whether a token is issued and not revoked."""
        return bool(self.token_hash) and self.token_revoked_at is None


def site_poll_interval_s(site_id: int | None) -> float:
    """The fastest poll interval among a site's gateways (the default without one): each meter read must fit in it."""
    if site_id is None:
        return DEFAULT_POLL_INTERVAL_S
    fastest = Gateway.objects.filter(site_id=site_id).aggregate(models.Min("poll_interval_s"))["poll_interval_s__min"]
    return DEFAULT_POLL_INTERVAL_S if fastest is None else fastest
