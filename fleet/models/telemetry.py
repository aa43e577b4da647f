"""Telemetry from the gateways: one row per network and cycle, and the events (edges) between.

Samples are the volume: PostgreSQL stores them append-only, written with COPY,
in a table partitioned by RANGE (ts) with one partition per UTC day (migration
0013; SQLite keeps a plain table). Why a day: at 1 s per network a site writes
86,400 rows a day, so 10,000 sites make ~0.9 billion rows (~150 GB with
indexes) a day. A daily partition keeps each partition's indexes small enough
to stay in memory while it is written, lets raw retention (7 days) leave by
whole days with one DROP each, and keeps the number of partitions a query
that cannot prune touches (the per-gateway seq lookups) around 10-40; hourly
partitions would multiply that by 24 for no gain at this retention, monthly
ones would make the written partition's indexes outgrow memory and hold raw
rows 3 weeks past their retention.

Exactly once per (gateway, seq) under partitioning: PostgreSQL refuses a
unique index on a partitioned table that lacks the partition key, so the
database holds UNIQUE (gateway, seq, ts) (and PRIMARY KEY (id, ts); Django
keeps `id` as its primary key). That alone refuses the same item sent twice,
since a resent item carries its original ts. The rest is the ingest's job
(`fleet.services.telemetry_ingest`): it serialises each gateway's batches by
locking the gateway row, drops items at or below the gateway's acknowledged
mark, and when anything above the mark is already stored (the out-of-order
path) it looks up which of the batch's seqs are stored, in any partition and
whatever their ts, and writes only the others. So an item with a stored seq is
never stored twice, even with a different ts.

Events follow the same design with monthly partitions (a few events a day
per site; nothing refers to them by foreign key). Rollups of old samples live
in `fleet.models.telemetry_rollups`.

Each (gateway, seq) is stored once; the gateway's `acked_seq` tells it how far
everything has arrived.
"""

from django.db import models

from gateways.protocol import EVENT_TYPE_LABELS

from fleet.models.networks import ChargingNetwork
from fleet.models.partitioning import PartitionedModel
from fleet.models.sites import Gateway
from fleet.models.telemetry_partitions import EVENT_PARTITIONS, monthly_partitions_ensure, sample_partitions_ensure

class TelemetrySample(PartitionedModel):
    """One regulation cycle of one charging network, as the gateway recorded it."""

    tenant_path = "gateway__site__organization"

    id = models.BigAutoField(primary_key=True)
    # No single-column indexes on the foreign keys: the unique (gateway, seq, ts) and the (network, ts)
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
            # With the partition key: see the module's docstring for how (gateway, seq) stays unique.
            models.UniqueConstraint(fields=["gateway", "seq", "ts"], name="telemetry_sample_unique_gateway_seq_ts"),
        ]
        indexes = [models.Index(fields=["network", "ts"], name="telemetry_sample_network_ts")]

    @classmethod
    def ensure_partitions(cls, timestamps):
        return sample_partitions_ensure(timestamps)

    def __str__(self) -> str:
        return f"sample {self.gateway_id}/{self.seq} at {self.ts:%Y-%m-%d %H:%M:%S}"


EventType = models.TextChoices(
    "EventType", [(code.upper(), (code, label)) for code, label in EVENT_TYPE_LABELS.items()], module=__name__
)
EventType.__doc__ = "Edges the gateways report: the codes and texts of `gateways.protocol.EVENT_TYPE_LABELS`."


class TelemetryEvent(PartitionedModel):
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
            # With the partition key, as for samples: the ingest leaves out stored seqs (module docstring).
            models.UniqueConstraint(fields=["gateway", "seq", "ts"], name="telemetry_event_unique_gateway_seq_ts"),
        ]
        indexes = [models.Index(fields=["type", "ts"], name="telemetry_event_type_ts")]

    @classmethod
    def ensure_partitions(cls, timestamps):
        return monthly_partitions_ensure(EVENT_PARTITIONS, timestamps)

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
