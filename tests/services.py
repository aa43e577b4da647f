"""Throwaway PostgreSQL and Redis servers, started when the first test needs them (a pytest plugin).

Loaded with `-p tests.services` (see pyproject.toml). Django's settings read
`DATABASE_URL` and `REDIS_URL` when pytest-django imports them, before any test
runs, so this plugin's start-up hook only reserves a loopback port for each
server and puts the URLs in the environment: cheap, and nothing runs yet. The
servers (tests/servers.py) start the first time a test asks for one through the
session fixtures `postgres_server` / `redis_server`; tests/conftest.py makes
pytest-django's `django_db_setup` ask for both, so every test that touches the
database has them. A run that needs neither, such as `pytest tests/balancing`,
starts no server, and the terminal summary says what was started. Everything
is stopped and deleted when pytest ends. A `DATABASE_URL` / `REDIS_URL` already
in the environment is used as it is.
"""

from __future__ import annotations

import os
import re
import time
from typing import Protocol

import pytest

# The benchmarks import the servers from here too.
from tests.servers import ServiceUnavailable, ThrowawayPostgres, ThrowawayRedis


class Server(Protocol):
    """What `OnDemand` needs of a throwaway server."""

    name: str
    port: int
    url: str

    def start(self) -> None: ...

    def stop(self) -> None: ...


class OnDemand:
    """A server whose URL is handed out at once and whose process starts the first time a test needs it."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.start_duration_s: float | None = None
        self._failure: str | None = None

    @property
    def started(self) -> bool:
        """Whether the server process was started in this session."""
        return self.start_duration_s is not None

    def require(self) -> str:
        """Start the server unless it runs already and return its URL; fail the test if it cannot start.

        A server that failed to start is not tried again: every test that
        needs it fails with the same message, none runs without it.
        """
        if self._failure is None and not self.started:
            began_s = time.monotonic()
            try:
                self.server.start()
            except Exception as problem:  # whatever went wrong, the tests that need it must not run
                self.server.stop()
                reason = problem if isinstance(problem, ServiceUnavailable) else f"{type(problem).__name__}: {problem}"
                self._failure = f"test services: {self.server.name} could not start: {reason}"
            else:
                self.start_duration_s = time.monotonic() - began_s
        if self._failure is not None:
            pytest.fail(self._failure, pytrace=False)
        return self.server.url

    def stop(self) -> None:
        """Stop the server if it was started and give back its reserved port."""
        self.server.stop()


_on_demand: dict[str, OnDemand] = {}
"""The servers this session may start, by the environment variable that names them."""


@pytest.hookimpl(wrapper=True)
def pytest_load_initial_conftests(early_config, parser, args):
    """Name the servers in the environment before pytest-django configures Django from it; start none yet."""
    # Persistent connections from live-server threads would keep the test database busy at teardown.
    os.environ.setdefault("DATABASE_CONN_MAX_AGE_S", "0")
    for variable, server_class in (("DATABASE_URL", ThrowawayPostgres), ("REDIS_URL", ThrowawayRedis)):
        if not os.environ.get(variable):
            service = OnDemand(server_class())
            _on_demand[variable] = service
            os.environ[variable] = service.server.url
    return (yield)


def _require(variable: str) -> str:
    service = _on_demand.get(variable)
    return service.require() if service is not None else os.environ[variable]


@pytest.fixture(scope="session")
def postgres_server() -> str:
    """URL of a running PostgreSQL server (DATABASE_URL): the environment's, or a throwaway one started now."""
    return _require("DATABASE_URL")


@pytest.fixture(scope="session")
def redis_server() -> str:
    """URL of a running Redis server (REDIS_URL): the environment's, or a throwaway one started now."""
    return _require("REDIS_URL")


_FIXTURE_FOR = {"DATABASE_URL": "`postgres_server` (or the database: `db`, `django_db`)", "REDIS_URL": "`redis_server`"}


def unstarted_server_hint(failure_text: str, services: dict[str, OnDemand]) -> str | None:
    """Explain a failure that talked to a server this session reserved but never started, else None.

    Such a test passes in a run where another test happened to start the
    server first and fails alone; the hint names the fixture it forgot.
    """
    for variable, service in services.items():
        pattern = rf"127\.0\.0\.1\W+(?:port\s+)?{service.server.port}\b"
        if not service.started and re.search(pattern, failure_text):
            return (
                f"This test reached for {service.server.name} ({variable}), which starts only for the tests "
                f"that ask for it: request the fixture {_FIXTURE_FOR[variable]}."
            )
    return None


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Add the hint above to the report of a test that failed for want of a server."""
    report = yield
    if report.failed and _on_demand:
        hint = unstarted_server_hint(report.longreprtext, _on_demand)
        if hint is not None:
            report.sections.append(("test services", hint))
    return report


def pytest_terminal_summary(terminalreporter):
    """Say which servers this run started, so a run that needed none can be seen to have started none."""
    if not _on_demand:
        return
    started = [
        f"{service.server.name} ({service.start_duration_s:.1f} s)" for service in _on_demand.values() if service.started
    ]
    terminalreporter.write_line(f"test services: started {', '.join(started) if started else 'no server'}")


def pytest_unconfigure(config):
    """Stop what this plugin started."""
    while _on_demand:
        _on_demand.popitem()[1].stop()
