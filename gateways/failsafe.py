"""The chargers' own watchdogs: what each falls back to when the gateway goes silent.

If the agent dies, every charger of a network falls back on its own, at the
same time, without a meter. Their failsafe currents must therefore together
stay within the network's fallback power (and its power cap) when every
vehicle draws on all its wired phases: exactly the allocation the engine makes
in fallback mode for all chargers active. A charger's failsafe current is 0 or
at least its minimum, as the stations require.
"""

from __future__ import annotations

from balancing import allocate
from gateways.chargers.base import FailsafeSettings
from gateways.engine_inputs import charger_state, network_limits
from gateways.protocol import NetworkConfig


def failsafe_plan(network: NetworkConfig, timeout_s: int) -> dict[str, FailsafeSettings]:
    """Failsafe settings per charger id for one network."""
    chargers = [charger_state(charger, active=True) for charger in network.chargers]
    allocation = allocate(network_limits(network), None, chargers)
    return {
        charger_id: FailsafeSettings(timeout_s=timeout_s, current_a=float(current_a))
        for charger_id, current_a in allocation.setpoints_a.items()
    }
