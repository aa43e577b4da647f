"""Telemetry past the raw retention: 5-minute rollups in their own table, and the one series readers query.

After `TELEMETRY_RAW_RETENTION_DAYS` a day of raw samples is folded into one
row per gateway, network and 5-minute bucket (`fleet.services.telemetry_rollup`)
and its partition dropped. Rollups are 288 rows a day per network; on
PostgreSQL they are partitioned by RANGE (ts) per UTC month, so that the
long retention (`TELEMETRY_RETENTION_DAYS`) also leaves by whole partitions.

`TelemetryHistory` is a database view, raw samples UNION ALL rollups, so that
the telemetry API, the site chart's long ranges and the planner read one
series whatever the age of the range. Raw days and folded days never overlap
(a day's rollups are written in the transaction that drops its raw rows), so
no row is counted twice. PostgreSQL pushes a time condition into both halves
of the view, and each half still reads only the partitions in range.
"""

from django.db import models

from fleet.models.networks import ChargingNetwork
from fleet.models.partitioning import PartitionedModel
from fleet.models.sites import Gateway
from fleet.models.telemetry_partitions import ROLLUP_PARTITIONS, monthly_partitions_ensure


class TelemetryRollup(PartitionedModel):
    """The means of one gateway's network over one bucket (5 minutes by default) of raw samples past their retention."""

    tenant_path = "gateway__site__organization"

    id = models.BigAutoField(primary_key=True)
    gateway = models.ForeignKey(Gateway, on_delete=models.CASCADE, related_name="rollups", db_index=False)
    network = models.ForeignKey(
        ChargingNetwork, on_delete=models.CASCADE, null=True, blank=True, related_name="rollups", db_index=False
    )
    ts = models.DateTimeField(help_text="Start of the bucket.")
    resolution_s = models.PositiveIntegerField(help_text="Width of the bucket.")
    first_seq = models.BigIntegerField(help_text="The lowest sequence number folded into this row.")
    sample_count = models.PositiveIntegerField(help_text="Raw samples folded into this row.")
    mode = models.CharField(max_length=16, help_text="'fallback' if any sample of the bucket was, so fallback never vanishes.")
    grid_l1_a = models.FloatField(null=True, blank=True)
    grid_l2_a = models.FloatField(null=True, blank=True)
    grid_l3_a = models.FloatField(null=True, blank=True)
    chargers = models.JSONField(default=dict, help_text="Per charger id: mean current_a per phase, mean setpoint_a, samples.")

    class Meta:
        indexes = [
            models.Index(fields=["network", "ts"], name="telemetry_rollup_network_ts"),
            models.Index(fields=["gateway", "ts"], name="telemetry_rollup_gateway_ts"),
        ]

    @classmethod
    def ensure_partitions(cls, timestamps):
        return monthly_partitions_ensure(ROLLUP_PARTITIONS, timestamps)

    def __str__(self) -> str:
        return f"rollup {self.gateway_id}/{self.network_id} {self.resolution_s} s at {self.ts:%Y-%m-%d %H:%M}"


class TelemetryHistory(models.Model):
    """Raw samples and rollups as one read-only series (a database view): what readers of any age of telemetry query.

    `id` is the sample's id, or minus the rollup's, so that rows stay distinct;
    a raw row has `resolution_s` 0 and `sample_count` 1.
    """

    tenant_path = "gateway__site__organization"

    id = models.BigIntegerField(primary_key=True)
    gateway = models.ForeignKey(Gateway, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+")
    network = models.ForeignKey(ChargingNetwork, on_delete=models.DO_NOTHING, db_constraint=False, null=True,
                                related_name="+")
    ts = models.DateTimeField()
    resolution_s = models.PositiveIntegerField()
    sample_count = models.PositiveIntegerField()
    mode = models.CharField(max_length=16)
    grid_l1_a = models.FloatField(null=True)
    grid_l2_a = models.FloatField(null=True)
    grid_l3_a = models.FloatField(null=True)
    chargers = models.JSONField(default=dict)

    class Meta:
        managed = False
        db_table = "fleet_telemetryhistory"
        verbose_name_plural = "telemetry history"

    def __str__(self) -> str:
        return f"{'rollup' if self.resolution_s else 'sample'} at {self.ts:%Y-%m-%d %H:%M:%S}"
