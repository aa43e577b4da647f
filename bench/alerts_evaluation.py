"""Alert figures: the cost of one evaluation run over 10,000 meters; target <= 1 s.

A throwaway PostgreSQL (the test suite's `ThrowawayPostgres`) gets a fleet of
2,500 sites, each with one gateway and four networks with a meter: 10,000
meters, every one with its latest state, as ingestion keeps it. Timed, each
the median of several runs:

- steady: everything healthy, nothing to open (the common case every 10 s);
- first run after trouble: 1 % of meters reported lost and 1 % of gateways
  silent (their meters stale too; `--trouble-percent` changes the share),
  which opens the incidents and records one transition each;
- dispatch after it: the dispatcher turns those transitions into one
  delivery each on the organisation's channel (the evaluation task runs it
  right after the evaluation, so the two together are what a worker spends);
- trouble persisting: the same state again, which only refreshes incidents.

Run: .venv/bin/python bench/alerts_evaluation.py [--sites N] [--runs N] [--trouble-percent P]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.fleet_database import fleet_database
from bench.machine import describe

TARGET_S = 1.0
METERS_PER_SITE = 4


def build_fleet(sites: int):
    """Create the fleet with bulk inserts; return the meters and gateways by site."""
    from django.utils import timezone

    from fleet.models import ChannelKind, ChargingNetwork, Gateway, Meter, MeterState, NotificationChannel, Organization, Site

    now = timezone.now()
    organization = Organization.objects.create(name="Bench fleet", slug="bench")
    NotificationChannel.objects.create(
        organization=organization, name="ops", kind=ChannelKind.EMAIL, email_recipients="ops@bench.example"
    )
    site_rows = Site.objects.bulk_create([Site(organization=organization, name=f"site-{i:05d}") for i in range(sites)])
    gateways = Gateway.objects.bulk_create([Gateway(site=site, name="gw", last_seen=now) for site in site_rows])
    networks = ChargingNetwork.objects.bulk_create(
        [ChargingNetwork(site=site, name=f"net-{n}", max_current_per_phase_a=32) for site in site_rows for n in range(METERS_PER_SITE)]
    )
    meters = Meter.objects.bulk_create(
        [Meter(network=network, model="carlo-gavazzi-em24", host=f"10.{i // 65536 % 256}.{i // 256 % 256}.{i % 256}")
         for i, network in enumerate(networks)]
    )
    MeterState.objects.bulk_create([MeterState(meter=meter, available=True, last_reading_at=now) for meter in meters])
    return meters, gateways


def timed(runs: int, now) -> tuple[float, object]:
    from fleet.services.alerts_evaluate import alerts_evaluate

    durations, result = [], None
    for _ in range(runs):
        start = time.perf_counter()
        result = alerts_evaluate(now=now)
        durations.append(time.perf_counter() - start)
    return statistics.median(durations), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--sites", type=int, default=2500, help="sites of four meters each (default 2500: 10,000 meters)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--trouble-percent", type=float, default=1.0, help="share of meters lost and of gateways silent")
    args = parser.parse_args()

    with fleet_database():
        from django.conf import settings
        from django.db import connection
        from django.utils import timezone

        from fleet.models import Delivery, Gateway, Incident, MeterState

        start = time.perf_counter()
        meters, gateways = build_fleet(args.sites)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        print(describe())
        print(f"fleet: {len(meters):,} meters at {len(gateways):,} sites (built in {time.perf_counter() - start:.1f} s)")

        now = timezone.now() + timedelta(seconds=5)
        steady_s, _ = timed(args.runs, now)

        # Trouble: every n-th meter reported lost, every n-th gateway silent (and its meters' readings old).
        later = now + timedelta(seconds=300)
        every = max(1, round(100 / args.trouble_percent))
        lost = [m.pk for m in meters[1::every]]
        MeterState.objects.filter(meter_id__in=lost).update(available=False, lost_since=later - timedelta(seconds=20))
        silent = [g.pk for g in gateways[::every]]
        Gateway.objects.exclude(pk__in=silent).update(last_seen=later)
        MeterState.objects.exclude(meter_id__in=lost).exclude(meter__network__site__gateways__in=silent).update(
            last_reading_at=later
        )
        start = time.perf_counter()
        from fleet.services.alerts_evaluate import alerts_evaluate

        first = alerts_evaluate(now=later)
        first_s = time.perf_counter() - start
        from fleet.services.notifications_dispatch import notifications_dispatch

        start = time.perf_counter()
        dispatched = notifications_dispatch(now=later)
        dispatch_s = time.perf_counter() - start
        persisting_s, again = timed(args.runs, later + timedelta(seconds=10))
        start = time.perf_counter()
        notifications_dispatch(now=later + timedelta(seconds=10))
        idle_dispatch_s = time.perf_counter() - start
        # group_wait after the trouble, the groups collected in the first dispatch become notifications.
        start = time.perf_counter()
        flushed = notifications_dispatch(now=later + timedelta(seconds=settings.NOTIFICATIONS_GROUP_WAIT_S))
        flush_s = time.perf_counter() - start

        print(f"incidents opened by the first run: {len(first.opened)} "
              f"({Incident.objects.filter(kind='meter_lost').count()} meters lost, "
              f"{Incident.objects.filter(kind='gateway_offline').count()} gateways offline), "
              f"transitions recorded: {len(first.transition_ids)}, grouped notifications made "
              f"{len(dispatched.delivery_ids) + len(flushed.delivery_ids)} ({Delivery.objects.count()} in the table); "
              f"later runs opened {len(again.opened)}")
        print(f"{'scenario':<50}{'one run':>10}{'ratio to 1 s':>14}")
        for name, seconds in (
            ("steady (all healthy)", steady_s),
            ("first run after trouble (opens, records)", first_s),
            ("  its dispatch (transitions -> groups)", dispatch_s),
            ("  evaluation + dispatch", first_s + dispatch_s),
            ("trouble persisting (refreshes)", persisting_s),
            ("dispatch with nothing waiting", idle_dispatch_s),
            ("dispatch at group_wait (groups -> notifications)", flush_s),
        ):
            print(f"{name:<50}{seconds * 1000:>8.0f} ms{seconds / TARGET_S:>13.2f}")
        worst = max(steady_s, first_s + dispatch_s, persisting_s)
        print(f"target: one evaluation over {len(meters):,} meters <= {TARGET_S:.0f} s -> "
              f"{'met' if worst <= TARGET_S else 'MISSED'} (worst {worst * 1000:.0f} ms)")


if __name__ == "__main__":
    main()
