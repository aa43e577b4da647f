"""How the controller's settings are adapted to the resolution of the recorded load."""

from __future__ import annotations

import pytest

from balancing import ControllerSettings
from planning import settings_for_resolution

SITE = ControllerSettings(increase_interval_s=10, increase_step_a=2, min_pause_s=60, resume_delay_s=10, turn_period_s=900)

CASES = [
    # --- raw 1 s samples: the gateway's own cycle, nothing changes -----------
    pytest.param(SITE, 1, dict(increase_interval_s=10, increase_step_a=2, min_pause_s=60, resume_delay_s=10), id="1s-as-is"),
    # --- coarse samples: the ramp rate in A/s is kept, every step may rise ---
    pytest.param(SITE, 60, dict(increase_interval_s=0, increase_step_a=12, min_pause_s=60, resume_delay_s=0), id="1min"),
    pytest.param(SITE, 300, dict(increase_interval_s=0, increase_step_a=60, min_pause_s=0, resume_delay_s=0), id="5min"),
    pytest.param(
        ControllerSettings(increase_interval_s=30, increase_step_a=None, min_pause_s=120, resume_delay_s=40),
        60,
        dict(increase_interval_s=0, increase_step_a=None, min_pause_s=120, resume_delay_s=60),
        id="unstepped-increase-and-delays-round-to-whole-steps",
    ),
    pytest.param(
        ControllerSettings(increase_interval_s=0, increase_step_a=3), 60, dict(increase_interval_s=0, increase_step_a=180),
        id="no-interval-means-once-per-gateway-cycle",
    ),
    pytest.param(
        ControllerSettings(increase_interval_s=0, increase_step_a=3), 1, dict(increase_interval_s=0, increase_step_a=3),
        id="no-interval-at-1s-as-is",
    ),
]


@pytest.mark.parametrize(("settings", "resolution_s", "expected"), CASES)
def test_settings_for_resolution(settings, resolution_s, expected):
    adapted = settings_for_resolution(settings, resolution_s)
    for name, value in expected.items():
        assert getattr(adapted, name) == value, name
    assert adapted.turn_period_s == settings.turn_period_s
