"""Helpers for tests that run parts of the system as their own processes."""

import socket
import time

from django.db import connection


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(predicate, timeout_s: float, what: str, poll_s: float = 0.1):
    """Poll until `predicate()` is truthy and return its value; fail the test naming `what` on timeout."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(poll_s)
    raise AssertionError(f"timed out waiting for {what}")


def test_database_url() -> str:
    """DATABASE_URL of the database this test uses, for a server or worker process to share it."""
    settings = connection.settings_dict
    return f"postgresql://{settings['USER']}@{settings['HOST']}:{settings['PORT']}/{settings['NAME']}"


test_database_url.__test__ = False  # a helper, not a test, despite its name
