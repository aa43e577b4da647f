"""End to end with a real worker and beat: a burst told once per channel, and a worker killed mid-send recovering fast.

As in test_end_to_end.py, the worker is its own process on the suite's Redis
and the test database. Here the fleet's liveness is written the way ingestion
records it (gateways' `last_seen`, meters' `MeterState`) by a feeder thread,
since the sync API for twenty gateways is not what these tests are about.
Short timers: a 1 s evaluation, group_wait 3 s, group_interval 4 s.
"""

from __future__ import annotations

import signal
import threading
import time

import pytest
from django.db import connection
from django.utils import timezone

from fleet.models import (
    ChannelKind,
    ChargingNetwork,
    Delivery,
    DeliveryStatus,
    Gateway,
    Incident,
    IncidentKind,
    Meter,
    MeterState,
    NotificationChannel,
    Organization,
    Site,
)
from fleet.services.alerts_evaluate import alerts_evaluate
from fleet.services.notifications_dispatch import notifications_dispatch
from tests.fleet.alerts.conftest import SECRET
from tests.fleet.alerts.test_end_to_end import start_worker, stop_worker
from tests.processes import wait_until

GROUP_WAIT_S = 3
TIMERS = {"NOTIFICATIONS_GROUP_WAIT_S": str(GROUP_WAIT_S), "NOTIFICATIONS_GROUP_INTERVAL_S": "4"}


def fleet(organization: Organization, sites: int, meters_per_site: int) -> list[Meter]:
    """Sites with a gateway and meters each, all talking now."""
    meters = []
    for index in range(sites):
        site = Site.objects.create(organization=organization, name=f"site-{index:02}")
        Gateway.objects.create(site=site, name=f"gw-{index:02}", last_seen=timezone.now())
        for number in range(meters_per_site):
            network = ChargingNetwork.objects.create(site=site, name=f"net-{number}", max_current_per_phase_a=32)
            meters.append(Meter.objects.create(network=network, model="carlo-gavazzi-em24", host=f"10.{index}.0.{number}"))
    MeterState.objects.bulk_create(
        [MeterState(meter=meter, available=True, last_reading_at=timezone.now()) for meter in meters]
    )
    return meters


class Liveness(threading.Thread):
    """Every half second: each gateway reported, and each meter its gateway has not reported lost gave a reading."""

    def __init__(self):
        super().__init__(daemon=True)
        self.stop = threading.Event()
        self.quiet: set[int] = set()  # gateways that have fallen silent

    def run(self) -> None:
        try:
            while not self.stop.wait(0.5):
                now = timezone.now()
                Gateway.objects.exclude(pk__in=set(self.quiet)).update(last_seen=now)
                MeterState.objects.filter(available=True).update(last_reading_at=now)
        finally:
            connection.close()


def two_hooks(organization: Organization, url: str) -> list[NotificationChannel]:
    return [
        NotificationChannel.objects.create(organization=organization, name=name, kind=ChannelKind.WEBHOOK,
                                           webhook_url=f"{url}/{name}", webhook_secret=SECRET)
        for name in ("ops", "noc")
    ]


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_200_meter_burst_is_one_notification_per_channel_and_its_recovery_one_more(tmp_path, webhook):
    organization = Organization.objects.create(name="Demo Energy", slug="demo")
    channels = two_hooks(organization, webhook.url)
    meters = fleet(organization, sites=20, meters_per_site=10)
    liveness = Liveness()
    liveness.start()
    worker = start_worker(tmp_path, **TIMERS)

    def told(status: str) -> list[dict]:
        return [body for body in webhook.bodies() if body["status"] == status]

    try:
        time.sleep(2)  # the worker is up and evaluating a healthy fleet
        lost_at, lost_wall = time.monotonic(), timezone.now()
        MeterState.objects.filter(meter__in=meters).update(available=False, lost_since=timezone.now(), detail="timed out")
        wait_until(lambda: len(told("firing")) >= 2, 30, "one grouped notification per channel")
        burst_latency_s = time.monotonic() - lost_at
        time.sleep(2)  # incidents opening late would show up as a second notification now

        back_at = time.monotonic()
        MeterState.objects.filter(meter__in=meters).update(available=True, last_reading_at=timezone.now(), lost_since=None)
        wait_until(lambda: len(told("resolved")) >= 2, 30, "one grouped resolve per channel")
        resolve_latency_s = time.monotonic() - back_at
        time.sleep(3)  # a few more evaluation runs: nothing may be sent again
    finally:
        liveness.stop.set()
        liveness.join(10)
        stop_worker(worker)
    log = (tmp_path / "worker.log").read_text()

    bodies = webhook.bodies()
    assert sorted((body["group"]["channel"], body["transition"]) for body in bodies) == [
        ("noc", "opened"), ("noc", "resolved"), ("ops", "opened"), ("ops", "resolved"),
    ], log
    for body in told("firing"):
        assert body["summary"] == "200 meters lost at 20 sites of Demo Energy"
        assert body["counts"]["firing"] == body["counts"]["new"] == 200
    for body in told("resolved"):
        assert body["summary"] == "200 meters back at 20 sites of Demo Energy"
    keys = [call["headers"]["X-FuseGuard-Delivery"] for call in webhook.calls]
    assert len(keys) == len(set(keys)) == 4
    assert {call["headers"]["X-FuseGuard-Delivery"].rsplit("-", 1)[1] for call in webhook.calls} == {
        f"ch{channel.pk}" for channel in channels
    }
    first_opened = min(Incident.objects.values_list("opened_at", flat=True))
    [made, sent] = [
        max(Delivery.objects.filter(transition="opened").values_list(field, flat=True)) for field in ("created_at", "sent_at")
    ]
    # From the burst's openings: group_wait, then at most one evaluation interval (plus slack for a loaded machine).
    assert (made - first_opened).total_seconds() < GROUP_WAIT_S + 1 + 2
    print(f"\n200-meter burst, group_wait {GROUP_WAIT_S} s, 1 s evaluation: told after {burst_latency_s:.1f} s "
          f"(incidents opened +{(first_opened - lost_wall).total_seconds():.1f} s, notifications made "
          f"+{(made - lost_wall).total_seconds():.1f} s, sent +{(sent - lost_wall).total_seconds():.1f} s); "
          f"recovery told after {resolve_latency_s:.1f} s (group_interval 4 s)")


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_send_delivers_everything_within_seconds_of_its_restart_exactly_once(tmp_path, webhook):
    organization = Organization.objects.create(name="Crash", slug="crash")
    two_hooks(organization, webhook.url)
    meters = fleet(organization, sites=1, meters_per_site=1)
    MeterState.objects.filter(meter__in=meters).update(available=False, lost_since=timezone.now())
    alerts_evaluate()
    notifications_dispatch()  # group_wait 0 in this process (conftest): both channels' notifications are due now
    assert Delivery.objects.filter(status=DeliveryStatus.PENDING).count() == 2
    webhook.answers = [None]  # the first receiver call hangs: the worker is killed while it waits
    # Long timeout, lease and retry base: only the restarted node's recovery can deliver quickly.
    settings = {**TIMERS, "NOTIFICATIONS_TIMEOUT_S": "60", "NOTIFICATIONS_RETRY_BASE_S": "3600",
                "ALERTS_EVALUATION_INTERVAL_S": "3600"}
    worker = start_worker(tmp_path, **settings)
    try:
        wait_until(lambda: webhook.cut_off, 30, "the first attempt to reach the receiver")
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
        assert Delivery.objects.filter(status=DeliveryStatus.SENDING).count() == 1
        restarted_at = time.monotonic()
        worker = start_worker(tmp_path, **settings)
        wait_until(lambda: len(webhook.calls) >= 2, 30, "both deliveries after the restart")
        recovery_s = time.monotonic() - restarted_at
        time.sleep(1)
    finally:
        stop_worker(worker)
    log = (tmp_path / "worker.log").read_text()

    keys = sorted(call["headers"]["X-FuseGuard-Delivery"] for call in webhook.calls)
    assert keys == sorted(Delivery.objects.values_list("idempotency_key", flat=True)), log  # each answered once
    assert webhook.cut_off[0]["headers"]["X-FuseGuard-Delivery"] in keys  # the cut-off one, again under its key
    assert set(Delivery.objects.values_list("status", "attempts")) == {(DeliveryStatus.SENT, 1)}  # the cut one not counted
    assert recovery_s < 10, f"{recovery_s:.1f} s\n{log}"
    print(f"\nworker SIGKILLed mid-send: both deliveries {recovery_s:.1f} s after the restart (lease 65 s, retry base 1 h)")


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_fifty_gateways_of_one_organisation_going_silent_are_one_outage_and_no_gateway_is_told_alone(tmp_path, webhook):
    organization = Organization.objects.create(name="Demo Energy", slug="demo")
    two_hooks(organization, webhook.url)
    fleet(organization, sites=60, meters_per_site=0)
    liveness = Liveness()
    liveness.start()
    worker = start_worker(tmp_path, **TIMERS)
    down = list(Gateway.objects.order_by("pk").values_list("pk", flat=True)[:50])
    try:
        time.sleep(2)
        liveness.quiet.update(down)
        wait_until(lambda: len(webhook.calls) >= 2, 40, "the outage on both channels")
        time.sleep(GROUP_WAIT_S + 2)  # the gateways' own groups would speak now
        opened = webhook.bodies()
        liveness.quiet.clear()  # everyone is back
        wait_until(lambda: len(webhook.calls) >= 4, 40, "the outage's end on both channels")
        time.sleep(GROUP_WAIT_S + 2)
    finally:
        liveness.stop.set()
        liveness.join(10)
        stop_worker(worker)
    log = (tmp_path / "worker.log").read_text()

    assert [body["summary"] for body in opened] == ["1 connectivity outage of Demo Energy"] * 2, log
    assert opened[0]["incidents"][0]["detail"].startswith("50 of 60 gateways fell silent within")
    summaries = sorted(body["summary"] for body in webhook.bodies())
    assert summaries == ["1 connectivity outage of Demo Energy"] * 2 + ["1 connectivity outage over of Demo Energy"] * 2, log
    [outage] = Incident.objects.filter(kind=IncidentKind.CONNECTIVITY_OUTAGE)
    assert Incident.objects.filter(kind=IncidentKind.GATEWAY_OFFLINE, folded_into=outage).count() == 50
    keys = [call["headers"]["X-FuseGuard-Delivery"] for call in webhook.calls]
    assert len(keys) == len(set(keys))
