"""The chargers' own watchdogs: what each falls back to when the gateway goes silent.

If the agent dies, every charger of a network falls back on its own, at the
same time, without a meter. Their failsafe currents must therefore together
stay within the network's fallback power (and its power cap) when every
vehicle draws on all its wired phases: exactly the allocation the engine makes
in fallback mode for all chargers active. A charger's failsafe current is 0 or
at least its minimum, as the stations require.
"""

from __future__ import annotations

from balancing import ChargerState, GridMeasurement, NetworkLimits, allocate
from gateways.chargers.base import FailsafeSettings
from gateways.protocol import NetworkConfig


def failsafe_plan(network: NetworkConfig, timeout_s: int) -> dict[str, FailsafeSettings]:
    """Failsafe settings per charger id for one network."""
    limits = network_limits(network)
    chargers = [
        ChargerState(
            id=charger.id,
            max_current_a=charger.max_current_a,
            min_current_a=charger.min_current_a,
            phase_rotation=charger.phase_rotation,
            phases=charger.phases,
            priority=charger.priority,
            active=True,
        )
        for charger in network.chargers
    ]
    no_grid: GridMeasurement | None = None
    allocation = allocate(limits, no_grid, chargers)
    return {
        charger_id: FailsafeSettings(timeout_s=timeout_s, current_a=float(current_a))
        for charger_id, current_a in allocation.setpoints_a.items()
    }


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
