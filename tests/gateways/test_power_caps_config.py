"""The site config's control box input and scheduled caps: parsed, kept in UTC, refused naming the field."""

from __future__ import annotations

import pytest

from gateways.protocol import ConfigError, parse_site_config


def site(network_extra: dict, time_zone: str = "Europe/Berlin") -> dict:
    return {
        "gateway": {"id": "g", "time_zone": time_zone},
        "networks": [{"id": "n", "max_current_per_phase_a": 32,
                      "meter": {"model": "carlo-gavazzi-em24", "host": "10.0.0.1"}, **network_extra}],
    }


def test_the_control_box_input_with_its_defaults():
    network = parse_site_config(site({"dimming": {"host": "10.0.0.5", "kind": "discrete_input", "address": 0}})).networks[0]
    box = network.dimming
    assert (box.port, box.unit_id, box.active, box.power_w) == (502, 1, 1, None)


def test_a_local_time_is_read_in_the_gateways_zone_and_kept_in_utc():
    caps = [{"source": "operator", "power_w": 11000, "start": "2026-07-01T17:00", "end": "2026-07-01T20:00:00Z"}]
    [cap] = parse_site_config(site({"power_caps": caps})).networks[0].power_caps
    assert (cap.start, cap.end) == ("2026-07-01T15:00:00Z", "2026-07-01T20:00:00Z")  # CEST is UTC+2


def test_the_config_survives_its_own_round_trip():
    config = parse_site_config(site({
        "dimming": {"host": "10.0.0.5", "kind": "coil", "address": 3, "active": 0, "power_w": 8000},
        "power_caps": [{"source": "grid_operator", "power_w": 4200, "start": "2026-07-01T17:00:00+02:00", "id": "9"}],
    }))
    assert parse_site_config(config.to_dict()) == config


@pytest.mark.parametrize(
    ("extra", "path", "message"),
    [
        ({"dimming": {"host": "10.0.0.5", "kind": "holding", "address": 0}}, "networks[0].dimming.kind", "must be one of coil, discrete_input"),
        ({"dimming": {"host": "10.0.0.5", "kind": "coil", "address": 70000}}, "networks[0].dimming.address", "at most 65535"),
        ({"dimming": {"host": "10.0.0.5", "kind": "coil", "address": 0, "active": 2}}, "networks[0].dimming.active", "must be 1"),
        ({"dimming": {"host": "10.0.0.5", "kind": "coil", "address": 0, "power_w": -1}}, "networks[0].dimming.power_w", "at least 0"),
        ({"dimming": {"host": "10.0.0.5", "kind": "coil", "address": 0, "polarity": "nc"}}, "networks[0].dimming.polarity", "not a known setting"),
        ({"dimming": {"kind": "coil", "address": 0}}, "networks[0].dimming.host", "is required"),
        ({"power_caps": [{"source": "dso", "power_w": 1, "start": "2026-07-01T17:00"}]}, "networks[0].power_caps[0].source", "must be one of grid_operator, operator, schedule"),
        ({"power_caps": [{"source": "operator", "power_w": 1, "start": "tomorrow"}]}, "networks[0].power_caps[0].start", "ISO 8601"),
        ({"power_caps": [{"source": "operator", "power_w": 1, "start": "2026-07-01T17:00", "end": "2026-07-01T16:00"}]}, "networks[0].power_caps[0].end", "must be after start"),
        ({"power_caps": [{"source": "operator", "start": "2026-07-01T17:00"}]}, "networks[0].power_caps[0].power_w", "is required"),
    ],
)
def test_bad_settings_are_refused_naming_the_field(extra, path, message):
    with pytest.raises(ConfigError) as caught:
        parse_site_config(site(extra))
    assert caught.value.path == path
    assert message in str(caught.value)
