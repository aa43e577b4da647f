"""Which telemetry table is partitioned how on PostgreSQL, and making sure of the partitions rows need.

Samples by UTC day (why: `fleet.models.telemetry`), events and rollups by UTC
month (a few hundred rows a day per site; retention takes them by the month).
"""

from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from fleet.models.partitioning import RangePartitioned, partitions_ensure

SAMPLE_PARTITIONS = RangePartitioned("fleet_telemetrysample", "day")
"""The samples' partitions: one per UTC day."""
EVENT_PARTITIONS = RangePartitioned("fleet_telemetryevent", "month")
"""The events' partitions: one per UTC month."""
ROLLUP_PARTITIONS = RangePartitioned("fleet_telemetryrollup", "month")
"""The rollups' partitions: one per UTC month."""


def sample_partitions_ensure(timestamps: Iterable[datetime]) -> list:
    """Create the day partitions these sample times need (no-op where they exist, and on SQLite)."""
    days = {SAMPLE_PARTITIONS.start_of(ts) for ts in timestamps}
    # Partitions from the raw retention's horizon on are never dropped: this process may remember them.
    trust_since = (timezone.now() - timedelta(days=settings.TELEMETRY_RAW_RETENTION_DAYS - 1)).date()
    return partitions_ensure(SAMPLE_PARTITIONS, days, trust_since=trust_since)


def monthly_partitions_ensure(partitioned: RangePartitioned, timestamps: Iterable[datetime]) -> list:
    """Create the month partitions these times need (events and rollups; no-op on SQLite)."""
    months = {partitioned.start_of(ts) for ts in timestamps}
    # Months after the one the retention reaches into are never dropped: this process may remember them.
    trust_since = partitioned.next_start(
        partitioned.start_of(timezone.now() - timedelta(days=settings.TELEMETRY_RETENTION_DAYS))
    )
    return partitions_ensure(partitioned, months, trust_since=trust_since)
