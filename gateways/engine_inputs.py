"""The allocation engine's inputs built from the site config, in one place for the loop and the failsafe plan."""

from __future__ import annotations

from collections.abc import Iterable

from balancing import ChargerState, NetworkLimits, PowerCap, Reservation
from balancing.phases import grid_phase
from gateways.protocol import ChargerConfig, NetworkConfig


def network_limits(
    network: NetworkConfig, *, max_measurement_age_s: float | None = None, power_caps: tuple[PowerCap, ...] = ()
) -> NetworkLimits:
    """The engine's limits for a configured network, with the external caps in force this cycle."""
    extra = {} if max_measurement_age_s is None else {"max_measurement_age_s": max_measurement_age_s}
    return NetworkLimits(
        max_current_per_phase_a=network.max_current_per_phase_a,
        max_power_w=network.max_power_w,
        fallback_power_w=network.fallback_power_w,
        nominal_voltage_v=network.nominal_voltage_v,
        max_unbalance_a=network.max_unbalance_a,
        power_caps=power_caps,
        **extra,
    )


def charger_state(
    config: ChargerConfig,
    *,
    active: bool,
    current_a: tuple[float, float, float] = (0.0, 0.0, 0.0),
    setpoint_a: float | None = None,
) -> ChargerState:
    """A configured charger as the engine sees it this cycle."""
    return ChargerState(
        id=config.id,
        max_current_a=config.max_current_a,
        min_current_a=config.min_current_a,
        phase_rotation=config.phase_rotation,
        phases=config.phases,
        priority=config.priority,
        active=active,
        current_a=current_a,
        setpoint_a=setpoint_a,
    )


def reservation(possible_draws: Iterable[tuple[ChargerConfig, float]]) -> Reservation:
    """Current to keep free per grid phase for chargers the loop cannot set: each may draw ``draw_a`` on every wired phase.

    The grid meter already sees such a charger's present draw, so keeping its
    whole allowance free on top counts that part twice; that errs on the side
    of the fuse, and the charger's present draw is unknown anyway.
    """
    reserved_a = [0.0, 0.0, 0.0]
    for config, draw_a in possible_draws:
        for charger_phase in range(config.phases):
            reserved_a[grid_phase(config.phase_rotation, charger_phase)] += draw_a
    return Reservation((reserved_a[0], reserved_a[1], reserved_a[2]))
