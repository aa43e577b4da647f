"""External caps on a network's charging power: grid operator dimming, the operator's own caps, schedules.

A cap travels to the gateway in the site config and is applied there by the
gateway's own clock, so it starts and ends on time even while the server is
unreachable. The rules of a cap are the protocol's
(`gateways.protocol.power_caps.validate_power_cap`); the model adds storage.
A recurring cap (a tariff window such as "weekdays 17:00-20:00") is kept in
the site's local time and judged by the gateway on the site's wall clock
(`validate_recurring_cap`, `RecurringCapConfig.in_force`).
"""

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q

from fleet.config_wire import ProtocolChecked, power_cap_wire, protocol_verdict, recurring_cap_wire
from fleet.models.networks import ChargingNetwork
from gateways.protocol import ConfigError
from gateways.protocol.limits import (
    MAX_POWER_CAP_REASON_CHARS,
    MAX_RECURRING_CAPS_PER_NETWORK,
    POWER_CAP_RANGE_W,
    POWER_CAP_SOURCES,
)
from gateways.protocol.power_caps import validate_power_cap, validate_recurring_cap

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


def default_recurring_days() -> list[str]:
    """Monday to Friday, the usual tariff window."""
    return ["mon", "tue", "wed", "thu", "fri"]


class NetworkRecurringCap(ProtocolChecked, models.Model):
    """A cap on a network's chargers that comes back every week: on `days`, from `start_time` to `end_time` local time."""

    tenant_path = "network__site__organization"

    network = models.ForeignKey(ChargingNetwork, on_delete=models.CASCADE, related_name="recurring_caps")
    source = models.CharField(max_length=20, choices=PowerCapSource.choices)
    power_w = models.PositiveIntegerField(
        validators=[MinValueValidator(POWER_CAP_RANGE_W[0]), MaxValueValidator(POWER_CAP_RANGE_W[1])],
        help_text="Most power the chargers may draw together inside the window (W).",
    )
    days = models.JSONField(default=default_recurring_days,
                            help_text="Days the window starts on: mon, tue, wed, thu, fri, sat, sun.")
    start_time = models.TimeField(help_text="Local time of the site (its time zone, daylight saving included), HH:MM.")
    end_time = models.TimeField(help_text="Local time; earlier than the start: the window ends the next day.")
    reason = models.CharField(max_length=MAX_POWER_CAP_REASON_CHARS, blank=True, help_text="Why, for people.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["network", "start_time", "id"]
        constraints = [
            models.CheckConstraint(condition=~Q(end_time=F("start_time")), name="recurring_cap_window_not_empty"),
            models.CheckConstraint(condition=Q(power_w__lte=POWER_CAP_RANGE_W[1]), name="recurring_cap_power_range"),
        ]

    def __str__(self) -> str:
        return f"{self.get_source_display()}: {self.power_w} W {','.join(self.days or [])} {self.start_time:%H:%M}-{self.end_time:%H:%M}"

    def clean(self) -> None:
        """The protocol's rules for a recurring cap (days, times, power, reason), and how many a network may have."""
        super().clean()
        if self.start_time is not None and self.end_time is not None:
            checked = protocol_verdict(validate_recurring_cap, recurring_cap_wire(self), instance=self, time_zone="UTC",
                                       error=ConfigError)
            if checked is not None:
                self.days = list(checked.days)  # week order, as the gateway keeps them
        if self.pk is None and self.network_id is not None:
            if NetworkRecurringCap.objects.filter(network_id=self.network_id).count() >= MAX_RECURRING_CAPS_PER_NETWORK:
                raise ValidationError(f"A network may have at most {MAX_RECURRING_CAPS_PER_NETWORK} recurring caps.")
