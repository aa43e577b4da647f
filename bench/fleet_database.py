"""The fleet's Django on a throwaway PostgreSQL, for the benchmarks that time server code in process."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

from tests.services import ThrowawayPostgres


@contextlib.contextmanager
def fleet_database() -> Iterator[ThrowawayPostgres]:
    """A throwaway PostgreSQL with the fleet's tables, Django set up on it (no Redis); the server stops on exit."""
    postgres = ThrowawayPostgres()
    postgres.start()
    try:
        os.environ["DATABASE_URL"] = postgres.url
        os.environ["REDIS_URL"] = ""
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fleet.settings")
        os.environ.setdefault("LOG_LEVEL", "ERROR")
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection

        call_command("migrate", verbosity=0)
        yield postgres
        connection.close()
    finally:
        postgres.stop()
