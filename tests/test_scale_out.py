"""Scaled out: two web processes and two Celery workers on one PostgreSQL and one Redis.

This is the deployment of `docker compose up --scale web=N --scale worker=M`
on loopback: two gunicorn servers (two worker processes each) on their own
ports, as two web replicas behind the load balancer, and two `celery -A fleet
worker` processes with their own node names on the Redis broker, all against
the suite's PostgreSQL and Redis. Nothing but those two servers connects them.

- Gateways upload their telemetry alternately to both web servers, some
  batches to both at the same moment (the resend of a gateway whose first
  attempt timed out at the balancer), some again later: every sequence number
  is stored exactly once, every answer acknowledges exactly what is stored,
  and each web server (named in the `X-FuseGuard-Node` header and in its
  access log) served its share.
- The shipped reverse proxy config (deploy/Caddyfile, with a test port and a
  stand-in for Docker's DNS) spreads requests over both web servers, and a
  replica that is listed but down costs no failed request.
- A burst of alert evaluations fired at the broker runs on both workers.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
from collections import Counter
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from django.utils import timezone

from fleet.models import Charger, ChargingNetwork, Gateway, Organization, Site, TelemetryEvent, TelemetrySample
from fleet.node_header import NODE_HEADER
from fleet.services.gateway_tokens import gateway_issue_token
from tests.dns_stub import DnsStub
from tests.processes import free_port, test_database_url, wait_until
from tests.telemetry_builders import batch_of, realistic_items

ROOT = Path(__file__).resolve().parents[1]
CADDYFILE = ROOT / "deploy" / "Caddyfile"
BIN = Path(sys.executable).parent
TELEMETRY_URL = "/api/gateway/v1/telemetry"

GATEWAYS = 4
BATCHES = 12
ITEMS_PER_BATCH = 20
BOTH_AT_ONCE = {2, 6, 10}
"""Batches sent to both web servers at the same moment."""
SENT_AGAIN_LATER = {4, 8}
"""Batches sent once more, to the other web server, after the next batch was acknowledged."""
REPLICA_ADDRESSES = ["127.0.0.2", "127.0.0.3"]
"""One loopback address per web replica, all on the same port: as containers on a compose network."""
DOWN_REPLICA_ADDRESS = "127.0.0.4"


def node_env() -> dict[str, str]:
    """The environment of every server and worker: the suite's PostgreSQL (its test database) and Redis."""
    return {
        **os.environ,
        "DATABASE_URL": test_database_url(),
        "DJANGO_ALLOWED_HOSTS": ",".join(["localhost", "127.0.0.1", *REPLICA_ADDRESSES]),
        "LOG_LEVEL": "WARNING",
    }


def stop_processes(*processes: subprocess.Popen) -> None:
    """SIGTERM to all first, then wait for each: they shut down side by side."""
    running = [process for process in processes if process.poll() is None]
    for process in running:
        process.send_signal(signal.SIGTERM)
    for process in running:
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def port_free_on(addresses: list[str]) -> int:
    """A TCP port nothing listens on at any of these loopback addresses (replicas share the port, like containers)."""
    for _ in range(50):
        port = free_port()
        try:
            for address in addresses:
                with socket.socket() as probe:
                    probe.bind((address, port))
        except OSError:
            continue
        return port
    raise RuntimeError(f"no common free port on {addresses}")


class WebServer:
    """One web replica: gunicorn with two worker processes on its own loopback address, logging each request."""

    def __init__(self, name: str, address: str, port: int, log_dir: Path):
        self.name = name
        self.address = address
        self.port = port
        self.access_log = log_dir / f"{name}-access.log"
        self.process = subprocess.Popen(
            [str(BIN / "gunicorn"), "fleet.wsgi", "-b", f"{address}:{port}", "-w", "2", "--log-level", "warning",
             "--access-logfile", str(self.access_log), "--access-logformat", '%(p)s "%(r)s" %(s)s'],
            cwd=ROOT, env=node_env(), stdout=subprocess.DEVNULL, stderr=open(log_dir / f"{name}-error.log", "w"),
        )

    @property
    def url(self) -> str:
        return f"http://{self.address}:{self.port}"

    def answers(self) -> bool:
        try:
            return httpx.get(f"{self.url}/api/schema/", timeout=2).status_code in (200, 401, 403)
        except httpx.HTTPError:
            return False

    def serves_from(self, node: str) -> bool:
        """Whether the process named in an X-FuseGuard-Node header is one of this server's workers."""
        pid = int(node.rpartition(":")[2])
        status = Path(f"/proc/{pid}/status").read_text()
        parent = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("PPid:"))
        return parent == self.process.pid

    def telemetry_posts_logged(self) -> int:
        return sum(f"POST {TELEMETRY_URL}" in line and line.endswith(" 200") for line in self.access_log.read_text().splitlines())


class Worker:
    """One worker replica: `celery -A fleet worker` with its own node name on the Redis broker."""

    def __init__(self, name: str, log_dir: Path):
        self.node = f"{name}@scale-out-test"
        self.log = log_dir / f"{name}.log"
        self.process = subprocess.Popen(
            [str(BIN / "celery"), "-A", "fleet", "worker", "--hostname", self.node, "--pool", "solo",
             "--loglevel", "WARNING", "--without-gossip", "--without-mingle"],
            cwd=ROOT, env=node_env(), stdout=open(self.log, "w"), stderr=subprocess.STDOUT,
        )


@pytest.fixture(scope="module")
def web_servers(django_db_setup, tmp_path_factory):
    """Two web replicas, started together, stopped after this module's tests."""
    log_dir = tmp_path_factory.mktemp("web")
    port = port_free_on(REPLICA_ADDRESSES)
    servers = [WebServer(name, address, port, log_dir) for name, address in zip(("web-a", "web-b"), REPLICA_ADDRESSES)]
    try:
        wait_until(lambda: all(server.answers() for server in servers), 60, "both gunicorn servers to answer")
        yield servers
    finally:
        stop_processes(*(server.process for server in servers))


@pytest.fixture(scope="module")
def workers(django_db_setup, tmp_path_factory):
    """Two Celery worker replicas on the suite's Redis, answering the broker's ping before any test uses them."""
    from fleet.celery import app

    log_dir = tmp_path_factory.mktemp("workers")
    started = [Worker("worker-a", log_dir), Worker("worker-b", log_dir)]
    try:
        def both_answer() -> bool:
            replies = {name for reply in app.control.ping(timeout=1.0) for name in reply}
            return {worker.node for worker in started} <= replies

        wait_until(both_answer, 60, "both Celery workers to answer a ping", poll_s=0.5)
        yield started
    finally:
        stop_processes(*(worker.process for worker in started))


class SiteAgent:
    """One gateway's uploads: numbered batches of realistic items, and what each answer said."""

    def __init__(self, index: int):
        organization = Organization.objects.get_or_create(name="Scale out", slug="scale-out")[0]
        site = Site.objects.create(organization=organization, name=f"site-{index}")
        network = ChargingNetwork.objects.create(site=site, name="main", max_current_per_phase_a=32)
        for name in ("cp1", "cp2"):
            Charger.objects.create(network=network, name=name, driver="simulated", max_current_a=16)
        self.index = index
        self.gateway = Gateway.objects.create(site=site, name=f"gw-{index}")
        self.headers = {"Authorization": f"Bearer {gateway_issue_token(self.gateway)}"}
        start = timezone.now() - timedelta(seconds=BATCHES * ITEMS_PER_BATCH + 60)
        items = realistic_items(str(network.pk), 1, BATCHES * ITEMS_PER_BATCH, start, seed=index)
        self.batches = [items[k * ITEMS_PER_BATCH:(k + 1) * ITEMS_PER_BATCH] for k in range(BATCHES)]
        self.answers: list[tuple[int, int, int, int | str, str, str]] = []
        """(batch, expected acked_seq, status, acked_seq or body, node header, server name) of every upload."""
        self._lock = threading.Lock()

    def send(self, client: httpx.Client, server: WebServer, batch: int, expected_ack: int) -> None:
        response = client.post(f"{server.url}{TELEMETRY_URL}", json=batch_of(self.gateway.name, self.batches[batch]),
                               headers=self.headers, timeout=30)
        acked = response.json().get("acked_seq") if response.status_code == 200 else response.text
        with self._lock:
            self.answers.append((batch, expected_ack, response.status_code, acked, response.headers.get(NODE_HEADER, ""),
                                 server.name))

    def run(self, servers: list[WebServer]) -> None:
        """Upload every batch in order, alternating servers; some to both at once, some again later."""
        with httpx.Client() as client:
            for batch in range(BATCHES):
                last_seq = (batch + 1) * ITEMS_PER_BATCH
                server = servers[(self.index + batch) % 2]
                other = servers[(self.index + batch + 1) % 2]
                if batch in BOTH_AT_ONCE:
                    pair = [threading.Thread(target=self.send, args=(client, target, batch, last_seq))
                            for target in (server, other)]
                    for thread in pair:
                        thread.start()
                    for thread in pair:
                        thread.join(60)
                else:
                    self.send(client, server, batch, last_seq)
                if batch - 1 in SENT_AGAIN_LATER:
                    # The previous batch went to `other`; its copy goes to `server`, and the mark is this batch's.
                    self.send(client, server, batch - 1, last_seq)

    def stored_seqs(self) -> list[int]:
        return sorted(
            list(TelemetrySample.objects.filter(gateway=self.gateway).values_list("seq", flat=True))
            + list(TelemetryEvent.objects.filter(gateway=self.gateway).values_list("seq", flat=True))
        )


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_uploads_spread_over_two_web_servers_are_stored_exactly_once(web_servers):
    agents = [SiteAgent(index) for index in range(GATEWAYS)]
    threads = [threading.Thread(target=agent.run, args=(web_servers,)) for agent in agents]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)

    uploads_per_gateway = BATCHES + len(BOTH_AT_ONCE) + len(SENT_AGAIN_LATER)
    for agent in agents:
        assert len(agent.answers) == uploads_per_gateway, agent.answers
        wrong = [(batch, status, acked) for batch, expected, status, acked, _, _ in agent.answers
                 if (status, acked) != (200, expected)]
        assert wrong == [], "an answer acknowledged more or less than what is stored"
        stored = agent.stored_seqs()
        assert stored == list(range(1, BATCHES * ITEMS_PER_BATCH + 1)), "a sequence number is missing or stored twice"
        assert Gateway.objects.get(pk=agent.gateway.pk).acked_seq == BATCHES * ITEMS_PER_BATCH

    answers = [answer for agent in agents for answer in agent.answers]
    served_by = Counter(server.name for *_, node, _ in answers for server in web_servers if server.serves_from(node))
    sent_to = Counter(server_name for *_, server_name in answers)
    assert served_by == sent_to, "an answer came from a process of the other server"
    assert all(served_by[server.name] >= len(answers) // 3 for server in web_servers), served_by
    # The servers' own access logs agree: each logged exactly the uploads it answered.
    wait_until(lambda: {s.name: s.telemetry_posts_logged() for s in web_servers} == dict(sent_to), 5, "the access logs")
    # Every batch sent to both at once was answered by both servers, each from its own process.
    for agent in agents:
        for batch in BOTH_AT_ONCE:
            pair = [(server_name, node) for b, *_, node, server_name in agent.answers if b == batch]
            assert {server_name for server_name, _ in pair} == {"web-a", "web-b"}
            assert len({node for _, node in pair}) == 2


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_burst_of_alert_evaluations_runs_on_both_workers(workers):
    from fleet.celery import app

    nodes = [worker.node for worker in workers]

    def evaluations_run() -> dict[str, int]:
        stats = app.control.inspect(destination=nodes, timeout=1.0).stats() or {}
        return {node: stats.get(node, {}).get("total", {}).get("fleet.tasks.alerts_evaluate", 0) for node in nodes}

    before = evaluations_run()
    burst = 24
    for _ in range(burst):
        app.send_task("fleet.tasks.alerts_evaluate")
    ran = wait_until(
        lambda: (counts := evaluations_run()) and sum(counts.values()) - sum(before.values()) >= burst and counts,
        45, "the burst of evaluations to run", poll_s=0.5,
    )
    per_worker = {node: ran[node] - before[node] for node in nodes}
    assert sum(per_worker.values()) == burst, per_worker
    assert all(count > 0 for count in per_worker.values()), f"one worker ran the whole burst: {per_worker}"
    for worker in workers:
        assert "Traceback" not in worker.log.read_text(), worker.log.read_text()[-3000:]


def caddyfile_for_loopback(proxy_port: int, replica_port: int, dns_port: int) -> str:
    """The shipped Caddyfile with only what loopback needs changed: plain HTTP on a test port, no admin
    endpoint, the replicas' port, and the DNS stub as the resolver that Docker's DNS is in compose."""
    shipped = CADDYFILE.read_text()
    site, upstreams = "{$FUSEGUARD_DOMAIN} {", "dynamic a web 8000 {"
    assert site in shipped and upstreams in shipped, "the Caddyfile changed shape: update this test"
    return "{\n\tadmin off\n}\n" + shipped.replace(site, f"http://127.0.0.1:{proxy_port} {{").replace(
        upstreams, f"dynamic a web {replica_port} {{\n\t\t\tresolvers udp/127.0.0.1:{dns_port}"
    )


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_the_shipped_proxy_config_spreads_requests_over_every_web_replica(web_servers, tmp_path):
    caddy = shutil.which("caddy")
    if caddy is None:
        pytest.skip("caddy is not installed here (Debian package caddy); the proxy config was checked statically only")
    # A third replica that is listed but down (nothing listens there), as a container that is stopping.
    dns = DnsStub("web", [*REPLICA_ADDRESSES, DOWN_REPLICA_ADDRESS])
    proxy = f"http://127.0.0.1:{free_port()}"
    config = tmp_path / "Caddyfile"
    config.write_text(caddyfile_for_loopback(int(proxy.rpartition(":")[2]), web_servers[0].port, dns.port))
    home = {"HOME": str(tmp_path), "XDG_DATA_HOME": str(tmp_path / "data"), "XDG_CONFIG_HOME": str(tmp_path / "config")}
    log = tmp_path / "caddy.log"
    process = subprocess.Popen([caddy, "run", "--config", str(config), "--adapter", "caddyfile"],
                               env={"PATH": os.environ["PATH"], **home}, stdout=open(log, "w"), stderr=subprocess.STDOUT)
    agent = SiteAgent(0)
    try:
        def proxied() -> bool:
            try:
                return httpx.get(f"{proxy}/api/schema/", timeout=2).status_code in (200, 401, 403)
            except httpx.HTTPError:
                return False

        wait_until(proxied, 30, "Caddy to proxy a request")
        with httpx.Client(base_url=proxy, headers=agent.headers, timeout=10) as client:
            responses = [client.get("/api/gateway/v1/config") for _ in range(40)]
    finally:
        stop_processes(process)
        dns.stop()

    # Every request answered, although the DNS also listed a replica that refuses connections.
    assert [response.status_code for response in responses] == [200] * 40, log.read_text()[-2000:]
    served_by = Counter(
        server.name for response in responses for server in web_servers if server.serves_from(response.headers[NODE_HEADER])
    )
    assert sum(served_by.values()) == 40
    assert all(served_by[server.name] >= 5 for server in web_servers), served_by
    assert ("web", 1) in dns.queries, f"the replicas were not looked up by the service name: {dns.queries}"
