"""Fixtures shared by the whole suite."""

import os

import pytest
from hypothesis import settings as hypothesis_settings

# CI machines are shared and slow: property tests run a fixed number of
# examples without per-example deadlines, so timing noise never fails them.
hypothesis_settings.register_profile("ci", max_examples=100, deadline=None, print_blob=True)
hypothesis_settings.register_profile("dev", max_examples=50, deadline=None)
# For runs that check the tooling around the tests rather than the properties themselves.
hypothesis_settings.register_profile("quick", max_examples=5, deadline=None)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))


@pytest.fixture(scope="session")
def django_db_setup(postgres_server, redis_server, django_db_setup):
    """pytest-django's test databases, created once PostgreSQL and Redis run (see tests/services.py).

    Every test that touches the database passes through this fixture (`db`,
    `transactional_db`, `live_server`, the `django_db` mark, Django test
    cases), so none of them runs before the servers are up. Redis comes too:
    code behind the database also throttles through the Redis cache and queues
    Celery tasks on the Redis broker. The arguments start in the order listed,
    so the servers are up before pytest-django's own set-up creates the
    test database.
    """
    return django_db_setup
