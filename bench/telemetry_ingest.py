"""Telemetry ingestion: samples per second end to end (HTTP -> gunicorn -> PostgreSQL) next to raw COPY.

Starts a throwaway PostgreSQL (as the tests do), migrates it, creates one
gateway per client, and serves the fleet app with gunicorn on loopback. The
clients POST pre-encoded batches of 5,000 samples (three chargers each) to
/api/gateway/v1/telemetry, as gateways catching up after an outage would.
Then the same number of rows is written with a bare COPY into the same table.
Targets: >= 20,000 samples/s end to end and >= 0.25 of raw COPY.

Run: .venv/bin/python bench/telemetry_ingest.py [--batches N] [--clients C] [--workers W]
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

BATCH_ITEMS = 5000


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def batch_body(gateway: str, network_id: int, first_seq: int) -> bytes:
    start = datetime(2026, 11, 1, tzinfo=timezone.utc)
    items = []
    for offset in range(BATCH_ITEMS):
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


def raw_copy_rate(url: str, rows: int, network_id: int, gateway_id: int) -> float:
    import psycopg

    chargers = json.dumps({cid: {"current_a": [10.0, 10.0, 10.0], "setpoint_a": 10.0, "reason": "limited_by_phase_L1",
                                 "available": True} for cid in ("1", "2", "3")})
    start = datetime(2026, 11, 1, tzinfo=timezone.utc)
    data = [(gateway_id, 10_000_000 + i, (start + timedelta(seconds=i)).isoformat(), network_id, "normal",
             20.5, 18.25, 19.0, chargers, 0) for i in range(rows)]
    columns = "gateway_id, seq, ts, network_id, mode, grid_l1_a, grid_l2_a, grid_l3_a, chargers, resolution_s"
    with psycopg.connect(url) as conn:
        began = time.perf_counter()
        with conn.cursor() as cursor, cursor.copy(f"COPY fleet_telemetrysample ({columns}) FROM STDIN") as copy:
            for row in data:
                copy.write_row(row)
        conn.commit()
        return rows / (time.perf_counter() - began)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=24, help="batches of 5,000 samples in all")
    parser.add_argument("--clients", type=int, default=3)
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
        per_client = args.batches // args.clients
        work = [
            [(token, batch_body(name, network_id, 1 + b * BATCH_ITEMS)) for b in range(per_client)]
            for name, token, network_id in gateways
        ]
        total = per_client * args.clients * BATCH_ITEMS

        async def run_all():
            await asyncio.gather(*(post_all(port, bodies) for bodies in work))

        began = time.perf_counter()
        asyncio.run(run_all())
        http_rate = total / (time.perf_counter() - began)

        from fleet.models import Gateway, TelemetrySample

        stored = TelemetrySample.objects.count()
        gateway = Gateway.objects.first()
        copy_rate = raw_copy_rate(postgres.url, total, gateway.site.networks.first().pk, gateway.pk)
        print(f"{total} samples in {args.batches} batches of {BATCH_ITEMS}, {args.clients} clients, "
              f"gunicorn {args.workers} workers; stored {stored}")
        print(f"end to end (HTTP -> PostgreSQL): {http_rate:,.0f} samples/s (target 20,000; ratio {http_rate / 20000:.2f})")
        print(f"raw COPY of the same rows:        {copy_rate:,.0f} samples/s")
        print(f"end to end / raw COPY = {http_rate / copy_rate:.2f} (target >= 0.25)")
    finally:
        if server is not None:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)
        postgres.stop()


if __name__ == "__main__":
    main()
