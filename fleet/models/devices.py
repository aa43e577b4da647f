"""The devices of a charging network: its grid meter and its chargers."""

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q

from balancing import DEFAULT_MIN_CURRENT_A
from fleet.models.networks import ChargingNetwork, charger_minimums
from fleet.services.network_limits import network_fallback_error
from fleet.validators import PHASE_ROTATION_CHOICES, validate_charger_driver, validate_host, validate_meter_model
from gateways.protocol import DRIVERS_WITHOUT_HOST

MAX_CHARGER_CURRENT_A = 80
"""Highest current a charger may be configured for (A); above this no AC charger exists."""

_port_validators = [MinValueValidator(1), MaxValueValidator(65535)]
_unit_id_validators = [MinValueValidator(0), MaxValueValidator(255)]


class Meter(models.Model):
    """The grid meter at the house connection, read over Modbus TCP; at most one per network."""

    tenant_path = "network__site__organization"

    network = models.OneToOneField(ChargingNetwork, on_delete=models.CASCADE, related_name="meter")
    model = models.CharField(
        max_length=64, validators=[validate_meter_model], help_text="Meter model key from the meter catalog."
    )
    host = models.CharField(max_length=253, validators=[validate_host])
    port = models.PositiveIntegerField(default=502, validators=_port_validators)
    unit_id = models.PositiveSmallIntegerField(default=1, validators=_unit_id_validators)
    phase_rotation = models.CharField(
        max_length=6,
        choices=PHASE_ROTATION_CHOICES,
        default="L1L2L3",
        help_text="How the meter is wired relative to grid L1..L3; it must match the chargers' phase sequence.",
    )
    poll_interval_s = models.FloatField(default=1.0, validators=[MinValueValidator(0.1), MaxValueValidator(60)])
    timeout_s = models.FloatField(default=0.5, validators=[MinValueValidator(0.05), MaxValueValidator(10)])

    class Meta:
        ordering = ["network__site__name", "network__name"]
        constraints = [
            models.CheckConstraint(condition=Q(port__gte=1, port__lte=65535), name="meter_port_range"),
            models.CheckConstraint(condition=Q(unit_id__lte=255), name="meter_unit_id_range"),
            models.CheckConstraint(condition=Q(timeout_s__lt=F("poll_interval_s")), name="meter_timeout_below_poll"),
        ]

    def __str__(self) -> str:
        return f"{self.model} at {self.host}:{self.port}"

    def clean(self) -> None:
        """A read must time out before the next poll is due, or one dead meter would stall the loop."""
        super().clean()
        if self.timeout_s is not None and self.poll_interval_s is not None and self.timeout_s >= self.poll_interval_s:
            raise ValidationError(
                {"timeout_s": f"Timeout ({self.timeout_s} s) must be shorter than the poll interval ({self.poll_interval_s} s)."}
            )


class Charger(models.Model):
    """A charging point in a network, driven by the gateway through one of its charger drivers."""

    tenant_path = "network__site__organization"

    class Phases(models.IntegerChoices):
        """How many phases the charger is wired with."""

        ONE = 1, "1 phase"
        THREE = 3, "3 phases"

    network = models.ForeignKey(ChargingNetwork, on_delete=models.CASCADE, related_name="chargers")
    name = models.CharField(max_length=100)
    driver = models.CharField(max_length=32, validators=[validate_charger_driver], help_text="keba-udp, keba-modbus or simulated.")
    host = models.CharField(max_length=253, blank=True, validators=[validate_host])
    port = models.PositiveIntegerField(null=True, blank=True, validators=_port_validators, help_text="Empty: the driver's default.")
    unit_id = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=_unit_id_validators, help_text="Empty: the driver's default."
    )
    phase_rotation = models.CharField(
        max_length=6,
        choices=PHASE_ROTATION_CHOICES,
        default="L1L2L3",
        help_text="Grid phases on the charger's phases 1..3; L2L3L1 means its phase 1 is grid L2.",
    )
    phases = models.PositiveSmallIntegerField(choices=Phases.choices, default=Phases.THREE)
    min_current_a = models.PositiveSmallIntegerField(
        default=DEFAULT_MIN_CURRENT_A,
        validators=[MinValueValidator(DEFAULT_MIN_CURRENT_A), MaxValueValidator(MAX_CHARGER_CURRENT_A)],
    )
    max_current_a = models.PositiveSmallIntegerField(
        default=16, validators=[MinValueValidator(DEFAULT_MIN_CURRENT_A), MaxValueValidator(MAX_CHARGER_CURRENT_A)]
    )
    priority = models.SmallIntegerField(default=0, help_text="Higher is served first when capacity is short.")

    class Meta:
        ordering = ["network__name", "-priority", "name"]
        constraints = [
            models.UniqueConstraint(fields=["network", "name"], name="charger_unique_name_per_network"),
            models.CheckConstraint(
                condition=Q(min_current_a__gte=DEFAULT_MIN_CURRENT_A)
                & Q(max_current_a__lte=MAX_CHARGER_CURRENT_A)
                & Q(min_current_a__lte=F("max_current_a")),
                name="charger_current_range",
            ),
            models.CheckConstraint(condition=Q(phases__in=[1, 3]), name="charger_phases_one_or_three"),
            models.CheckConstraint(
                condition=Q(port__isnull=True) | Q(port__gte=1, port__lte=65535), name="charger_port_range"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        """Check the current range, the address the driver needs, and the network's fallback with this charger."""
        super().clean()
        errors: dict[str, str] = {}
        if self.min_current_a is not None and self.max_current_a is not None and self.min_current_a > self.max_current_a:
            errors["max_current_a"] = (
                f"Maximum current ({self.max_current_a} A) must be at least the minimum current ({self.min_current_a} A)."
            )
        if self.driver and self.driver not in DRIVERS_WITHOUT_HOST and not self.host:
            errors["host"] = f"The {self.driver} driver needs the charger's IP address or host name."
        if not errors and self.network_id and self.min_current_a is not None and self.phases is not None:
            network = self.network
            others = network.chargers.exclude(pk=self.pk) if self.pk else network.chargers.all()
            error = network_fallback_error(
                network.fallback_power_w, network.nominal_voltage_v, charger_minimums([*others, self])
            )
            if error:
                errors["min_current_a"] = error
        if errors:
            raise ValidationError(errors)
