"""The site's controller settings adapted to the resolution of the recorded load.

The replay steps the real ``Controller`` once per sample, with ``now_s`` in
real seconds. At 1 s (the gateway's own cycle) the settings apply as they are.
At coarse resolution (1-minute or 5-minute rollups) one step stands for many
real cycles, and two settings that smooth sub-minute dynamics would otherwise
count whole steps instead of seconds:

- Pacing: the real controller may raise a setpoint by ``increase_step_a`` every
  ``increase_interval_s``. In one step of ``resolution_s`` it could have risen
  ``floor(resolution_s / increase_interval_s)`` times, so the planner allows
  that many steps' worth at once, every step. The ramp rate in A/s is kept;
  only its shape inside one step is lost (the new setpoint holds for the whole
  step, so a ramp is replayed slightly slower than it happens, never faster).
- Resume delay and minimum pause: rounded to the nearest whole number of
  steps (a 10 s delay is no step at 1-minute resolution; a 60 s pause is one).
  The time a paused charger waits cannot be shorter than one step anyway.

``turn_period_s`` stays in seconds: the queue rotates at the first step after
the period, which is within one step of the real rotation.
"""

from __future__ import annotations

import math
from dataclasses import replace

from balancing import ControllerSettings

GATEWAY_CYCLE_S = 1.0
"""The gateway's default poll interval: raw telemetry has one sample per cycle."""


def settings_for_resolution(settings: ControllerSettings, resolution_s: float) -> ControllerSettings:
    """Settings that make the controller, stepped every ``resolution_s``, behave as it does per real second."""
    # An interval below the gateway's cycle still allows one increase per cycle.
    interval_s = max(settings.increase_interval_s, GATEWAY_CYCLE_S)
    increase_interval_s, increase_step_a = settings.increase_interval_s, settings.increase_step_a
    if resolution_s > interval_s:
        increase_interval_s = 0.0
        if increase_step_a is not None:
            increase_step_a = increase_step_a * math.floor(resolution_s / interval_s)
    return replace(
        settings,
        increase_interval_s=increase_interval_s,
        increase_step_a=increase_step_a,
        resume_delay_s=_whole_steps(settings.resume_delay_s, resolution_s),
        min_pause_s=_whole_steps(settings.min_pause_s, resolution_s),
    )


def _whole_steps(duration_s: float, resolution_s: float) -> float:
    """``duration_s`` rounded to a whole number of steps (half a step rounds up)."""
    if resolution_s <= GATEWAY_CYCLE_S:
        return duration_s
    return math.floor(duration_s / resolution_s + 0.5) * resolution_s
