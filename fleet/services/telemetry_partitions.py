"""Creating the telemetry partitions ahead of the data, so the ingest's hot path only ever finds them.

A periodic task (hourly) makes sure of yesterday's partition up to three
days ahead: a day's partition exists three days before its first sample, and
a beat that stops for less than that costs nothing. Samples for other days
(late uploads up to 30 days back, a clock one day ahead) get their partition
on demand from the ingest (`fleet.models.telemetry.sample_partitions_ensure`).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.utils import timezone

from fleet.models.partitioning import partitions_ensure
from fleet.models.telemetry_partitions import SAMPLE_PARTITIONS

DAYS_BEHIND = 1
DAYS_AHEAD = 3


def telemetry_partitions_create_ahead(now: datetime | None = None) -> list[date]:
    """Make sure the day partitions from yesterday to three days ahead exist; returns the days created."""
    now = now or timezone.now()
    days = [SAMPLE_PARTITIONS.start_of(now + timedelta(days=offset)) for offset in range(-DAYS_BEHIND, DAYS_AHEAD + 1)]
    return partitions_ensure(SAMPLE_PARTITIONS, days)
