"""Charging networks: the chargers behind one meter and the limits they share."""

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q

from fleet.config_wire import ProtocolChecked, network_limits_wire, protocol_verdict
from fleet.models.sites import Site
from fleet.services.network_limits import ChargerMinimum, network_fallback_error
from gateways.protocol import validate_network_limits
from gateways.protocol.limits import NOMINAL_VOLTAGE_RANGE_V, PER_PHASE_LIMIT_RANGE_A


class ChargingNetwork(ProtocolChecked, models.Model):
    """Chargers regulated together so that the house connection's fuses and the network's power cap hold."""

    tenant_path = "site__organization"

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="networks")
    name = models.CharField(max_length=100)
    max_current_per_phase_a = models.PositiveIntegerField(
        validators=[MinValueValidator(PER_PHASE_LIMIT_RANGE_A[0]), MaxValueValidator(PER_PHASE_LIMIT_RANGE_A[1])],
        help_text="Most current per grid phase at the house connection, house load and chargers together (A).",
    )
    max_power_w = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text="Charging capacity of the whole network (W); empty means only the per-phase limit applies.",
    )
    fallback_power_w = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Power the chargers may share while the meter cannot be read (W); 0 or empty stops charging.",
    )
    nominal_voltage_v = models.PositiveIntegerField(
        default=230,
        validators=[MinValueValidator(NOMINAL_VOLTAGE_RANGE_V[0]), MaxValueValidator(NOMINAL_VOLTAGE_RANGE_V[1])],
        help_text="Phase-to-neutral voltage (V).",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["site__name", "name"]
        constraints = [
            models.UniqueConstraint(fields=["site", "name"], name="network_unique_name_per_site"),
            models.CheckConstraint(
                condition=Q(max_current_per_phase_a__gte=1, max_current_per_phase_a__lte=4000),
                name="network_max_current_per_phase_range",
            ),
            models.CheckConstraint(
                condition=Q(fallback_power_w__isnull=True)
                | Q(max_power_w__isnull=True)
                | Q(fallback_power_w__lte=F("max_power_w")),
                name="network_fallback_within_max_power",
            ),
            models.CheckConstraint(
                condition=Q(nominal_voltage_v__gte=100, nominal_voltage_v__lte=260), name="network_nominal_voltage_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.site} / {self.name}"

    def clean(self) -> None:
        """The protocol's rules for a network's limits, then the fallback power against the chargers already in it."""
        super().clean()
        protocol_verdict(validate_network_limits, network_limits_wire(self), instance=self)
        chargers = self.chargers.all() if self.pk else []
        error = network_fallback_error(self.fallback_power_w, self.nominal_voltage_v, charger_minimums(chargers))
        if error:
            raise ValidationError({"fallback_power_w": error})


def charger_minimums(chargers) -> list[ChargerMinimum]:
    """The minimum-power view of chargers (model instances or anything with the same attributes)."""
    return [ChargerMinimum(str(c.name), int(c.min_current_a), int(c.phases)) for c in chargers]
