"""Settings come from the environment and fail loudly; production mode passes Django's deploy checks."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from fleet.env import EnvironmentConfigError, env_bool, env_choice, env_int, env_list, env_str

ROOT = Path(__file__).resolve().parents[2]


def run_manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    environment.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120
    )


PRODUCTION_ENV = {
    "DJANGO_ENV": "production",
    "DJANGO_SECRET_KEY": "k3y-" + "q8Zr5TnW0aLx7YpV" * 4,
    "DJANGO_ALLOWED_HOSTS": "fleet.example.com",
}


def test_production_mode_passes_the_deploy_checks():
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize(
    ("missing", "named"),
    [("DJANGO_SECRET_KEY", "DJANGO_SECRET_KEY"), ("DJANGO_ALLOWED_HOSTS", "DJANGO_ALLOWED_HOSTS")],
)
def test_production_mode_refuses_to_start_without_its_secrets(missing, named):
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != missing}
    result = run_manage("check", **env)
    assert result.returncode != 0
    assert named in result.stderr


def test_there_are_no_model_changes_without_a_migration(postgres_server):
    # The database is running, so Django also checks the migration history's consistency.
    result = run_manage("makemigrations", "--check", "--dry-run")
    assert result.returncode == 0, result.stdout + result.stderr


# --- the helpers ---------------------------------------------------------------


@pytest.mark.parametrize(("raw", "expected"), [("1", True), ("yes", True), ("off", False), ("0", False)])
def test_env_bool_reads_the_usual_spellings(monkeypatch, raw, expected):
    monkeypatch.setenv("FG_FLAG", raw)
    assert env_bool("FG_FLAG", not expected) is expected


@pytest.mark.parametrize(
    ("helper", "raw", "message"),
    [
        (lambda: env_bool("FG_X", False), "maybe", "FG_X='maybe' is not a boolean"),
        (lambda: env_int("FG_X", 1), "ten", "FG_X='ten' is not an integer"),
        (lambda: env_int("FG_X", 1, minimum=5), "3", "FG_X=3 is below the minimum 5"),
        (lambda: env_choice("FG_X", "a", ("a", "b")), "c", "FG_X='c' must be one of: a, b"),
    ],
)
def test_bad_values_fail_loudly_naming_the_variable(monkeypatch, helper, raw, message):
    monkeypatch.setenv("FG_X", raw)
    with pytest.raises(EnvironmentConfigError, match=message):
        helper()


def test_required_strings_must_be_set(monkeypatch):
    monkeypatch.delenv("FG_REQUIRED", raising=False)
    with pytest.raises(EnvironmentConfigError, match="FG_REQUIRED must be set"):
        env_str("FG_REQUIRED")


def test_lists_are_comma_separated_without_blanks(monkeypatch):
    monkeypatch.setenv("FG_HOSTS", "a.example, b.example,,")
    assert env_list("FG_HOSTS", []) == ["a.example", "b.example"]


# --- behind a connection pooler (deploy/README.md, "Scaling out") -----------------


POOLING_PROBE = (
    "from django.db import connection; from django.contrib.contenttypes.models import ContentType; "
    "rows = ContentType.objects.iterator(chunk_size=1); next(rows); "
    "cursor = connection.cursor(); [cursor.execute('SELECT 1') for _ in range(10)]; "
    "cursor.execute('SELECT count(*) FROM pg_cursors'); "
    "print(cursor.fetchone()[0], connection.connection.prepare_threshold)"
)
"""Server-side cursors open while an `.iterator()` runs, and psycopg's prepare threshold."""


@pytest.mark.django_db
def test_transaction_pooling_turns_off_server_side_cursors_and_prepared_statements_stay_off():
    """Both break when consecutive transactions may land on different server connections (PgBouncer, transaction mode).

    Django keeps psycopg's prepared statements off by default (prepare_threshold None); this guards that too.
    """
    from tests.processes import test_database_url

    pooled = run_manage("shell", "-c", POOLING_PROBE, DATABASE_URL=test_database_url(), DATABASE_TRANSACTION_POOLING="1")
    assert pooled.returncode == 0, pooled.stdout + pooled.stderr
    assert pooled.stdout.split()[-2:] == ["0", "None"]
    direct = run_manage("shell", "-c", POOLING_PROBE, DATABASE_URL=test_database_url())
    assert direct.returncode == 0, direct.stdout + direct.stderr
    assert direct.stdout.split()[-2:] == ["1", "None"]
