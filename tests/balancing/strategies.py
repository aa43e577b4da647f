"""Hypothesis strategies for random charging networks (up to 50 chargers)."""

from __future__ import annotations

from hypothesis import strategies as st

from dataclasses import replace

from balancing import PHASE_ROTATIONS, ChargerState, GridMeasurement, NetworkLimits, PowerCap, Reservation, SubCircuit
from balancing import reasons as why

MAX_CHARGERS = 50
CIRCUIT_IDS = ("deck", "garage")

amps = st.floats(min_value=0, max_value=80, allow_nan=False).map(lambda x: round(x, 2))


EXTERNAL_CAP_REASONS = (why.GRID_OPERATOR_CAP, why.OPERATOR_CAP, why.SCHEDULE_CAP)


@st.composite
def power_caps(draw) -> tuple[PowerCap, ...]:
    """Up to three external caps (grid operator, operator, schedule), from none at all to tighter than the network's."""
    count = draw(st.integers(0, 3))
    return tuple(
        PowerCap(
            draw(st.one_of(st.just(0), st.floats(0, 60000).map(round))),
            f"source-{index}",
            draw(st.sampled_from(EXTERNAL_CAP_REASONS)),
        )
        for index in range(count)
    )


reservations = st.one_of(
    st.none(),
    st.builds(
        Reservation,
        st.tuples(*[st.one_of(st.just(0.0), st.floats(0, 40).map(lambda x: round(x, 1)))] * 3),
    ),
)
"""Nothing reserved, or up to 40 A kept free on each grid phase."""


@st.composite
def network_limits(draw, *, unbalance: bool = True, caps: bool = False) -> NetworkLimits:
    """Limits with one or three per-phase ratings, an optional power cap, fallback, unbalance and sub-circuits.

    With ``caps``, external power caps too (drawn after everything else, so the
    networks drawn without them stay what they were).
    """
    per_phase = draw(st.one_of(amps, st.tuples(amps, amps, amps)))
    circuits = tuple(
        SubCircuit(circuit_id, draw(st.one_of(amps, st.tuples(amps, amps, amps))))
        for circuit_id in CIRCUIT_IDS[: draw(st.integers(0, len(CIRCUIT_IDS)))]
    )
    limits = NetworkLimits(
        max_current_per_phase_a=per_phase,
        max_power_w=draw(st.one_of(st.none(), st.floats(0, 60000).map(round))),
        fallback_power_w=draw(st.one_of(st.none(), st.just(0), st.floats(0, 30000).map(round))),
        nominal_voltage_v=draw(st.sampled_from([230, 220, 240])),
        max_unbalance_a=draw(st.one_of(st.none(), st.floats(0, 40).map(lambda x: round(x, 1)))) if unbalance else None,
        sub_circuits=circuits,
        current_step_a=draw(st.sampled_from([0.1, 0.1, 0.5, 1.0])),
    )
    return replace(limits, power_caps=draw(power_caps())) if caps else limits


@st.composite
def charger_states(draw, charger_id: str, circuits: tuple[str, ...]) -> ChargerState:
    """One charger in any rotation and wiring, drawing nothing, on some phases, or odd values."""
    min_current_a = draw(st.sampled_from([6, 6, 6, 5, 8, 6.3]))
    phases = draw(st.sampled_from([3, 3, 1, 2]))
    current = st.one_of(st.just(0.0), st.floats(0, 40).map(lambda x: round(x, 1)))
    return ChargerState(
        id=charger_id,
        phase_rotation=draw(st.sampled_from(PHASE_ROTATIONS)),
        phases=phases,
        min_current_a=min_current_a,
        max_current_a=draw(st.sampled_from([min_current_a, 10, 16, 16, 32])) if min_current_a <= 10 else 16,
        priority=draw(st.sampled_from([0, 0, 0, 1, 2])),
        active=draw(st.sampled_from([True, True, True, False])),
        current_a=draw(st.tuples(current, current, current)),
        sub_circuit=draw(st.one_of(st.none(), st.sampled_from(circuits))) if circuits else None,
        setpoint_a=draw(st.one_of(st.none(), st.floats(0, 32).map(lambda x: round(x, 1)))),
    )


@st.composite
def networks(draw, *, max_chargers: int = MAX_CHARGERS, unbalance: bool = True, caps: bool = False):
    """(limits, grid or None, chargers) for one random cycle."""
    limits = draw(network_limits(unbalance=unbalance, caps=caps))
    circuits = tuple(circuit.id for circuit in limits.sub_circuits)
    # Hypothesis favours small lists; ask for crowded networks explicitly too.
    count = draw(st.one_of(st.integers(0, min(8, max_chargers)), st.integers(max_chargers * 4 // 5, max_chargers)))
    chargers = [draw(charger_states(f"cp{i}", circuits)) for i in range(count)]
    grid_current = st.floats(-30, 90).map(lambda x: round(x, 2))
    measurement = draw(
        st.one_of(
            st.none(),
            st.builds(
                GridMeasurement, st.tuples(grid_current, grid_current, grid_current), st.sampled_from([0.0, 0.0, 2.0, 30.0])
            ),
        )
    )
    return limits, measurement, chargers
