"""Alert figures: latency from a gateway event reaching the server to the webhook call; target <= 15 s.

Everything real and at the default schedule (evaluation every 10 s): a
throwaway PostgreSQL and Redis (the test suite's), a Celery worker with
embedded beat as its own process, a webhook receiver on a loopback port. A
feeder stores a sample every second for the site's networks, as the agent
does. Each round picks a network, waits a random part of the schedule, stores
a `meter_lost` event through the ingestion service, and times until the
webhook for the opened incident arrives; then the same for `meter_restored`
and the resolve notification. Each network is used for one lost/restored pair
only, so no incident becomes flapping.

The expected figure: up to one evaluation interval of waiting for the next
run, plus the run and one delivery (milliseconds), plus the grouping timers:
an opening waits group_wait, a resolve at most group_interval after the
group's last notification. By default the bench runs with group_wait 0 and
group_interval 1 s, to time the pipeline itself (comparable with the figures
before grouping); `--group-wait-s 30` shows what production adds.

Run: .venv/bin/python bench/alerts_latency.py [--pairs N] [--group-wait-s S] [--group-interval-s S]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.machine import describe
from tests.services import ThrowawayPostgres, ThrowawayRedis

TARGET_S = 15.0


class Receiver:
    """Records when each webhook arrives, by incident id and transition."""

    def __init__(self) -> None:
        self.arrivals: dict[tuple[int, str], float] = {}
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
                arrived = time.monotonic()
                with receiver.lock:
                    for facts in body["incidents"]:  # a group's notification: what is new, what came back
                        edge = "opened" if facts["new"] else "resolved" if facts["state"] == "resolved" else None
                        if edge and facts["meter"]:
                            receiver.arrivals.setdefault((facts["meter"]["id"], edge), arrived)
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait(self, key: tuple[int, str], timeout_s: float) -> float | None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            with self.lock:
                if key in self.arrivals:
                    return self.arrivals[key]
            time.sleep(0.02)
        return None


def now_iso() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


class Gateway:
    """Stores telemetry for one gateway through the ingestion service, numbered like the agent does."""

    def __init__(self, gateway, networks) -> None:
        self.gateway, self.networks = gateway, networks
        self.lost: set[int] = set()
        self.seq = 0
        self.lock = threading.Lock()

    def _ingest(self, items: list[dict]) -> None:
        from fleet.services.telemetry_ingest import telemetry_ingest
        from gateways.protocol import parse_batch_records

        telemetry_ingest(self.gateway, parse_batch_records({"gateway": self.gateway.name, "items": items}))

    def samples(self) -> None:
        with self.lock:
            items = []
            for network in self.networks:
                self.seq += 1
                ok = network.pk not in self.lost
                grid = [10.0, 8.0, 6.0] if ok else None
                items.append({"seq": self.seq, "kind": "sample", "ts": now_iso(), "network": str(network.pk),
                              "mode": "normal" if ok else "fallback", "grid_current_a": grid, "headroom_a": grid,
                              "chargers": {}})
            self._ingest(items)

    def event(self, network, type_: str) -> float:
        with self.lock:
            self.seq += 1
            (self.lost.add if type_ == "meter_lost" else self.lost.discard)(network.pk)
            self._ingest([{"seq": self.seq, "kind": "event", "ts": now_iso(), "network": str(network.pk), "type": type_,
                           "subject": "meter", "detail": "bench"}])
            return time.monotonic()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--pairs", type=int, default=3, help="lost/restored pairs, one network each (default 3)")
    parser.add_argument("--group-wait-s", type=int, default=0, help="NOTIFICATIONS_GROUP_WAIT_S (default 0)")
    parser.add_argument("--group-interval-s", type=int, default=1, help="NOTIFICATIONS_GROUP_INTERVAL_S (default 1)")
    args = parser.parse_args()
    os.environ["NOTIFICATIONS_GROUP_WAIT_S"] = str(args.group_wait_s)
    os.environ["NOTIFICATIONS_GROUP_INTERVAL_S"] = str(args.group_interval_s)

    postgres, redis = ThrowawayPostgres(), ThrowawayRedis()
    postgres.start()
    redis.start()
    worker = None
    workdir = Path(tempfile.mkdtemp(prefix="fuseguard-bench-"))
    try:
        os.environ.update({"DATABASE_URL": postgres.url, "REDIS_URL": redis.url, "LOG_LEVEL": "WARNING"})
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fleet.settings")
        import django

        django.setup()
        from django.conf import settings
        from django.core.management import call_command
        from django.db import connection

        from fleet import models

        call_command("migrate", verbosity=0)
        receiver = Receiver()
        organization = models.Organization.objects.create(name="Bench", slug="bench")
        models.NotificationChannel.objects.create(organization=organization, name="hook", kind=models.ChannelKind.WEBHOOK,
                                                  webhook_url=receiver.url, webhook_secret="bench")
        site = models.Site.objects.create(organization=organization, name="site")
        networks = []
        for index in range(args.pairs):
            network = models.ChargingNetwork.objects.create(site=site, name=f"net-{index}", max_current_per_phase_a=32)
            models.Meter.objects.create(network=network, model="carlo-gavazzi-em24", host=f"10.0.0.{index + 1}")
            networks.append(network)
        gateway = Gateway(models.Gateway.objects.create(site=site, name="gw"), networks)
        gateway.samples()

        stop = threading.Event()

        def feed() -> None:
            while not stop.wait(1.0):
                gateway.samples()
            connection.close()

        feeder = threading.Thread(target=feed, daemon=True)
        feeder.start()
        worker = subprocess.Popen(
            [str(Path(sys.executable).parent / "celery"), "-A", "fleet", "worker", "--beat", "--pool", "solo",
             "--loglevel", "WARNING", "--schedule", str(workdir / "beat-schedule"),
             "--without-gossip", "--without-mingle", "--without-heartbeat"],
            cwd=ROOT, env=dict(os.environ), stdout=open(workdir / "worker.log", "w"), stderr=subprocess.STDOUT,
        )
        interval_s = settings.ALERTS_EVALUATION_INTERVAL_S
        time.sleep(interval_s + 2)  # the worker is up and beat has run once

        rng = random.Random(7)
        latencies: list[tuple[str, float]] = []
        for network in networks:
            meter_id = network.meter.pk
            for type_, transition in (("meter_lost", "opened"), ("meter_restored", "resolved")):
                time.sleep(rng.uniform(0, interval_s))
                stored_at = gateway.event(network, type_)
                patience_s = 3 * interval_s + args.group_wait_s + args.group_interval_s
                arrived = receiver.wait((meter_id, transition), patience_s)
                if arrived is None:
                    raise SystemExit(f"no {transition} webhook within {patience_s} s; see {workdir / 'worker.log'}")
                latencies.append((type_, arrived - stored_at))
        stop.set()
        feeder.join(5)

        print(describe())
        print(f"evaluation every {interval_s} s (the default), worker with embedded beat, {len(latencies)} transitions, "
              f"group_wait {args.group_wait_s} s, group_interval {args.group_interval_s} s")
        for type_, seconds in latencies:
            print(f"  {type_:<16}{seconds:>7.2f} s")
        values = [seconds for _, seconds in latencies]
        # Grouping adds its timers to the pipeline's target: an opening waits group_wait, a resolve up to
        # group_interval after the group's last notification.
        allowed = {"meter_lost": TARGET_S + args.group_wait_s, "meter_restored": TARGET_S + args.group_interval_s}
        worst = max(seconds / allowed[type_] for type_, seconds in latencies)
        print(f"event stored -> webhook received: min {min(values):.2f} s, median {statistics.median(values):.2f} s, "
              f"max {max(values):.2f} s; worst ratio to its target ({TARGET_S:.0f} s + group_wait for an opening, "
              f"+ group_interval for a resolve) {worst:.2f}")
        print(f"bound: {interval_s} s schedule + run + delivery + grouping timers; target -> {'met' if worst <= 1 else 'MISSED'}")
        connection.close()
    finally:
        if worker is not None:
            worker.send_signal(signal.SIGTERM)
            try:
                worker.wait(timeout=20)
            except subprocess.TimeoutExpired:
                worker.kill()
        redis.stop()
        postgres.stop()


if __name__ == "__main__":
    main()
