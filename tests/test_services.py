"""The test tooling gives the suite real PostgreSQL and Redis servers."""

import os

import pytest
import redis
from django.db import connection


@pytest.mark.django_db
def test_the_database_is_a_real_postgresql_server():
    assert connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('server_version_num')::int")
        (version,) = cursor.fetchone()
    assert version >= 130000


def test_redis_answers_and_stores_values():
    client = redis.Redis.from_url(os.environ["REDIS_URL"])
    client.set("fuseguard:probe", "ok", ex=10)
    assert client.get("fuseguard:probe") == b"ok"
