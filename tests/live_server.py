"""gunicorn serving the fleet app on a loopback port against the test database, for end-to-end tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx

from tests.processes import test_database_url, wait_until

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


class Server:
    """The fleet app under gunicorn; `stop()` and `start()` again to take it away mid-run."""

    def __init__(self, port: int, workers: int = 2, env: dict[str, str] | None = None, preload: bool = False):
        self.port = port
        self.workers = workers
        self.preload = preload
        """Load the app once in gunicorn's master before forking: a restart costs one Django start, not one per worker."""
        self.process: subprocess.Popen | None = None
        self.env = {
            **os.environ,
            "DATABASE_URL": test_database_url(),
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
            **(env or {}),
        }

    @property
    def url(self) -> str:
        """The base URL gateways are given."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        """Start gunicorn and wait until it answers."""
        self.process = subprocess.Popen(
            [str(BIN / "gunicorn"), "fleet.wsgi", "-b", f"127.0.0.1:{self.port}", "-w", str(self.workers),
             "--log-level", "warning", *(["--preload"] if self.preload else [])],
            cwd=ROOT, env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )

        def up():
            # A request refused before any work: the schema would be built first, slow under load.
            try:
                return httpx.get(f"{self.url}/api/gateway/v1/config", timeout=2).status_code in (401, 403)
            except httpx.HTTPError:
                return False

        wait_until(up, 30, "gunicorn to answer")

    def stop(self) -> None:
        """Stop gunicorn gracefully (requests in progress finish) and wait for it."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=20)
