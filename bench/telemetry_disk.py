"""Disk per site-day: what realistic telemetry occupies in PostgreSQL, table, TOAST and indexes included.

Starts a throwaway PostgreSQL (as the tests do), migrates it, creates one site
with one network of two chargers and its gateway, and stores N items (default
50,000) through the ingest service in batches of 15, as a gateway polling every
second and uploading every 15 s sends them (tests/telemetry_builders.py: values
that move like a site's, a meter_lost/restored pair every ~1,000 items). The
growth of pg_total_relation_size over the samples and events tables (summed over
their partitions, should they be partitioned) divided by the items stored gives
bytes per item; 86,400 samples a day per network at a 1 s poll gives the
figure per site-day, printed for the other poll intervals too.

Run: .venv/bin/python bench/telemetry_disk.py [--items N] [--batch-items K]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.machine import describe  # noqa: E402
from tests.services import ThrowawayPostgres  # noqa: E402

SECONDS_PER_DAY = 86_400


def relation_bytes(cursor, table: str) -> dict[str, int]:
    """Bytes of a table and all its partitions (a plain table is its own only member): table with TOAST, indexes."""
    cursor.execute(
        "WITH members AS (SELECT relid FROM pg_partition_tree(%s::regclass) WHERE isleaf"
        " UNION SELECT oid FROM pg_class WHERE oid = %s::regclass AND relkind = 'r')"
        " SELECT coalesce(sum(pg_table_size(relid)), 0), coalesce(sum(pg_indexes_size(relid)), 0) FROM members",
        [table, table],
    )
    table_bytes, index_bytes = cursor.fetchone()
    return {"table": int(table_bytes), "indexes": int(index_bytes)}


def measure(items: int, batch_items: int) -> dict:
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    from django.db import connection
    from django.utils import timezone

    from fleet.models import Charger, ChargingNetwork, Gateway, Organization, Site, TelemetryEvent, TelemetrySample
    from fleet.services.telemetry_ingest import telemetry_ingest, telemetry_network_ids
    from gateways.protocol import parse_batch_records
    from tests.telemetry_builders import batch_of, realistic_items

    organization = Organization.objects.create(name="Disk", slug="disk")
    site = Site.objects.create(organization=organization, name="site")
    network = ChargingNetwork.objects.create(site=site, name="main", max_current_per_phase_a=32)
    for name in ("cp1", "cp2"):
        Charger.objects.create(network=network, name=name, driver="simulated", max_current_a=16)
    gateway = Gateway.objects.create(site=site, name="gw")
    network_ids = telemetry_network_ids(gateway)
    tables = (TelemetrySample._meta.db_table, TelemetryEvent._meta.db_table)

    with connection.cursor() as cursor:
        cursor.execute("CHECKPOINT")
        before = {table: relation_bytes(cursor, table) for table in tables}
    start = timezone.now() - timedelta(seconds=items + 60)
    all_items = realistic_items(str(network.pk), 1, items, start)
    began = time.perf_counter()
    for first in range(0, items, batch_items):
        body = batch_of(gateway.name, all_items[first:first + batch_items])
        batch = parse_batch_records(body, now=timezone.now(), networks=network_ids)
        telemetry_ingest(Gateway.objects.get(pk=gateway.pk), batch)
    ingest_s = time.perf_counter() - began
    with connection.cursor() as cursor:
        # Let autovacuum's work (visibility map, free space map) happen now, as it would within the day.
        cursor.execute(f"VACUUM ANALYZE {tables[0]}")
        cursor.execute(f"VACUUM ANALYZE {tables[1]}")
        after = {table: relation_bytes(cursor, table) for table in tables}
    samples = TelemetrySample.objects.filter(gateway=gateway).count()
    events = TelemetryEvent.objects.filter(gateway=gateway).count()
    assert samples + events == items, (samples, events, items)
    growth = {table: {part: after[table][part] - before[table][part] for part in ("table", "indexes")} for table in tables}
    return {"samples": samples, "events": events, "growth": growth, "ingest_s": ingest_s, "tables": tables}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=50_000)
    parser.add_argument("--batch-items", type=int, default=15)
    args = parser.parse_args()

    postgres = ThrowawayPostgres()
    try:
        postgres.start()
        os.environ.update(DATABASE_URL=postgres.url, DJANGO_SETTINGS_MODULE="fleet.settings")
        os.environ.pop("REDIS_URL", None)
        result = measure(args.items, args.batch_items)
    finally:
        postgres.stop()

    sample_table, event_table = result["tables"]
    samples_growth, events_growth = result["growth"][sample_table], result["growth"][event_table]
    total = sum(samples_growth.values()) + sum(events_growth.values())
    per_item = total / (result["samples"] + result["events"])
    print(describe())
    print(f"stored {result['samples']:,} samples and {result['events']} events of one network with 2 chargers "
          f"in batches of {args.batch_items} ({result['ingest_s']:.1f} s through the ingest service)")
    print(f"growth of {sample_table}: table with TOAST {samples_growth['table']:,} B, indexes {samples_growth['indexes']:,} B; "
          f"{event_table}: {sum(events_growth.values()):,} B")
    print(f"bytes per stored item: {per_item:.0f} (table {samples_growth['table'] / result['samples']:.0f}, "
          f"indexes {samples_growth['indexes'] / result['samples']:.0f} per sample)")
    for poll_s in (1, 2, 5):
        per_day = per_item * SECONDS_PER_DAY / poll_s
        print(f"  poll every {poll_s} s: {SECONDS_PER_DAY // poll_s:,} samples per network-day = {per_day / 1e6:.1f} MB "
              f"per site-day (one network), {per_day * 365 / 1e9:.1f} GB per site-year of raw samples")


if __name__ == "__main__":
    main()
