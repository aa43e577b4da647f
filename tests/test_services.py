"""The test tooling gives the tests that need them real PostgreSQL and Redis servers, and only those tests."""

import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg
import pytest
import redis
from django.db import connection

from tests.servers import ReservedPort, ServiceUnavailable, ThrowawayPostgres, ThrowawayRedis
from tests.services import OnDemand, unstarted_server_hint

ROOT = Path(__file__).resolve().parents[1]
SERVER_PROGRAMS = frozenset({"initdb", "pg_ctl", "postgres", "redis-server"})


@pytest.mark.django_db
def test_the_database_is_a_real_postgresql_server():
    assert connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('server_version_num')::int")
        (version,) = cursor.fetchone()
    assert version >= 130000


def test_redis_answers_and_stores_values(redis_server):
    client = redis.Redis.from_url(redis_server)
    client.set("fuseguard:probe", "ok", ex=10)
    assert client.get("fuseguard:probe") == b"ok"


# --- servers start only for the tests that need them ---------------------------------------------


def process_table() -> dict[int, tuple[int, str]]:
    """Every process on the machine as {pid: (parent pid, program name)}, from /proc."""
    table = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
        except OSError:  # the process ended while we looked
            continue
        # "pid (name) state ppid ...": the name may hold spaces and parentheses, the last ")" ends it.
        head, _, tail = stat.rpartition(")")
        table[int(entry.name)] = (int(tail.split()[1]), head.partition("(")[2])
    return table


def descends_from(pid: int, ancestor: int, table: dict[int, tuple[int, str]]) -> bool:
    """Whether `pid` is `ancestor` or one of its children, grandchildren, ..."""
    while pid in table and pid > 1:
        if pid == ancestor:
            return True
        pid = table[pid][0]
    return False


def run_pytest_watching_servers(*args: str) -> tuple[int, str, set[str]]:
    """Run pytest alone (no server URLs in its environment); return its exit code, output and server programs it ran.

    The processes are watched from outside while it runs, so the answer does
    not depend on what the plugin believes it started. `initdb` and `pg_ctl`
    run for a second or more and Redis for the whole run: a tenth-second look
    sees them.
    """
    environment = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "PYTEST_ADDOPTS")}
    environment["HYPOTHESIS_PROFILE"] = "quick"  # the question is which servers start, not the properties again
    seen: set[str] = set()
    with tempfile.TemporaryFile("w+") as output:
        run = subprocess.Popen(
            [sys.executable, "-m", "pytest", *args, "-q", "-p", "no:cacheprovider"],
            cwd=ROOT, env=environment, stdout=output, stderr=subprocess.STDOUT, text=True,
        )
        deadline_s = time.monotonic() + 600
        while run.poll() is None:
            if time.monotonic() > deadline_s:
                run.kill()
                pytest.fail("the pytest run did not finish within 600 s")
            table = process_table()
            seen |= {name for pid, (_, name) in table.items() if name in SERVER_PROGRAMS and descends_from(pid, run.pid, table)}
            time.sleep(0.1)
        output.seek(0)
        return run.returncode, output.read(), seen


@pytest.mark.slow
def test_the_pure_packages_tests_run_without_any_server():
    returncode, output, programs = run_pytest_watching_servers("tests/balancing", "tests/meters")

    assert returncode == 0, output
    assert programs == set(), output
    assert "test services: started no server" in output


@pytest.mark.slow
def test_a_test_that_needs_the_database_gets_postgresql_and_redis_started_for_it():
    returncode, output, programs = run_pytest_watching_servers(
        "tests/test_services.py::test_the_database_is_a_real_postgresql_server", "--no-migrations"
    )

    assert returncode == 0, output
    assert {"initdb", "pg_ctl", "redis-server"} <= programs, output
    assert re.search(r"test services: started PostgreSQL \([\d.]+ s\), Redis \([\d.]+ s\)", output), output


def test_a_reserved_port_is_taken_by_nothing_else_until_its_server_starts():
    reserved = ReservedPort()
    with socket.socket() as intruder:
        with pytest.raises(OSError):
            intruder.bind(("127.0.0.1", reserved.number))
    reserved.release()
    with socket.socket() as server:
        server.bind(("127.0.0.1", reserved.number))


class MachineWithoutPostgres:
    """A server that cannot start, as on a machine without PostgreSQL installed (which this one cannot be)."""

    name = "PostgreSQL"
    port = 1
    url = "postgresql://fuseguard@127.0.0.1:1/fuseguard"

    def __init__(self) -> None:
        self.start_attempts = 0

    def start(self) -> None:
        self.start_attempts += 1
        raise ServiceUnavailable("PostgreSQL's `initdb` was not found; install them: apt-get install postgresql redis-server")

    def stop(self) -> None:
        pass


def test_every_test_that_needs_a_server_that_cannot_start_fails_with_the_install_hint():
    server = MachineWithoutPostgres()
    service = OnDemand(server)

    for _ in range(2):
        with pytest.raises(pytest.fail.Exception, match=r"PostgreSQL could not start: .*apt-get install postgresql"):
            service.require()

    assert server.start_attempts == 1
    assert not service.started



def connect_to_postgres(url: str) -> None:
    psycopg.connect(url, connect_timeout=2).close()


def connect_to_redis(url: str) -> None:
    redis.Redis.from_url(url, socket_connect_timeout=2).ping()


@pytest.mark.parametrize(
    ("server_class", "connect", "variable", "fixture"),
    [
        (ThrowawayPostgres, connect_to_postgres, "DATABASE_URL", "`postgres_server`"),
        (ThrowawayRedis, connect_to_redis, "REDIS_URL", "`redis_server`"),
    ],
)
def test_a_test_that_forgot_to_ask_for_a_server_is_told_which_fixture_to_request(server_class, connect, variable, fixture):
    service = OnDemand(server_class())
    try:
        with pytest.raises(Exception) as refused:  # noqa: PT011 - each client raises its own kind of error
            connect(service.server.url)
        hint = unstarted_server_hint(str(refused.value), {variable: service})
    finally:
        service.stop()

    assert hint is not None and fixture in hint, str(refused.value)
    assert unstarted_server_hint(str(refused.value).replace(str(service.server.port), "1"), {variable: service}) is None
