"""Telemetry ingestion: samples per second end to end (HTTP -> gunicorn -> PostgreSQL) next to raw COPY.

Starts a throwaway PostgreSQL (as the tests do), migrates it, creates one
gateway per client, and serves the fleet app with gunicorn on loopback. The
clients POST pre-encoded batches of 2,000 samples (three chargers each) to
/api/gateway/v1/telemetry, as gateways catching up after an outage would
(by default 100,000 samples: 50 batches from 4 clients).

Two floors are measured in the same run with the same rows: a bare COPY into
the telemetry table itself (its unique index, foreign keys and other indexes
included), and a bare COPY into a scratch table with only a primary key and a
BRIN index on the time, the physical floor of writing these rows at all.
Targets: >= 20,000 samples/s end to end and >= 0.25 of the physical floor.

Run: .venv/bin/python bench/telemetry_ingest.py [--batches N] [--batch-items K] [--clients C] [--workers W]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.machine import describe  # noqa: E402
from tests.services import ThrowawayPostgres  # noqa: E402

SAMPLE_COLUMNS = "gateway_id, seq, ts, network_id, mode, grid_l1_a, grid_l2_a, grid_l3_a, chargers, resolution_s"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def batch_body(gateway: str, network_id: int, first_seq: int, items_per_batch: int, start: datetime) -> bytes:
    """One batch as an agent sends it: consecutive samples one second apart from `start`."""
    items = []
    for offset in range(items_per_batch):
        seq = first_seq + offset
        items.append({
            "seq": seq, "kind": "sample", "network": str(network_id), "mode": "normal",
            "ts": (start + timedelta(seconds=seq)).isoformat().replace("+00:00", "Z"),
            "grid_current_a": [20.5, 18.25, 19.0], "headroom_a": [4.5, 6.75, 6.0],
            "chargers": {cid: {"current_a": [10.0, 10.0, 10.0], "setpoint_a": 10.0, "reason": "limited_by_phase_L1",
                               "available": True} for cid in ("1", "2", "3")},
        })
    return json.dumps({"gateway": gateway, "items": items}).encode()


def prepare(clients: int) -> list[tuple[str, str, int]]:
    """Migrate and create one gateway (name, token, network id) per client."""
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    from fleet.models import ChargingNetwork, Gateway, Organization, Site
    from fleet.services.gateway_tokens import gateway_issue_token

    organization = Organization.objects.create(name="Bench", slug="bench")
    gateways = []
    for index in range(clients):
        site = Site.objects.create(organization=organization, name=f"site-{index}")
        network = ChargingNetwork.objects.create(site=site, name="main", max_current_per_phase_a=32)
        gateway = Gateway.objects.create(site=site, name=f"gw-{index}")
        gateways.append((gateway.name, gateway_issue_token(gateway), network.pk))
    return gateways


async def post_all(port: int, bodies: list[tuple[str, bytes]]) -> None:
    import logging

    import httpx

    logging.getLogger("httpx").setLevel(logging.WARNING)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=120) as client:
        for token, body in bodies:
            response = await client.post("/api/gateway/v1/telemetry", content=body,
                                         headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
            response.raise_for_status()


def copy_rows(rows: int, network_id: int, gateway_id: int, start: datetime) -> list[tuple]:
    """The same rows the server writes for `rows` samples, ready for COPY."""
    chargers = json.dumps({cid: {"current_a": [10.0, 10.0, 10.0], "setpoint_a": 10.0, "reason": "limited_by_phase_L1",
                                 "available": True} for cid in ("1", "2", "3")})
    return [(gateway_id, 10_000_000 + i, (start + timedelta(seconds=i)).isoformat(), network_id, "normal",
             20.5, 18.25, 19.0, chargers, 0) for i in range(rows)]


def copy_rate(url: str, table: str, data: list[tuple]) -> float:
    """Rows per second of one bare COPY (with commit) into `table`."""
    import psycopg

    with psycopg.connect(url) as conn:
        began = time.perf_counter()
        with conn.cursor() as cursor, cursor.copy(f"COPY {table} ({SAMPLE_COLUMNS}) FROM STDIN") as copy:
            for row in data:
                copy.write_row(row)
        conn.commit()
        return len(data) / (time.perf_counter() - began)


def create_floor_table(url: str) -> str:
    """A scratch table with the telemetry columns, only a primary key and a BRIN index on time."""
    import psycopg

    with psycopg.connect(url) as conn:
        conn.execute(
            "CREATE TABLE bench_floor (id bigserial PRIMARY KEY, gateway_id integer NOT NULL, seq bigint NOT NULL, "
            "ts timestamptz NOT NULL, network_id integer, mode varchar(16) NOT NULL, grid_l1_a double precision, "
            "grid_l2_a double precision, grid_l3_a double precision, chargers jsonb NOT NULL, resolution_s integer NOT NULL)"
        )
        conn.execute("CREATE INDEX bench_floor_ts ON bench_floor USING brin (ts)")
    return "bench_floor"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=50, help="batches in all")
    parser.add_argument("--batch-items", type=int, default=2000, help="samples per batch")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--workers", type=int, default=3)
    args = parser.parse_args()
    print(describe())
    postgres = ThrowawayPostgres()
    postgres.start()
    server = None
    try:
        os.environ.update(DATABASE_URL=postgres.url, DJANGO_SETTINGS_MODULE="fleet.settings", DATABASE_CONN_MAX_AGE_S="60",
                          API_THROTTLE_GATEWAY="100000000/hour")
        gateways = prepare(args.clients)
        port = free_port()
        server = subprocess.Popen(
            [str(Path(sys.executable).parent / "gunicorn"), "fleet.wsgi", "-b", f"127.0.0.1:{port}", "-w", str(args.workers),
             "--log-level", "warning", "--timeout", "120"],
            cwd=ROOT, env=os.environ.copy(),
        )
        time.sleep(3)
        # Recent times, so the server's plausibility window around its clock accepts them.
        start = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(days=2)
        size = args.batch_items
        counts = [args.batches // args.clients + (1 if i < args.batches % args.clients else 0) for i in range(args.clients)]
        work = [
            [(token, batch_body(name, network_id, 1 + b * size, size, start)) for b in range(count)]
            for (name, token, network_id), count in zip(gateways, counts)
        ]
        total = args.batches * size

        async def run_all():
            await asyncio.gather(*(post_all(port, bodies) for bodies in work))

        began = time.perf_counter()
        asyncio.run(run_all())
        http_rate = total / (time.perf_counter() - began)

        from fleet.models import Gateway, TelemetrySample

        stored = TelemetrySample.objects.count()
        gateway = Gateway.objects.first()
        rows = copy_rows(total, gateway.site.networks.first().pk, gateway.pk, start)
        table_rate = copy_rate(postgres.url, "fleet_telemetrysample", rows)
        floor_rate = copy_rate(postgres.url, create_floor_table(postgres.url), rows)
        print(f"{total} samples in {args.batches} batches of {size}, {args.clients} clients, "
              f"gunicorn {args.workers} workers; stored {stored}")
        print(f"end to end (HTTP -> PostgreSQL):       {http_rate:,.0f} samples/s (target 20,000; ratio {http_rate / 20000:.2f})")
        print(f"raw COPY into the telemetry table:     {table_rate:,.0f} samples/s")
        print(f"raw COPY into a PK + BRIN scratch table: {floor_rate:,.0f} samples/s (the physical floor)")
        print(f"end to end / raw COPY into the table = {http_rate / table_rate:.2f}")
        print(f"end to end / physical floor          = {http_rate / floor_rate:.2f} (target >= 0.25)")
        if stored != total:
            print(f"WARNING: {total - stored} samples were not stored")
    finally:
        if server is not None:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)
        postgres.stop()


if __name__ == "__main__":
    main()
