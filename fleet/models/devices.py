"""The devices of a charging network: its grid meter and its chargers."""

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q

from balancing import DEFAULT_MIN_CURRENT_A
from fleet.config_wire import ProtocolChecked, charger_wire, meter_wire, protocol_verdict
from fleet.models.networks import ChargingNetwork, charger_minimums
from fleet.models.sites import site_poll_interval_s
from fleet.services.network_limits import network_fallback_error
from fleet.validators import PHASE_ROTATION_CHOICES, validate_charger_driver, validate_host, validate_meter_model
from gateways.protocol import ConfigError, validate_charger, validate_meter
from gateways.protocol.config import drives_same_station
from gateways.protocol.limits import (
    CHARGER_CURRENT_RANGE_A,
    METER_TIMEOUT_RANGE_S,
    OCPP_CONNECTOR_ID_RANGE,
    OCPP_IDENTITY_MAX_LENGTH,
    OCPP_PASSWORD_LENGTH_RANGE,
    PORT_RANGE,
    PRIORITY_RANGE,
    UNIT_ID_RANGE,
)

MAX_CHARGER_CURRENT_A = CHARGER_CURRENT_RANGE_A[1]
"""Highest current a charger may be configured for (A); above this no AC charger exists."""

_port_validators = [MinValueValidator(PORT_RANGE[0]), MaxValueValidator(PORT_RANGE[1])]
_unit_id_validators = [MinValueValidator(UNIT_ID_RANGE[0]), MaxValueValidator(UNIT_ID_RANGE[1])]


class Meter(ProtocolChecked, models.Model):
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
    timeout_s = models.FloatField(
        default=0.5,
        validators=[MinValueValidator(METER_TIMEOUT_RANGE_S[0]), MaxValueValidator(METER_TIMEOUT_RANGE_S[1])],
        help_text="How long one read may take (s); shorter than the poll interval of the site's gateway.",
    )

    class Meta:
        ordering = ["network__site__name", "network__name"]
        constraints = [
            models.CheckConstraint(condition=Q(port__gte=1, port__lte=65535), name="meter_port_range"),
            models.CheckConstraint(condition=Q(unit_id__lte=255), name="meter_unit_id_range"),
            models.CheckConstraint(
                condition=Q(timeout_s__gte=METER_TIMEOUT_RANGE_S[0], timeout_s__lte=METER_TIMEOUT_RANGE_S[1]),
                name="meter_timeout_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.model} at {self.host}:{self.port}"

    def clean(self) -> None:
        """The protocol's rules for a meter, its read timeout against the poll interval of the site's gateway."""
        super().clean()
        site_id = self.network.site_id if self.network_id else None
        protocol_verdict(validate_meter, meter_wire(self), instance=self, poll_interval_s=site_poll_interval_s(site_id))


class Charger(ProtocolChecked, models.Model):
    """A charging point in a network, driven by the gateway through one of its charger drivers."""

    tenant_path = "network__site__organization"

    class Phases(models.IntegerChoices):
        """How many phases the charger is wired with."""

        ONE = 1, "1 phase"
        THREE = 3, "3 phases"

    network = models.ForeignKey(ChargingNetwork, on_delete=models.CASCADE, related_name="chargers")
    name = models.CharField(max_length=100)
    driver = models.CharField(max_length=32, validators=[validate_charger_driver],
                              help_text="keba-udp, keba-modbus, ocpp16 (OCPP 1.6J, dials in to the gateway) or simulated.")
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
    priority = models.SmallIntegerField(
        default=0,
        validators=[MinValueValidator(PRIORITY_RANGE[0]), MaxValueValidator(PRIORITY_RANGE[1])],
        help_text=f"Higher is served first when capacity is short ({PRIORITY_RANGE[0]} to {PRIORITY_RANGE[1]}).",
    )
    charge_point_id = models.CharField(
        max_length=OCPP_IDENTITY_MAX_LENGTH, blank=True,
        help_text="OCPP: the identity the charge point puts in its URL (ws://GATEWAY:8887/<identity>); "
        "empty: the charger's id.",
    )
    connector_id = models.PositiveSmallIntegerField(
        null=True, blank=True,
        validators=[MinValueValidator(OCPP_CONNECTOR_ID_RANGE[0]), MaxValueValidator(OCPP_CONNECTOR_ID_RANGE[1])],
        help_text="OCPP: the connector regulated; empty: 1.",
    )
    password = models.CharField(
        max_length=OCPP_PASSWORD_LENGTH_RANGE[1], blank=True,
        help_text="OCPP: HTTP Basic password the charge point must present (security profile 1/2, "
        f"{OCPP_PASSWORD_LENGTH_RANGE[0]}-{OCPP_PASSWORD_LENGTH_RANGE[1]} characters); empty: none.",
    )

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
            models.CheckConstraint(
                condition=Q(priority__gte=PRIORITY_RANGE[0], priority__lte=PRIORITY_RANGE[1]), name="charger_priority_range"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def _check_station_driven_once(self, mine) -> None:
        """One station, one driver: no other charger of the site may command the same station."""
        others = Charger.objects.filter(network__site_id=self.network.site_id).exclude(pk=self.pk).select_related("network")
        for other in others:
            try:
                theirs = validate_charger(charger_wire(other))
            except ConfigError:
                continue  # an older row the rules have since tightened; its own edit will flag it
            if mine.charge_point_id is not None and mine.charge_point_id == theirs.charge_point_id:
                raise ValidationError({
                    "charge_point_id": f"{mine.charge_point_id!r} is already the identity of "
                    f"{other.network.name}/{other.name}; one charge point identity, one charger."
                })
            if drives_same_station(mine, theirs):
                raise ValidationError({
                    "host": f"{self.host} is already driven as {other.network.name}/{other.name} ({other.driver}); "
                    "one station, one driver."
                })

    def clean(self) -> None:
        """The protocol's rules for a charger, then the network's fallback power with this charger in it."""
        super().clean()
        mine = protocol_verdict(validate_charger, charger_wire(self), instance=self)
        if self.network_id and mine is not None:
            self._check_station_driven_once(mine)
        if self.network_id and self.min_current_a is not None and self.phases is not None:
            network = self.network
            others = network.chargers.exclude(pk=self.pk) if self.pk else network.chargers.all()
            error = network_fallback_error(
                network.fallback_power_w, network.nominal_voltage_v, charger_minimums([*others, self])
            )
            if error:
                raise ValidationError({"min_current_a": error})
