"""What one sync request costs the server: statements and CPU (web process and PostgreSQL) per steady upload and
per 304 config poll.

A fleet's server cost is per request, not per sample: ten thousand gateways
send a steady 15-sample upload every 15 s and poll their config in between.
This runs the requests through Django's WSGI handler in this process (no
HTTP server, so the web figure is the application's own cost) against a
throwaway PostgreSQL and Redis, and reads the CPU of this process and of its
PostgreSQL backend from /proc. One gateway, one network, three chargers.
Statements are those Django executes (not BEGIN/COMMIT, not the samples' COPY).

Run: .venv/bin/python bench/sync_request_cost.py [--requests N]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.machine import describe  # noqa: E402
from bench.process_cpu import TICKS_PER_S  # noqa: E402
from tests.servers import ThrowawayPostgres, ThrowawayRedis  # noqa: E402

SAMPLES_PER_UPLOAD = 15


def backend_cpu_s(pid: int) -> float:
    text = Path(f"/proc/{pid}/stat").read_text()
    fields = text[text.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / TICKS_PER_S


def prepare():
    """Migrate; one gateway with a network, its meter and three chargers; a client holding its token."""
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    from django.test import Client

    from fleet.models import Charger, ChargingNetwork, Gateway, Meter, Organization, Site
    from fleet.services.gateway_tokens import gateway_issue_token

    site = Site.objects.create(organization=Organization.objects.create(name="Bench", slug="bench"), name="site")
    network = ChargingNetwork.objects.create(site=site, name="main", max_current_per_phase_a=32, max_power_w=22000)
    Meter.objects.create(network=network, model="carlo-gavazzi-em24", host="meter.example", port=502, unit_id=1)
    chargers = [Charger.objects.create(network=network, name=f"cp{i}", driver="simulated", max_current_a=16).pk
                for i in range(3)]
    token = gateway_issue_token(Gateway.objects.create(site=site, name="gw"))
    client = Client(HTTP_HOST="localhost", HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_X_FUSEGUARD_VERSION="1.0.0")
    return client, network.pk, chargers


def upload_body(network_id: int, chargers: list[int], first_seq: int, start: datetime) -> str:
    return json.dumps({"gateway": "gw", "items": [
        {"seq": seq, "kind": "sample", "ts": (start + timedelta(seconds=seq)).isoformat(), "network": str(network_id),
         "mode": "normal", "grid_current_a": [20.5, 18.25, 19.0], "headroom_a": [4.5, 6.75, 6.0],
         "chargers": {str(c): {"current_a": [10.0, 10.0, 10.0], "setpoint_a": 10.0, "reason": "limited_by_phase_L1",
                               "available": True} for c in chargers}}
        for seq in range(first_seq, first_seq + SAMPLES_PER_UPLOAD)]})


def measure(name: str, requests: list, expected_status: int) -> None:
    from django.db import connection

    statements = []

    def count(execute, sql, params, many, context):
        statements.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        assert requests[0]().status_code == expected_status
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]
    web, database, wall = time.process_time(), backend_cpu_s(backend), time.perf_counter()
    for request in requests[1:]:
        request()
    count = len(requests) - 1
    web, database = (time.process_time() - web) * 1000 / count, (backend_cpu_s(backend) - database) * 1000 / count
    wall = (time.perf_counter() - wall) * 1000 / count
    print(f"{name:<22} {len(statements):>3} statements   web {web:5.2f} ms   "
          f"PostgreSQL {database:5.2f} ms   sum {web + database:5.2f} ms   wall {wall:5.2f} ms   ({count} requests)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=500, help="requests of each kind measured")
    args = parser.parse_args()
    print(describe())
    postgres, redis = ThrowawayPostgres(), ThrowawayRedis()
    postgres.start()
    redis.start()
    try:
        os.environ.update(DATABASE_URL=postgres.url, REDIS_URL=redis.url, DJANGO_SETTINGS_MODULE="fleet.settings",
                          DATABASE_CONN_MAX_AGE_S="60", API_THROTTLE_GATEWAY="100000000/hour")
        client, network_id, chargers = prepare()
        start = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(hours=2)
        bodies = [upload_body(network_id, chargers, 1 + SAMPLES_PER_UPLOAD * i, start) for i in range(args.requests + 11)]
        for body in bodies[:10]:  # states created, the day's partition known to the process
            assert client.generic("POST", "/api/gateway/v1/telemetry", body, content_type="application/json").status_code == 200
        measure(f"steady upload ({SAMPLES_PER_UPLOAD} s.)", [
            lambda body=body: client.generic("POST", "/api/gateway/v1/telemetry", body, content_type="application/json")
            for body in bodies[10:]
        ], 200)
        etag = client.get("/api/gateway/v1/config")["ETag"]
        measure("304 config poll", [lambda: client.get("/api/gateway/v1/config", HTTP_IF_NONE_MATCH=etag)] * (args.requests + 1),
                304)
    finally:
        redis.stop()
        postgres.stop()


if __name__ == "__main__":
    main()
