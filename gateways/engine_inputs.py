"""The allocation engine's inputs built from the site config, in one place for the loop and the failsafe plan."""

from __future__ import annotations

from balancing import ChargerState, NetworkLimits
from gateways.protocol import ChargerConfig, NetworkConfig


def network_limits(network: NetworkConfig, *, max_measurement_age_s: float | None = None) -> NetworkLimits:
    """The engine's limits for a configured network."""
    extra = {} if max_measurement_age_s is None else {"max_measurement_age_s": max_measurement_age_s}
    return NetworkLimits(
        max_current_per_phase_a=network.max_current_per_phase_a,
        max_power_w=network.max_power_w,
        fallback_power_w=network.fallback_power_w,
        nominal_voltage_v=network.nominal_voltage_v,
        max_unbalance_a=network.max_unbalance_a,
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
