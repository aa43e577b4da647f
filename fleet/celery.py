"""The Celery app of the fleet server: Redis as the broker, JSON only, the beat schedule as a table.

Without `REDIS_URL` (the embedded demo) settings make tasks eager, and
`start_in_process_scheduler` runs the same table in a daemon thread, so the
demo raises and resolves incidents without Redis or a worker.

The notification dispatcher runs after every evaluation (inside its task), on
its own schedule, and once when a worker starts, so incident transitions left
behind by a crash or an outage of all workers go out without waiting; a
starting worker also hands out due deliveries and voids the claims its node's
former process held when it died.
"""

from __future__ import annotations

import logging
import os
import threading
import time

from celery import Celery
from celery.signals import worker_ready

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fleet.settings")

log = logging.getLogger(__name__)

app = Celery("fleet")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def beat_table() -> tuple[tuple[str, str, float], ...]:
    """The periodic tasks: (name, task, every seconds); intervals come from settings."""
    from django.conf import settings

    return (
        # name                          task                                      every (s)
        ("alerts-evaluate",             "fleet.tasks.alerts_evaluate",            float(settings.ALERTS_EVALUATION_INTERVAL_S)),
        ("notifications-dispatch",      "fleet.tasks.notifications_dispatch",     float(settings.ALERTS_EVALUATION_INTERVAL_S)),
        ("notifications-dispatch-due",  "fleet.tasks.notifications_dispatch_due", float(settings.NOTIFICATIONS_RETRY_BASE_S)),
        ("telemetry-retention",         "fleet.tasks.telemetry_retention",        3600.0),
        ("telemetry-partitions",        "fleet.tasks.telemetry_partitions",       3600.0),
    )


@app.on_after_finalize.connect
def _install_beat_schedule(sender: Celery, **kwargs) -> None:
    # A run that could not start within one interval is dropped: the next one sees the same data.
    sender.conf.beat_schedule = {
        name: {"task": task, "schedule": every_s, "options": {"expires": every_s}}
        for name, task, every_s in beat_table()
    }


@worker_ready.connect
def _dispatch_at_start(sender=None, **kwargs) -> None:
    # Beat's first run of each entry comes only one interval after start; transitions recorded
    # while no worker was up, deliveries that came due meanwhile and those this node's former
    # process was sending when it died should not wait for it (nor for a lease).
    app.send_task("fleet.tasks.notifications_recover", args=[getattr(sender, "hostname", "") or ""])
    app.send_task("fleet.tasks.notifications_dispatch")


def start_in_process_scheduler(stop: threading.Event | None = None) -> threading.Thread:
    """Run the beat table in a daemon thread of this process (the embedded demo, without Redis)."""
    stop = stop or threading.Event()

    def loop() -> None:
        from django.db import connections

        app.loader.import_default_modules()
        due = {name: 0.0 for name, _, _ in beat_table()}
        try:
            while not stop.is_set():
                now = time.monotonic()
                for name, task, every_s in beat_table():
                    if now >= due[name]:
                        due[name] = now + every_s
                        try:
                            app.tasks[task].apply()
                        except Exception:  # the scheduler must outlive one bad run, as beat does
                            log.exception("in-process run of %s failed", task)
                stop.wait(1.0)
        finally:
            connections.close_all()  # this thread's own connections

    thread = threading.Thread(target=loop, name="fuseguard-scheduler", daemon=True)
    thread.stop_event = stop  # type: ignore[attr-defined]
    thread.start()
    return thread
