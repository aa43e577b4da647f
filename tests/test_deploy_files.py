"""The deployment files in deploy/ hold together, without Docker or a systemd host.

- docker-compose.yml validates against the Compose Specification's JSON schema
  (the copy check-jsonschema ships) and keeps its shape: migrations first, one
  beat, only the reverse proxy publishing ports;
- .env.example lists every variable compose substitutes and every variable the
  server's settings read, each documented in deploy/README.md, and as written
  (with a secret key filled in) passes `manage.py check --deploy`;
- the Dockerfile installs what pyproject.toml packages, as a non-root user;
- the gateway's systemd unit passes `systemd-analyze verify` and keeps a low
  exposure score, where systemd-analyze exists;
- the example site config passes `python -m gateways check` and shows every key;
- web and worker scale (`--scale`), beat cannot, and the Caddyfile balances over
  every web replica (and passes `caddy validate` where caddy exists; the
  scale-out test runs it against two live web servers).
"""

from __future__ import annotations

import ast
import dataclasses
import fnmatch
import importlib.resources
import json
import re
import secrets
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

from balancing import PHASE_ROTATIONS
from gateways.protocol import ChargerConfig, GatewayConfig, MeterConfig, NetworkConfig
from gateways.protocol.power_caps import DimmingInputConfig, PowerCapConfig, RecurringCapConfig

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
COMPOSE = DEPLOY / "docker-compose.yml"
CADDYFILE = DEPLOY / "Caddyfile"
ENV_EXAMPLE = DEPLOY / ".env.example"
DOCKERFILE = DEPLOY / "Dockerfile"
DOCKERIGNORE = DEPLOY / "Dockerfile.dockerignore"
UNIT = DEPLOY / "systemd" / "fuseguard-gateway.service"
SITE_EXAMPLE = DEPLOY / "gateway" / "site.example.toml"
DEPLOY_README = DEPLOY / "README.md"

APP_SERVICES = ("migrate", "web", "worker", "beat")
READ_BY_OTHER_PROGRAMS = {"WEB_CONCURRENCY": "gunicorn reads it as its default worker count"}
"""Variables in .env.example that neither compose nor our settings read, and who does."""


def text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def env_example() -> dict[str, str | None]:
    """Variables of .env.example: name -> value, None where the line is commented out (the default applies)."""
    found: dict[str, str | None] = {}
    for line in text(ENV_EXAMPLE).splitlines():
        match = re.fullmatch(r"(#\s*)?([A-Z][A-Z0-9_]*)=(.*)", line.strip())
        if match:
            commented, name, value = match.groups()
            if name not in found or found[name] is None:
                found[name] = None if commented else value
    return found


def substituted_variables(text: str) -> set[str]:
    """Names in ${NAME...} or $NAME substitutions (compose), and {$NAME} placeholders (Caddy); $$ is an escape."""
    text = text.replace("$$", "")
    return set(re.findall(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)", text))


def setting_variables() -> set[str]:
    """Environment variables the server reads: env_*() helpers, dj_database_url's env=, os.environ reads."""
    names: set[str] = set()
    fleet = ROOT / "fleet"
    for path in fleet.rglob("*.py"):
        relative = path.relative_to(fleet).as_posix()
        # env.py defines the helpers; management commands and migrations are not the running server.
        if relative == "env.py" or relative.startswith(("management/", "migrations/")):
            continue
        for node in ast.walk(ast.parse(text(path), str(path))):
            if isinstance(node, ast.Subscript) and _is_os_environ(node.value) and isinstance(node.ctx, ast.Load):
                names.update(_string(node.slice))
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            reads_environ = name == "getenv" or (
                name == "get" and isinstance(func, ast.Attribute) and _is_os_environ(func.value)
            )
            if (name.startswith("env_") or reads_environ) and node.args:
                names.update(_string(node.args[0]))
            for keyword in node.keywords:
                if keyword.arg == "env":
                    names.update(_string(keyword.value))
    names.discard("DJANGO_SETTINGS_MODULE")
    return names


def _is_os_environ(node: ast.AST) -> bool:
    return isinstance(node, ast.Attribute) and node.attr == "environ"


def _string(node: ast.AST) -> set[str]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return {node.value}
    return set()


def compose() -> dict:
    return yaml.safe_load(text(COMPOSE))


# --- docker-compose.yml ---------------------------------------------------------


def compose_spec_validator():
    """A validator for the Compose Specification's JSON schema, as vendored by check-jsonschema (Apache-2.0)."""
    reason = "check-jsonschema (test extras) ships the Compose Specification's schema"
    pytest.importorskip("check_jsonschema", reason=reason)
    jsonschema = pytest.importorskip("jsonschema")
    vendored = importlib.resources.files("check_jsonschema") / "builtin_schemas" / "vendor" / "compose-spec.json"
    schema = json.loads(vendored.read_text(encoding="utf-8"))
    validator_class = jsonschema.validators.validator_for(schema)
    return validator_class(schema, format_checker=validator_class.FORMAT_CHECKER)


def test_the_compose_file_validates_against_the_compose_specification():
    validator = compose_spec_validator()
    problems = [
        f"{'/'.join(map(str, error.absolute_path)) or '(root)'}: {error.message}"
        for error in validator.iter_errors(compose())
    ]
    assert problems == []


def test_the_schema_check_catches_a_misspelt_key():
    """Guards the test above: the schema is strict enough to reject a typo."""
    broken = compose()
    broken["services"]["web"]["restrat"] = broken["services"]["web"].pop("restart")
    assert not compose_spec_validator().is_valid(broken)


def test_migrations_run_once_before_web_worker_and_beat():
    services = compose()["services"]
    assert services["migrate"]["restart"] == "no"
    assert "migrate" in " ".join(services["migrate"]["command"])
    assert "collectstatic" in " ".join(services["migrate"]["command"])
    for name in ("web", "worker", "beat"):
        assert services[name]["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}, name
    assert services["migrate"]["depends_on"]["db"] == {"condition": "service_healthy"}


def test_celery_runs_one_worker_service_and_exactly_one_beat():
    services = compose()["services"]
    commands = {name: service.get("command", []) for name, service in services.items()}
    beats = [name for name, command in commands.items() if command[:4] == ["celery", "-A", "fleet", "beat"]]
    workers = [name for name, command in commands.items() if command[:4] == ["celery", "-A", "fleet", "worker"]]
    assert beats == ["beat"] and workers == ["worker"]
    assert services["beat"].get("deploy", {}).get("replicas", 1) == 1


# --- scaling out: `docker compose up --scale web=3 --scale worker=4` -----------------

SCALED_SERVICES = ("web", "worker")


def caddy_proxy_block() -> str:
    """The text of the Caddyfile's reverse_proxy directive, from its name to its matching closing brace."""
    caddyfile = "\n".join(line for line in text(CADDYFILE).splitlines() if not line.lstrip().startswith("#"))
    start = caddyfile.find("reverse_proxy")
    assert start >= 0, "the Caddyfile has no reverse_proxy"
    depth, position = 0, caddyfile.find("{", start)
    for position in range(position, len(caddyfile)):
        depth += {"{": 1, "}": -1}.get(caddyfile[position], 0)
        if depth == 0:
            break
    return caddyfile[start:position + 1]


def gunicorn_port() -> int:
    """The port gunicorn binds in the image (its CMD's --bind 0.0.0.0:PORT)."""
    match = re.search(r'"--bind", "0\.0\.0\.0:(\d+)"', text(DOCKERFILE))
    assert match, "the Dockerfile's CMD binds no port"
    return int(match.group(1))


def test_web_and_worker_can_be_scaled_no_fixed_names_or_host_ports():
    services = compose()["services"]
    for name in SCALED_SERVICES:
        service = services[name]
        assert "container_name" not in service, f"{name}: a fixed container name stops --scale"
        assert "hostname" not in service, f"{name}: every replica would share one host name"
        assert not service.get("ports"), f"{name}: a host port can be bound by one replica only"
        assert service.get("deploy", {}).get("replicas", 1) >= 1


def test_beat_cannot_be_scaled_past_one():
    """Compose refuses `--scale beat=2` for a service with a container_name: a second beat is an error, not a double schedule."""
    beat = compose()["services"]["beat"]
    assert beat.get("container_name")
    assert beat.get("deploy", {}).get("replicas", 1) == 1


def test_each_worker_replica_has_its_own_celery_node_name():
    command = compose()["services"]["worker"]["command"]
    assert "--hostname" in command, "without it Celery's default (celery@<container>) applies; say so explicitly"
    node_name = command[command.index("--hostname") + 1]
    assert "%h" in node_name, "replicas need distinct node names: the container's host name (%h) is unique per replica"


def test_app_containers_write_nothing_to_their_own_disk():
    """State lives in PostgreSQL and Redis; what a replica writes locally (tmpfs) dies with it and differs per replica."""
    services = compose()["services"]
    for name in SCALED_SERVICES + ("beat",):
        service = services[name]
        assert service["read_only"] is True, name
        writable = [volume for volume in service.get("volumes", []) if not str(volume).endswith(":ro")]
        assert writable == [], f"{name} mounts a writable volume: {writable}"


def test_the_proxy_balances_over_every_web_replica():
    block = caddy_proxy_block()
    # Docker's DNS answers the service name with every replica's address; a static `web:8000` would too,
    # but only once, when Caddy starts: replicas added later would never get traffic.
    dynamic = re.search(r"^\s*dynamic\s+a\s+(\S+)\s+(\d+)", block, flags=re.MULTILINE)
    assert dynamic, "reverse_proxy must look the web replicas up dynamically (dynamic a web PORT)"
    assert dynamic.group(1) == "web" and int(dynamic.group(2)) == gunicorn_port()
    assert re.search(r"^\s*refresh\s+\d+s", block, flags=re.MULTILINE), "refresh the replica list every few seconds"
    assert not re.search(r"\bweb:\d+", block), "a static upstream next to the dynamic one"


def test_the_proxy_skips_a_replica_that_is_down_and_retries_elsewhere():
    block = caddy_proxy_block()
    settings = dict(re.findall(r"^\s*(lb_policy|lb_try_duration|fail_duration|max_fails)\s+(\S+)", block, flags=re.MULTILINE))
    assert settings.get("lb_policy") in ("least_conn", "round_robin"), "spread requests, not random bursts"
    assert settings.get("lb_try_duration", "0s") != "0s", "a request refused by a stopping replica must try another"
    assert settings.get("fail_duration", "0s") != "0s", "passive health checks: Caddy runs no active ones for dynamic upstreams"


def test_the_caddyfile_passes_caddy_validate(tmp_path):
    caddy = shutil.which("caddy")
    if caddy is None:
        pytest.skip("caddy is not installed here (Debian package caddy); the Caddyfile was checked by the rules above only")
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "XDG_DATA_HOME": str(tmp_path / "data"),
           "XDG_CONFIG_HOME": str(tmp_path / "config"), "FUSEGUARD_DOMAIN": "fleet.example.com"}
    result = subprocess.run([caddy, "validate", "--config", str(CADDYFILE), "--adapter", "caddyfile"],
                            env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def test_only_the_reverse_proxy_publishes_ports():
    services = compose()["services"]
    assert [name for name, service in services.items() if service.get("ports")] == ["caddy"]


def test_app_services_share_one_image_and_the_env_file():
    services = compose()["services"]
    for name in APP_SERVICES:
        assert services[name]["env_file"] == ".env", name
        assert services[name]["build"] == {"context": "..", "dockerfile": "deploy/Dockerfile"}, name
    assert len({services[name]["image"] for name in APP_SERVICES}) == 1


def test_every_variable_compose_and_caddy_substitute_is_in_env_example():
    used = substituted_variables(text(COMPOSE)) | substituted_variables(text(CADDYFILE))
    assert used, "the compose file substitutes nothing: the parser is broken"
    assert sorted(used - env_example().keys()) == []


def test_every_variable_the_settings_read_is_in_env_example():
    read = setting_variables()
    assert {"DJANGO_ENV", "DJANGO_SECRET_KEY", "DATABASE_URL", "REDIS_URL", "LOG_LEVEL"} <= read
    assert sorted(read - env_example().keys()) == []


def test_every_variable_in_env_example_is_read_by_something():
    used = setting_variables() | substituted_variables(text(COMPOSE)) | substituted_variables(text(CADDYFILE))
    assert sorted(env_example().keys() - used - READ_BY_OTHER_PROGRAMS.keys()) == []


def test_every_variable_in_env_example_is_documented_in_the_readme():
    readme = text(DEPLOY_README)
    assert sorted(name for name in env_example() if f"`{name}`" not in readme) == []


def test_env_example_database_url_uses_the_postgres_password():
    env = env_example()
    assert env["DATABASE_URL"] == f"postgresql://fuseguard:{env['POSTGRES_PASSWORD']}@db:5432/fuseguard"
    assert env["DJANGO_ENV"] == "production"


def test_env_example_with_a_secret_key_passes_the_deploy_checks(tmp_path):
    env = {name: value for name, value in env_example().items() if value is not None}
    assert env["DJANGO_SECRET_KEY"] == "", "the example must not ship a secret key"
    env |= {
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_SETTINGS_MODULE": "fleet.settings",
        "DJANGO_STATIC_ROOT": str(tmp_path / "static"),
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "PYTHONPATH": str(ROOT),
    }
    # Settings only: nothing connects to db or redis here.
    result = subprocess.run(
        [sys.executable, "-m", "django", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_env_example_without_a_secret_key_stops_the_server(tmp_path):
    env = {name: value for name, value in env_example().items() if value is not None}
    env |= {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, "-c", "import fleet.settings"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0 and "DJANGO_SECRET_KEY" in result.stderr


# --- Dockerfile -------------------------------------------------------------------


def test_the_image_installs_the_server_extras_on_python_311_slim_as_non_root():
    lines = [line.strip() for line in text(DOCKERFILE).splitlines()]
    froms = [line.split()[1] for line in lines if line.startswith("FROM ")]
    assert froms and all(image == "python:3.11-slim" for image in froms)
    assert 'pip install ".[server]"' in text(DOCKERFILE)
    users = [line.split()[1] for line in lines if line.startswith("USER ")]
    assert users and users[-1].split(":")[0] not in ("root", "0")


def test_the_image_copies_everything_the_package_build_needs():
    pyproject = tomllib.loads(text(ROOT / "pyproject.toml"))
    packages = {pattern.rstrip("*") for pattern in pyproject["tool"]["setuptools"]["packages"]["find"]["include"]}
    needed = packages | {"pyproject.toml", pyproject["project"]["readme"]}
    copied = {
        source.rstrip("/")
        for line in text(DOCKERFILE).splitlines()
        if line.startswith("COPY ") and "--from" not in line
        for source in line.split()[1:-1]
    }
    assert sorted(needed - copied) == []
    kept = {line[1:].rstrip("/") for line in text(DOCKERIGNORE).splitlines() if line.startswith("!")}
    assert sorted(needed - kept) == []


def test_every_data_file_of_the_packages_is_declared_as_package_data():
    """`pip install .` (the image, a gateway's venv) ships only .py files and declared package data."""
    pyproject = tomllib.loads(text(ROOT / "pyproject.toml"))
    declared = pyproject["tool"]["setuptools"].get("package-data", {})
    packages = [pattern.rstrip("*") for pattern in pyproject["tool"]["setuptools"]["packages"]["find"]["include"]]
    undeclared = []
    for package in packages:
        for path in (ROOT / package).rglob("*"):
            if not path.is_file() or path.suffix in (".py", ".pyc", ".pyi") or "__pycache__" in path.parts:
                continue
            relative = path.relative_to(ROOT / package).as_posix()
            if not any(fnmatch.fnmatch(relative, pattern) for pattern in declared.get(package, [])):
                undeclared.append(f"{package}/{relative}")
    assert undeclared == [], "add these to [tool.setuptools.package-data] in pyproject.toml"


# --- systemd unit -----------------------------------------------------------------


def unit_values(key: str) -> list[str]:
    joined = text(UNIT).replace("\\\n", " ")
    return [match.strip() for match in re.findall(rf"^{key}=(.*)$", joined, flags=re.MULTILINE)]


def test_the_unit_runs_as_a_dedicated_user_with_its_state_directory_and_restarts():
    assert unit_values("User") == ["fuseguard"]
    assert unit_values("StateDirectory") == ["fuseguard"]
    assert unit_values("Restart") == ["always"]
    assert unit_values("EnvironmentFile") == ["/etc/fuseguard/gateway.env"]
    assert "network-online.target" in unit_values("Wants")[0] and "network-online.target" in unit_values("After")[0]
    assert unit_values("ProtectSystem") == ["strict"] and unit_values("NoNewPrivileges") == ["yes"]
    exec_start = unit_values("ExecStart")[0].split()
    # The one writable place is the state directory, which is also the agent's default.
    state_dir = exec_start[exec_start.index("--state-dir") + 1]
    assert state_dir == "/var/lib/fuseguard" == GatewayConfig(id="x").state_dir
    assert "--token" not in exec_start, "the token belongs in the EnvironmentFile (FUSEGUARD_GATEWAY_TOKEN)"


def _unit_with_this_python(tmp_path: Path) -> Path:
    # verify checks that ExecStart's binary exists: point it at this interpreter.
    copy = tmp_path / UNIT.name
    copy.write_text(text(UNIT).replace("/opt/fuseguard/venv/bin/python", sys.executable))
    return copy


def _systemd_analyze() -> str:
    found = shutil.which("systemd-analyze")
    if found is None:
        pytest.skip("systemd-analyze is not installed here (Debian package systemd); the unit was not verified")
    return found


def test_the_unit_passes_systemd_analyze_verify(tmp_path):
    analyze = _systemd_analyze()
    unit = _unit_with_this_python(tmp_path)
    result = subprocess.run([analyze, "verify", "--man=no", str(unit)], capture_output=True, text=True, timeout=60)
    complaints = [line for line in (result.stdout + result.stderr).splitlines() if UNIT.name in line]
    assert result.returncode == 0 and complaints == [], result.stdout + result.stderr


def test_the_unit_keeps_a_low_exposure_score(tmp_path):
    analyze = _systemd_analyze()
    unit = _unit_with_this_python(tmp_path)
    # The threshold is the exposure level times ten: 2.0 and below is systemd's "OK".
    result = subprocess.run(
        [analyze, "security", "--offline=yes", "--threshold=20", "--no-pager", str(unit)],
        capture_output=True, text=True, timeout=60,
    )
    if "unrecognized option" in result.stderr:
        pytest.skip(f"this systemd-analyze has no offline security check: {result.stderr.strip()}")
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr


# --- the gateway's example site config --------------------------------------------


def test_the_example_site_config_passes_the_agent_check():
    result = subprocess.run(
        [sys.executable, "-m", "gateways", "check", "--config", str(SITE_EXAMPLE)],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_example_site_config_shows_every_key():
    keys = set(re.findall(r"^#?\s*([a-z_]+)\s*=", text(SITE_EXAMPLE), flags=re.MULTILINE))
    tables = {"meter", "chargers", "dimming", "power_caps", "recurring_caps"}
    for config_class in (GatewayConfig, NetworkConfig, MeterConfig, ChargerConfig, DimmingInputConfig, PowerCapConfig,
                         RecurringCapConfig):
        missing = {field.name for field in dataclasses.fields(config_class)} - keys - tables
        assert sorted(missing) == [], config_class.__name__


# --- deploy/README.md -------------------------------------------------------------


def test_the_readme_lists_every_catalog_meter_and_every_phase_rotation():
    from meters.catalog import model_keys

    readme = text(DEPLOY_README)
    assert sorted(key for key in model_keys() if f"`{key}`" not in readme) == []
    assert all(f"`{rotation}`" in readme for rotation in PHASE_ROTATIONS)
