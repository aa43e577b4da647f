"""The latest known state of each network, meter and charger, kept apart from the telemetry history.

The dashboard and the alert evaluation read these small tables instead of
scanning samples; ingestion updates them with the newest item of each batch.
"""

from django.db import models

from fleet.models.devices import Charger, Meter
from fleet.models.networks import ChargingNetwork


class NetworkMode(models.TextChoices):
    """How a network is being regulated."""

    NORMAL = "normal", "Normal"
    FALLBACK = "fallback", "Fallback (meter unreadable)"


class NetworkState(models.Model):
    """The newest sample's view of a network."""

    tenant_path = "network__site__organization"

    network = models.OneToOneField(ChargingNetwork, on_delete=models.CASCADE, primary_key=True, related_name="state")
    mode = models.CharField(max_length=16, choices=NetworkMode.choices, default=NetworkMode.NORMAL)
    grid_current_a = models.JSONField(null=True, blank=True)
    headroom_a = models.JSONField(null=True, blank=True)
    sample_ts = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.network}: {self.mode}"


class MeterState(models.Model):
    """Whether the gateway can read the meter, and since when."""

    tenant_path = "meter__network__site__organization"

    meter = models.OneToOneField(Meter, on_delete=models.CASCADE, primary_key=True, related_name="state")
    available = models.BooleanField(default=True)
    last_reading_at = models.DateTimeField(null=True, blank=True, help_text="Time of the newest sample with grid values.")
    lost_since = models.DateTimeField(null=True, blank=True)
    detail = models.TextField(blank=True)

    def __str__(self) -> str:
        return f"{self.meter}: {'available' if self.available else 'lost'}"


class ChargerState(models.Model):
    """The newest sample's view of a charger."""

    tenant_path = "charger__network__site__organization"

    charger = models.OneToOneField(Charger, on_delete=models.CASCADE, primary_key=True, related_name="state")
    available = models.BooleanField(default=True)
    setpoint_a = models.FloatField(null=True, blank=True)
    current_a = models.JSONField(null=True, blank=True)
    reason = models.CharField(max_length=64, blank=True)
    failsafe_confirmed = models.BooleanField(
        null=True, blank=True, help_text="Whether the charger's own watchdog is armed and read back; empty if unknown."
    )
    sample_ts = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.charger}: {self.setpoint_a} A ({self.reason})"
