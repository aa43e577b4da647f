"""The site config is validated at start; every error names the key and the problem."""

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from gateways.chargers.registry import FACTORIES
from gateways.protocol import CHARGER_DRIVER_TABLE, CHARGER_DRIVERS, DRIVERS_WITHOUT_HOST, ConfigError, parse_site_config

ROOT = Path(__file__).resolve().parents[2]

ISSUE_EXAMPLE = """
[gateway]
id = "garage-north"
poll_interval_s = 1.0
state_dir = "/var/lib/fuseguard"
keba_udp_bind = "0.0.0.0"

[[networks]]
id = "main"
max_current_per_phase_a = 32
max_power_w = 22000
fallback_power_w = 4140
nominal_voltage_v = 230

[networks.meter]
model = "abb-m4m"
host = "192.0.2.10"
port = 502
unit_id = 1
phase_rotation = "L1L2L3"

[[networks.chargers]]
id = "cp1"
driver = "keba-udp"
host = "192.0.2.21"
phase_rotation = "L2L3L1"
phases = 3
min_current_a = 6
max_current_a = 16
priority = 0
"""


def example() -> dict:
    return tomllib.loads(ISSUE_EXAMPLE)


def test_the_documented_example_is_valid():
    config = parse_site_config(example())
    network = config.networks[0]
    assert config.gateway.poll_interval_s == 1.0
    assert network.max_current_per_phase_a == (32, 32, 32)
    assert network.chargers[0].phase_rotation == "L2L3L1"


def test_it_round_trips_through_plain_data():
    config = parse_site_config(example())
    assert parse_site_config(config.to_dict()) == config


def test_a_meter_counts_as_frozen_after_ten_unchanged_seconds_unless_configured():
    assert parse_site_config(example()).gateway.frozen_after_s == 10
    data = example()
    data["gateway"]["frozen_after_s"] = 30
    assert parse_site_config(data).gateway.frozen_after_s == 30
def test_the_time_zone_is_utc_unless_the_file_names_one():
    assert parse_site_config(example()).gateway.time_zone == "UTC"
    data = example()
    data["gateway"]["time_zone"] = "Europe/Berlin"
    config = parse_site_config(data)
    assert config.gateway.time_zone == "Europe/Berlin"
    assert config.to_dict()["gateway"]["time_zone"] == "Europe/Berlin"


def test_per_phase_breaker_ratings_may_differ():
    data = example()
    data["networks"][0]["max_current_per_phase_a"] = [32, 25, 20]
    assert parse_site_config(data).networks[0].max_current_per_phase_a == (32, 25, 20)


def broken(path: list, value) -> dict:
    """The example with one value replaced (or removed, for value=...)."""
    data = example()
    target = data
    for key in path[:-1]:
        target = target[key]
    if value is ...:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return data


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        # missing or mistyped
        (["gateway", "id"], ..., "gateway.id: is required"),
        (["gateway", "poll_interval_s"], "fast", "gateway.poll_interval_s: must be a number"),
        (["gateway", "poll_interval_s"], 0.0, "gateway.poll_interval_s: must be at least 0.1"),
        (["gateway", "polling"], 2, "gateway.polling: is not a known setting"),
        (["gateway", "frozen_after_s"], 1, "gateway.frozen_after_s: must be at least 2"),
        (["gateway", "frozen_after_s"], 601, "gateway.frozen_after_s: must be at most 600"),
        (["gateway", "stale_after_polls"], 3, "gateway.stale_after_polls: was replaced by frozen_after_s"),
        (["gateway", "time_zone"], "Mars/Olympus", "gateway.time_zone: 'Mars/Olympus' is not an IANA time zone name"),
        (["gateway", "time_zone"], "../../etc/passwd", "gateway.time_zone: '../../etc/passwd' is not an IANA time zone name"),
        (["gateway", "time_zone"], 1, "gateway.time_zone: must be a non-empty string"),
        # limits
        (["networks", 0, "max_current_per_phase_a"], [32, 25], "networks[0].max_current_per_phase_a: must be one number or a list of three"),
        (["networks", 0, "max_current_per_phase_a"], float("nan"), "networks[0].max_current_per_phase_a: must be a finite number"),
        (["networks", 0, "fallback_power_w"], 30000, "networks[0].fallback_power_w: (30000 W) must not exceed max_power_w"),
        (["networks", 0, "max_power_w"], -1, "networks[0].max_power_w: must be at least 1"),
        # meter
        (["networks", 0, "meter", "model"], "acme-9000", "networks[0].meter.model: 'acme-9000' is not in the meter catalog"),
        (["networks", 0, "meter", "unit_id"], 300, "networks[0].meter.unit_id: must be at most 255"),
        (["networks", 0, "meter", "timeout_s"], 1.5, "networks[0].meter.timeout_s: (1.5 s) must be shorter than the gateway's poll interval (1 s"),
        (["networks", 0, "meter", "timeout_s"], 11, "networks[0].meter.timeout_s: must be at most 10"),
        (["networks", 0, "meter", "host"], "meter_1.local", "networks[0].meter.host: 'meter_1.local' is neither an IP address nor a host name"),
        (["networks", 0, "meter", "phase_rotation"], "L1L3L2", "networks[0].meter.phase_rotation: must be one of L1L2L3, L2L3L1, L3L1L2"),
        # chargers
        (["networks", 0, "chargers", 0, "driver"], "ocpp", "networks[0].chargers[0].driver: must be one of keba-udp, keba-modbus, ocpp16, simulated"),
        (["networks", 0, "chargers", 0, "host"], ..., "networks[0].chargers[0].host: is required for the keba-udp driver"),
        (["networks", 0, "chargers", 0, "phases"], 2, "networks[0].chargers[0].phases: must be 1 or 3"),
        (["networks", 0, "chargers", 0, "min_current_a"], 5, "networks[0].chargers[0].min_current_a: must be at least 6"),
        (["networks", 0, "chargers", 0, "max_current_a"], 81, "networks[0].chargers[0].max_current_a: must be at most 80"),
        (["networks", 0, "chargers", 0, "priority"], True, "networks[0].chargers[0].priority: must be an integer"),
        (["networks", 0, "chargers", 0, "priority"], 1001, "networks[0].chargers[0].priority: must be at most 1000"),
        (["networks", 0, "chargers", 0, "host"], "192.0.2.21:7090", "networks[0].chargers[0].host: '192.0.2.21:7090' is neither an IP address nor a host name"),
    ],
)
def test_errors_name_the_key_and_the_problem(path, value, message):
    with pytest.raises(ConfigError) as caught:
        parse_site_config(broken(path, value))
    assert str(caught.value).startswith(message)


def test_charger_ids_are_unique_within_a_network():
    data = example()
    data["networks"][0]["chargers"].append({**data["networks"][0]["chargers"][0], "host": "192.0.2.22"})
    with pytest.raises(ConfigError, match=r"networks\[0\].chargers\[1\].id: 'cp1' is used twice"):
        parse_site_config(data)


def test_one_station_is_never_driven_over_udp_and_modbus_at_once():
    data = example()
    data["networks"][0]["chargers"].append(
        {"id": "cp1-modbus", "driver": "keba-modbus", "host": "192.0.2.21", "max_current_a": 16}
    )
    with pytest.raises(ConfigError, match=r"chargers\[1\].host: 192.0.2.21 is already driven as main/cp1"):
        parse_site_config(data)


def test_modbus_simulators_on_one_address_are_told_apart_by_port():
    data = example()
    data["networks"][0]["chargers"] = [
        {"id": "a", "driver": "keba-modbus", "host": "127.0.0.1", "port": 5020, "max_current_a": 16},
        {"id": "b", "driver": "keba-modbus", "host": "127.0.0.1", "port": 5021, "max_current_a": 16},
    ]
    assert len(parse_site_config(data).networks[0].chargers) == 2


def test_a_modbus_station_on_its_default_port_is_the_same_station_as_one_on_port_502():
    data = example()
    data["networks"][0]["chargers"] = [
        {"id": "a", "driver": "keba-modbus", "host": "192.0.2.30", "max_current_a": 16},
        {"id": "b", "driver": "keba-modbus", "host": "192.0.2.30", "port": 502, "max_current_a": 16},
    ]
    with pytest.raises(ConfigError, match=r"chargers\[1\].host: 192.0.2.30 is already driven as main/a"):
        parse_site_config(data)


def test_simulated_and_ocpp_chargers_need_no_host_and_every_driver_in_the_table_has_a_factory():
    assert DRIVERS_WITHOUT_HOST == ("ocpp16", "simulated")  # OCPP chargers dial in to the gateway
    assert set(CHARGER_DRIVERS) == set(CHARGER_DRIVER_TABLE) == set(FACTORIES)
    assert CHARGER_DRIVER_TABLE["keba-udp"].station_rule == "host"  # port 7090 is fixed: the whole host
    assert (CHARGER_DRIVER_TABLE["keba-modbus"].default_port, CHARGER_DRIVER_TABLE["keba-modbus"].default_unit_id) == (502, 255)
    data = example()
    data["networks"][0]["chargers"] = [{"id": "sim", "driver": "simulated", "max_current_a": 16}]
    assert parse_site_config(data).networks[0].chargers[0].host is None


def test_the_cli_check_command_reports_a_broken_file_in_one_line(tmp_path):
    bad = tmp_path / "site.toml"
    bad.write_text(ISSUE_EXAMPLE.replace("max_current_a = 16", "max_current_a = 160"))
    result = subprocess.run(
        [sys.executable, "-m", "gateways", "check", "--config", str(bad)], cwd=ROOT, capture_output=True, text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.strip() == "config error: networks[0].chargers[0].max_current_a: must be at most 80, got 160"


def test_the_cli_reports_a_file_that_is_not_toml(tmp_path):
    bad = tmp_path / "site.toml"
    bad.write_text("[gateway\nid = 1")
    result = subprocess.run(
        [sys.executable, "-m", "gateways", "check", "--config", str(bad)], cwd=ROOT, capture_output=True, text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "is not valid TOML" in result.stderr
