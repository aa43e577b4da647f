"""Throwaway PostgreSQL and Redis servers on reserved loopback ports, for the tests and the benchmarks.

Each server's URL is known as soon as the object exists (its port is reserved
then), and the process runs only from `start()` to `stop()`: the test plugin in
tests/services.py hands the URLs to Django at once and starts a server only
when a test needs it. The servers run from the system's binaries, with their
data in a temporary folder that `stop()` deletes.

PostgreSQL refuses to run as root, so as root the server runs as the
`postgres` system user, in a temporary folder that user owns.
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

POSTGRES_USER = "fuseguard"
POSTGRES_DATABASE = "fuseguard"
_INSTALL_HINT = "run `bash tests/run.sh` as root once, or install them: apt-get install postgresql redis-server"


class ServiceUnavailable(RuntimeError):
    """A server the tests need cannot be started here; the message says what to install or fix."""


class ReservedPort:
    """A free loopback port, held bound (not listening) until its server starts.

    The URL naming the port is handed out long before the server starts; while
    the placeholder socket holds the port, no other program's ephemeral port
    (a test's `free_port()`, an outgoing connection) can land on it.
    """

    def __init__(self) -> None:
        self._placeholder: socket.socket | None = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._placeholder.bind(("127.0.0.1", 0))
        self.number: int = self._placeholder.getsockname()[1]

    def release(self) -> None:
        """Free the port for the server that is about to bind it."""
        if self._placeholder is not None:
            self._placeholder.close()
            self._placeholder = None


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


def _postgres_run_as() -> list[str]:
    """The command prefix that runs PostgreSQL's tools unprivileged: none, or `runuser` to `postgres` as root."""
    if os.geteuid() != 0:
        return []
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        raise ServiceUnavailable(
            "running as root, PostgreSQL needs the unprivileged `postgres` user to run as; "
            "install Debian's postgresql package (it creates the user) or run the tests as a normal user"
        ) from None
    return ["runuser", "-u", "postgres", "--"]


def _run(command: list[str], what: str) -> None:
    result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        raise ServiceUnavailable(f"{what} failed ({' '.join(command)}):\n{result.stdout}{result.stderr}")


class ThrowawayPostgres:
    """A PostgreSQL cluster in a temporary folder, tuned for tests (no fsync); its URL is known before it starts."""

    name = "PostgreSQL"

    def __init__(self) -> None:
        self._port = ReservedPort()
        self.port = self._port.number
        self.base: Path | None = None
        self._stop_command: list[str] | None = None

    @property
    def url(self) -> str:
        """Connection URL of the test database."""
        return f"postgresql://{POSTGRES_USER}@127.0.0.1:{self.port}/{POSTGRES_DATABASE}"

    def start(self) -> None:
        """Create the cluster, start the server and create the project's database."""
        initdb, pg_ctl = _find_postgres_binary("initdb"), _find_postgres_binary("pg_ctl")
        run_as = _postgres_run_as()
        self.base = Path(tempfile.mkdtemp(prefix="fuseguard-pg-"))
        if run_as:
            owner = pwd.getpwnam("postgres")
            os.chown(self.base, owner.pw_uid, owner.pw_gid)
        data = self.base / "data"
        _run(
            [*run_as, initdb, "-D", str(data), "-U", POSTGRES_USER, "--auth=trust",
             "--encoding=UTF8", "--locale=C", "--no-sync"],
            "initdb",
        )
        options = (
            f"-p {self.port} -k {self.base} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        self._stop_command = [*run_as, pg_ctl, "-D", str(data), "-m", "immediate", "-w", "stop"]
        self._port.release()
        _run(
            [*run_as, pg_ctl, "-D", str(data), "-l", str(self.base / "server.log"), "-w", "-t", "60", "-o", options, "start"],
            "starting PostgreSQL",
        )
        import psycopg

        with psycopg.connect(f"postgresql://{POSTGRES_USER}@127.0.0.1:{self.port}/postgres", autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{POSTGRES_DATABASE}"')

    def stop(self) -> None:
        """Stop the server at once and delete its data; harmless if it never started."""
        self._port.release()
        if self._stop_command is not None:
            subprocess.run(self._stop_command, capture_output=True, timeout=60)
            self._stop_command = None
        if self.base is not None:
            shutil.rmtree(self.base, ignore_errors=True)
            self.base = None


class ThrowawayRedis:
    """A Redis server without persistence in a temporary folder; its URL is known before it starts."""

    name = "Redis"

    def __init__(self) -> None:
        self._port = ReservedPort()
        self.port = self._port.number
        self.base: Path | None = None
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        """Connection URL of database 0."""
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        """Start the server and wait until it answers PING."""
        binary = shutil.which("redis-server") or ("/usr/bin/redis-server" if Path("/usr/bin/redis-server").exists() else None)
        if binary is None:
            raise ServiceUnavailable(f"`redis-server` was not found; {_INSTALL_HINT}")
        self.base = Path(tempfile.mkdtemp(prefix="fuseguard-redis-"))
        log = self.base / "server.log"
        self._port.release()
        self.process = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.base), "--daemonize", "no", "--logfile", str(log)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                output = log.read_text(errors="replace") if log.exists() else ""
                raise ServiceUnavailable(f"redis-server exited with {self.process.returncode}:\n{output}")
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
        """Stop the server and delete its folder; harmless if it never started."""
        self._port.release()
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.process = None
        if self.base is not None:
            shutil.rmtree(self.base, ignore_errors=True)
            self.base = None
