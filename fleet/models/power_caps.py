"""External caps on a network's charging power: grid operator dimming, the operator's own caps, schedules.

A cap travels to the gateway in the site config and is applied there by the
gateway's own clock, so it starts and ends on time even while the server is
unreachable. The rules of a cap are the protocol's
(`gateways.protocol.power_caps.validate_power_cap`); the model adds storage.
"""

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q

from fleet.config_wire import ProtocolChecked, power_cap_wire, protocol_verdict
from fleet.models.networks import ChargingNetwork
from gateways.protocol import ConfigError
from gateways.protocol.limits import MAX_POWER_CAP_REASON_CHARS, POWER_CAP_RANGE_W, POWER_CAP_SOURCES
from gateways.protocol.power_caps import validate_power_cap

_SOURCE_LABELS = {
    "grid_operator": "Grid operator (EnWG section 14a dimming)",
    "operator": "Operator (tariff window, demand peak, maintenance)",
    "schedule": "Schedule",
}
PowerCapSource = models.TextChoices(
    "PowerCapSource", [(code.upper(), (code, _SOURCE_LABELS[code])) for code in POWER_CAP_SOURCES], module=__name__
)
PowerCapSource.__doc__ = "Who set a cap: the codes of `gateways.protocol.limits.POWER_CAP_SOURCES`."


class NetworkPowerCap(ProtocolChecked, models.Model):
    """A cap on the chargers' total power of one network from `start` until `end` (empty: until ended)."""

    tenant_path = "network__site__organization"

    network = models.ForeignKey(ChargingNetwork, on_delete=models.CASCADE, related_name="power_caps")
    source = models.CharField(max_length=20, choices=PowerCapSource.choices)
    power_w = models.PositiveIntegerField(
        validators=[MinValueValidator(POWER_CAP_RANGE_W[0]), MaxValueValidator(POWER_CAP_RANGE_W[1])],
        help_text="Most power the chargers may draw together while the cap holds (W). A grid operator's cap never "
        "holds them below the EnWG section 14a minimum for the network's chargers.",
    )
    start = models.DateTimeField(help_text="When the cap takes effect (by the gateway's clock).")
    end = models.DateTimeField(null=True, blank=True, help_text="When it ends; empty: until someone ends it.")
    reason = models.CharField(max_length=MAX_POWER_CAP_REASON_CHARS, blank=True, help_text="Why, for people.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["network", "start", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(end__isnull=True) | Q(end__gt=F("start")), name="power_cap_end_after_start"),
            models.CheckConstraint(condition=Q(power_w__lte=POWER_CAP_RANGE_W[1]), name="power_cap_power_range"),
        ]
        indexes = [models.Index(fields=["network", "end"], name="power_cap_network_end")]

    def __str__(self) -> str:
        return f"{self.get_source_display()}: {self.power_w} W from {self.start:%Y-%m-%d %H:%M}"

    def clean(self) -> None:
        """The protocol's rules for a cap (times, power, reason length)."""
        super().clean()
        if self.start is not None:
            protocol_verdict(validate_power_cap, power_cap_wire(self), instance=self, time_zone="UTC", error=ConfigError)
