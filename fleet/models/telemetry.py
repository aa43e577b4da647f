"""Telemetry from the gateways: one row per network and cycle, and the events (edges) between.

Samples are the volume: PostgreSQL stores them append-only, written with COPY,
with a BRIN index on the time (created in the migration where the database is
PostgreSQL). Each (gateway, seq) is stored once; the gateway's `acked_seq`
tells it how far everything has arrived.
"""

from django.db import models

from gateways.protocol import EVENT_TYPE_LABELS

from fleet.models.networks import ChargingNetwork
from fleet.models.sites import Gateway


class TelemetrySample(models.Model):
    """One regulation cycle of one charging network, as the gateway recorded it."""

    tenant_path = "gateway__site__organization"

    id = models.BigAutoField(primary_key=True)
    # No single-column indexes on the foreign keys: the unique (gateway, seq) and the (network, ts)
    # indexes lead with them and serve the same lookups; each extra index costs every COPY.
    gateway = models.ForeignKey(Gateway, on_delete=models.CASCADE, related_name="samples", db_index=False)
    seq = models.BigIntegerField(help_text="The gateway's sequence number of this item.")
    ts = models.DateTimeField(help_text="When the gateway took the sample.")
    network = models.ForeignKey(
        ChargingNetwork, on_delete=models.CASCADE, null=True, blank=True, related_name="samples", db_index=False
    )
    mode = models.CharField(max_length=16)
    grid_l1_a = models.FloatField(null=True, blank=True)
    grid_l2_a = models.FloatField(null=True, blank=True)
    grid_l3_a = models.FloatField(null=True, blank=True)
    chargers = models.JSONField(
        default=dict, help_text="Per charger id: current_a, setpoint_a, reason, available, failsafe_confirmed."
    )
    resolution_s = models.PositiveIntegerField(
        default=0, help_text="0 for a raw sample; the bucket width for rows made by downsampling."
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["gateway", "seq"], name="telemetry_sample_unique_gateway_seq"),
        ]
        indexes = [models.Index(fields=["network", "ts"], name="telemetry_sample_network_ts")]

    def __str__(self) -> str:
        return f"sample {self.gateway_id}/{self.seq} at {self.ts:%Y-%m-%d %H:%M:%S}"


EventType = models.TextChoices(
    "EventType", [(code.upper(), (code, label)) for code, label in EVENT_TYPE_LABELS.items()], module=__name__
)
EventType.__doc__ = "Edges the gateways report: the codes and texts of `gateways.protocol.EVENT_TYPE_LABELS`."


class TelemetryEvent(models.Model):
    """An edge reported by a gateway: a meter lost or back, a charger unreachable, a failsafe armed..."""

    tenant_path = "gateway__site__organization"

    id = models.BigAutoField(primary_key=True)
    gateway = models.ForeignKey(Gateway, on_delete=models.CASCADE, related_name="events")
    seq = models.BigIntegerField()
    ts = models.DateTimeField()
    received_at = models.DateTimeField(auto_now_add=True)
    network = models.ForeignKey(ChargingNetwork, on_delete=models.SET_NULL, null=True, blank=True, related_name="events")
    type = models.CharField(max_length=32, choices=EventType.choices)
    subject = models.CharField(max_length=100, blank=True, help_text="'meter' or the charger's id.")
    detail = models.TextField(blank=True)

    class Meta:
        ordering = ["-ts", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["gateway", "seq"], name="telemetry_event_unique_gateway_seq"),
        ]
        indexes = [models.Index(fields=["type", "ts"], name="telemetry_event_type_ts")]

    def __str__(self) -> str:
        return f"{self.type} at {self.ts:%Y-%m-%d %H:%M:%S}"


class TelemetryGap(models.Model):
    """Sequence numbers a gateway dropped on purpose (thinned samples while offline), so they count as arrived."""

    gateway = models.ForeignKey(Gateway, on_delete=models.CASCADE, related_name="telemetry_gaps")
    first_seq = models.BigIntegerField()
    last_seq = models.BigIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["gateway", "first_seq"], name="telemetry_gap_unique_start"),
            models.CheckConstraint(condition=models.Q(first_seq__lte=models.F("last_seq")), name="telemetry_gap_ordered"),
        ]

    def __str__(self) -> str:
        return f"gap {self.first_seq}-{self.last_seq}"
