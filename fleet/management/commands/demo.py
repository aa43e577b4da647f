"""`manage.py demo`: the whole system on one machine, with nothing to install.

The fleet server (admin, dashboard, API, gateway sync) is served from this
process on SQLite, the alert evaluation runs on the in-process scheduler, and
each demo site gets its own gateway agent process in managed mode with a
simulated meter and simulated chargers: house load wanders, vehicles arrive
and leave, and one site's meter drops out now and then, so fallback and
alerts can be watched. Ctrl-C stops everything.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler, get_internal_wsgi_application

from fleet.management.commands.seed_demo import DEMO_SITES
from fleet.models import Gateway, Meter
from fleet.services.gateway_tokens import gateway_issue_token

FLAKY_METER_EVERY_S = 120.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class QuietHandler(WSGIRequestHandler):
    """The demo's request log would drown its progress messages."""

    def log_message(self, format, *args) -> None:  # noqa: A002 - the signature is the base class's
        return None


class Command(BaseCommand):
    """Run the fleet server, the scheduler and one simulated gateway per demo site."""

    help = "Run the embedded demo: server, scheduler and three simulated sites with their gateway agents."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--address", default="127.0.0.1:8000", help="host:port to serve on")

    def handle(self, *args, address: str, **options) -> None:
        host, _, port_text = address.rpartition(":")
        port = int(port_text)
        self.step("preparing the database")
        call_command("migrate", verbosity=0, interactive=False)
        call_command("seed_demo", stdout=self.stdout)

        self.step(f"starting the fleet server on http://{address}/")
        try:
            httpd = ThreadedWSGIServer((host, port), QuietHandler)
        except OSError as problem:
            raise CommandError(f"cannot listen on {address}: {problem.strerror}; try --address 127.0.0.1:8001") from None
        httpd.set_app(get_internal_wsgi_application())
        threading.Thread(target=httpd.serve_forever, name="demo-http", daemon=True).start()

        scheduler = None
        if not settings.REDIS_URL:
            from fleet.celery import start_in_process_scheduler

            self.step("starting the in-process scheduler (alert evaluation, notifications)")
            scheduler = start_in_process_scheduler()

        agents = self.start_agents(f"http://{address}")
        self.wait_for_telemetry(agents)
        self.stdout.write(self.style.SUCCESS(
            f"\nFuseGuard demo is running:\n"
            f"  dashboard  http://{address}/\n  admin      http://{address}/admin/\n"
            f"  API docs   http://{address}/api/docs/\n"
            "Sign in with the demo login above. Ctrl-C stops everything.\n"
        ))
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        try:
            while not stop.is_set():
                for name, process in agents.items():
                    if process.poll() is not None:
                        raise CommandError(f"the gateway agent of {name} exited with {process.returncode}")
                stop.wait(1.0)
        except KeyboardInterrupt:
            pass
        finally:
            self.step("stopping")
            for process in agents.values():
                if process.poll() is None:
                    process.send_signal(signal.SIGTERM)
            for process in agents.values():
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()
            if scheduler is not None:
                scheduler.stop_event.set()
            httpd.shutdown()
        self.stdout.write("stopped.")

    def step(self, text: str) -> None:
        """One line of progress."""
        self.stdout.write(self.style.MIGRATE_HEADING(f"==> {text}"))

    def start_agents(self, server_url: str) -> dict[str, subprocess.Popen]:
        """One managed agent per demo site, each simulating its site; fresh tokens every run."""
        state_root = Path(settings.VAR_DIR) / "demo"
        agents = {}
        for demo in DEMO_SITES:
            gateway = Gateway.objects.select_related("site").get(site__name=demo.name, name=demo.gateway)
            Meter.objects.filter(network__site=gateway.site).update(port=_free_port())
            # Three agents on one machine: each its own OCPP port (only sites with OCPP chargers open it).
            Gateway.objects.filter(pk=gateway.pk).update(ocpp_listen=f"127.0.0.1:{_free_port()}")
            token = gateway_issue_token(gateway)
            command = [
                sys.executable, "-m", "gateways", "run", "--server", server_url, "--token", token,
                "--state-dir", str(state_root / demo.gateway), "--simulate", "--simulate-life", "--config-interval-s", "10",
            ]
            if demo.flaky_meter:
                command += ["--simulate-meter-dropouts-s", str(FLAKY_METER_EVERY_S)]
            log_path = state_root / f"{demo.gateway}.log"
            log_path.parent.mkdir(parents=True, exist_ok=True)
            agents[demo.name] = subprocess.Popen(
                command, cwd=settings.BASE_DIR, stdout=log_path.open("w"), stderr=subprocess.STDOUT
            )
            self.step(f"started the gateway agent of {demo.name} (log: {log_path})")
        return agents

    def wait_for_telemetry(self, agents: dict[str, subprocess.Popen], timeout_s: float = 60.0) -> None:
        """Report each site as it starts sending telemetry."""
        self.step("waiting for the first telemetry of each site")
        waiting = {demo.name: demo.gateway for demo in DEMO_SITES}
        deadline = time.monotonic() + timeout_s
        while waiting and time.monotonic() < deadline:
            for site_name, gateway_name in list(waiting.items()):
                if Gateway.objects.filter(site__name=site_name, name=gateway_name, acked_seq__gt=0).exists():
                    self.stdout.write(f"    {site_name}: live")
                    del waiting[site_name]
                elif agents[site_name].poll() is not None:
                    raise CommandError(f"the gateway agent of {site_name} exited; see its log in var/demo/")
            time.sleep(0.5)
        for site_name in waiting:
            self.stdout.write(self.style.WARNING(f"    {site_name}: no telemetry yet (see var/demo/)"))
