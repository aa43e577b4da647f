"""Throwaway PostgreSQL and Redis servers for one test session (a pytest plugin).

Loaded with `-p tests.services` (see pyproject.toml). Its hook wraps
pytest-django's start-up so that `DATABASE_URL` and `REDIS_URL` point at fresh
servers before Django reads its settings. The servers run from the system's
binaries on free loopback ports, with their data in a temporary folder, and
are stopped when the session ends. A `DATABASE_URL` / `REDIS_URL` already in
the environment is used as it is instead.

PostgreSQL refuses to run as root, so as root the server runs as the
`postgres` system user, in a folder that user owns.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

POSTGRES_USER = "fuseguard"
POSTGRES_DATABASE = "fuseguard"
_INSTALL_HINT = "run `bash tests/run.sh` as root once, or install them: apt-get install postgresql redis-server"


class ServiceUnavailable(RuntimeError):
    """A server the tests need cannot be started here; the message says what to install or fix."""


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _find_postgres_binary(name: str) -> str:
    """Find a PostgreSQL server binary on PATH or in Debian's versioned folders, newest first."""
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(
        glob.glob(f"/usr/lib/postgresql/*/bin/{name}"),
        key=lambda path: int(Path(path).parts[-3]) if Path(path).parts[-3].isdigit() else 0,
        reverse=True,
    )
    if candidates:
        return candidates[0]
    raise ServiceUnavailable(f"PostgreSQL's `{name}` was not found; {_INSTALL_HINT}")


def _run(command: list[str], what: str) -> None:
    result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        raise ServiceUnavailable(f"{what} failed ({' '.join(command)}):\n{result.stdout}{result.stderr}")


class ThrowawayPostgres:
    """A PostgreSQL cluster in a temporary folder, tuned for tests (no fsync)."""

    def __init__(self) -> None:
        self.initdb = _find_postgres_binary("initdb")
        self.pg_ctl = _find_postgres_binary("pg_ctl")
        self.base = Path(tempfile.mkdtemp(prefix="fuseguard-pg-"))
        self.data = self.base / "data"
        self.port = _free_port()
        self.run_as: list[str] = []
        if os.geteuid() == 0:
            try:
                owner = pwd.getpwnam("postgres")
            except KeyError:
                raise ServiceUnavailable(
                    "running as root, PostgreSQL needs the unprivileged `postgres` user to run as; "
                    "install Debian's postgresql package (it creates the user) or run the tests as a normal user"
                ) from None
            os.chown(self.base, owner.pw_uid, owner.pw_gid)
            self.run_as = ["runuser", "-u", "postgres", "--"]

    @property
    def url(self) -> str:
        """Connection URL of the test database."""
        return f"postgresql://{POSTGRES_USER}@127.0.0.1:{self.port}/{POSTGRES_DATABASE}"

    def start(self) -> None:
        """Create the cluster, start the server and create the project's database."""
        _run(
            [*self.run_as, self.initdb, "-D", str(self.data), "-U", POSTGRES_USER, "--auth=trust",
             "--encoding=UTF8", "--locale=C", "--no-sync"],
            "initdb",
        )
        options = (
            f"-p {self.port} -k {self.base} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        _run(
            [*self.run_as, self.pg_ctl, "-D", str(self.data), "-l", str(self.base / "server.log"),
             "-w", "-t", "60", "-o", options, "start"],
            "starting PostgreSQL",
        )
        import psycopg

        with psycopg.connect(f"postgresql://{POSTGRES_USER}@127.0.0.1:{self.port}/postgres", autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{POSTGRES_DATABASE}"')

    def stop(self) -> None:
        """Stop the server at once and delete its data."""
        subprocess.run(
            [*self.run_as, self.pg_ctl, "-D", str(self.data), "-m", "immediate", "-w", "stop"],
            capture_output=True,
            timeout=60,
        )
        shutil.rmtree(self.base, ignore_errors=True)


class ThrowawayRedis:
    """A Redis server without persistence in a temporary folder."""

    def __init__(self) -> None:
        binary = shutil.which("redis-server") or ("/usr/bin/redis-server" if Path("/usr/bin/redis-server").exists() else None)
        if binary is None:
            raise ServiceUnavailable(f"`redis-server` was not found; {_INSTALL_HINT}")
        self.binary = binary
        self.base = Path(tempfile.mkdtemp(prefix="fuseguard-redis-"))
        self.port = _free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        """Connection URL of database 0."""
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        """Start the server and wait until it answers PING."""
        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.base), "--daemonize", "no", "--logfile", str(self.base / "server.log")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                log = (self.base / "server.log").read_text(errors="replace") if (self.base / "server.log").exists() else ""
                raise ServiceUnavailable(f"redis-server exited with {self.process.returncode}:\n{log}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                pass
            time.sleep(0.05)
        raise ServiceUnavailable("redis-server did not answer PING within 20 s")

    def stop(self) -> None:
        """Stop the server and delete its folder."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
        shutil.rmtree(self.base, ignore_errors=True)


_started: list[ThrowawayPostgres | ThrowawayRedis] = []


@pytest.hookimpl(wrapper=True)
def pytest_load_initial_conftests(early_config, parser, args):
    """Start the servers before pytest-django configures Django from the environment."""
    # Persistent connections from live-server threads would keep the test database busy at teardown.
    os.environ.setdefault("DATABASE_CONN_MAX_AGE_S", "0")
    try:
        if not os.environ.get("DATABASE_URL"):
            postgres = ThrowawayPostgres()
            _started.append(postgres)
            postgres.start()
            os.environ["DATABASE_URL"] = postgres.url
        if not os.environ.get("REDIS_URL"):
            redis = ThrowawayRedis()
            _started.append(redis)
            redis.start()
            os.environ["REDIS_URL"] = redis.url
    except ServiceUnavailable as problem:
        _stop_all()
        raise pytest.UsageError(f"test services: {problem}") from None
    return (yield)


def pytest_unconfigure(config):
    """Stop what this plugin started."""
    _stop_all()


def _stop_all() -> None:
    while _started:
        _started.pop().stop()
