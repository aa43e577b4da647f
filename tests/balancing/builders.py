"""Short builders for scenarios and an independent checker of the engine's promises.

The checker recomputes everything in amps from the inputs, without the
engine's integer steps, so a property test that uses it does not merely
repeat the engine's own arithmetic. A reservation is load the checker adds
as if the meter already showed it: its current on each grid phase's reading
(the house rule then applies as to any reading), its power (amps times the
nominal voltage, like a charger's) against every power cap.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from balancing import Allocation, ChargerState, GridMeasurement, NetworkLimits, Reservation
from balancing.phases import drawn_grid_phases, house_current_a

TOLERANCE_A = 1e-6


def charger(charger_id: str, max_current_a: float = 16, **fields) -> ChargerState:
    """A charger with sensible defaults: 3-phase, standard rotation, 6-16 A, active, drawing nothing."""
    return ChargerState(id=charger_id, max_current_a=max_current_a, **fields)


def grid(l1: float, l2: float, l3: float, age_s: float = 0.0) -> GridMeasurement:
    """A fresh grid reading."""
    return GridMeasurement((l1, l2, l3), age_s=age_s)


def is_fallback(limits: NetworkLimits, measurement: GridMeasurement | None) -> bool:
    return measurement is None or measurement.age_s > limits.max_measurement_age_s


def min_setpoint_a(limits: NetworkLimits, state: ChargerState) -> float:
    """The smallest valid non-zero setpoint: the minimum rounded up to the setpoint step."""
    step = limits.current_step_a
    return math.ceil(state.min_current_a / step - 1e-9) * step


def loads(chargers: Sequence[ChargerState], setpoints: dict[str, float]) -> list[float]:
    """Allocated charger current per grid phase."""
    load_a = [0.0, 0.0, 0.0]
    for state in chargers:
        for p in drawn_grid_phases(state):
            load_a[p] += setpoints[state.id]
    return load_a


def power_cap_w(limits: NetworkLimits, measurement: GridMeasurement | None) -> float | None:
    """The smallest cap on the chargers' total power: the network's, every external one, the fallback's."""
    # A cap never binds below what its source guarantees.
    caps = [limits.max_power_w, *(max(cap.power_w, cap.guaranteed_w) for cap in limits.power_caps)]
    if is_fallback(limits, measurement):
        caps.append(limits.fallback_power_w or 0.0)
    present = [cap for cap in caps if cap is not None]
    return min(present) if present else None


def reserved_power_w(limits: NetworkLimits, reserved: Reservation | None) -> float:
    """The reservation's power: amps on each phase times the nominal voltage."""
    return 0.0 if reserved is None else sum(reserved.current_a) * limits.nominal_voltage_v


def besides_chargers(
    limits: NetworkLimits, measurement: GridMeasurement | None, chargers: Sequence[ChargerState], reserved: Reservation | None
) -> tuple[float, float, float]:
    """Per grid phase, the load the chargers share the limit with: house and reservation.

    In fallback the house is unknown and only the reservation counts; otherwise
    the reservation is put on the meter's reading and the house rule applied.
    """
    reserved_a = (0.0, 0.0, 0.0) if reserved is None else reserved.current_a
    if is_fallback(limits, measurement):
        return reserved_a
    if reserved is None:
        return house_current_a(measurement, chargers)
    with_reserved = tuple(g + r for g, r in zip(measurement.current_a, reserved_a))
    return house_current_a(GridMeasurement(with_reserved, measurement.age_s), chargers)


def violations(
    limits: NetworkLimits,
    measurement: GridMeasurement | None,
    chargers: Sequence[ChargerState],
    result: Allocation,
    reserved: Reservation | None = None,
) -> list[str]:
    """Every broken safety promise of ``result``, as readable strings (empty: all kept), the reservation drawn too."""
    found: list[str] = []
    setpoints = result.setpoints_a
    if set(setpoints) != {state.id for state in chargers} or set(result.reasons) != set(setpoints):
        found.append("setpoints and reasons must cover exactly the chargers")
        return found
    step = limits.current_step_a
    for state in chargers:
        value = setpoints[state.id]
        if not state.active and value != 0:
            found.append(f"{state.id}: inactive but set to {value}")
        if value != 0 and not (min_setpoint_a(limits, state) - TOLERANCE_A <= value <= state.max_current_a + TOLERANCE_A):
            found.append(f"{state.id}: {value} outside 0 or [{state.min_current_a}, {state.max_current_a}]")
        if abs(value / step - round(value / step)) > 1e-6:
            found.append(f"{state.id}: {value} is not a multiple of the step {step}")
    load_a = loads(chargers, setpoints)
    reserved_w = reserved_power_w(limits, reserved)
    if is_fallback(limits, measurement) and result.mode != "fallback":
        found.append("mode must be fallback without a fresh grid reading")
    besides = besides_chargers(limits, measurement, chargers, reserved)
    for p in range(3):
        limit = limits.max_current_per_phase_a[p]
        if besides[p] > limit:
            on_phase = [s.id for s in chargers if p in drawn_grid_phases(s) and setpoints[s.id] > 0]
            if on_phase:
                found.append(f"L{p + 1}: house (and reservation) alone over the limit yet {on_phase} charge")
        elif besides[p] + load_a[p] > limit + TOLERANCE_A:
            found.append(f"L{p + 1}: {besides[p]} house (and reservation) + {load_a[p]} > {limit}")
    cap = power_cap_w(limits, measurement)
    power_w = sum(setpoints[s.id] * limits.nominal_voltage_v * len(drawn_grid_phases(s)) for s in chargers)
    if cap is not None and power_w > 0 and power_w + reserved_w > cap + TOLERANCE_A * limits.nominal_voltage_v:
        found.append(f"power {power_w} W + {reserved_w} W reserved > cap {cap} W")
    for circuit in limits.sub_circuits:
        members = [s for s in chargers if s.sub_circuit == circuit.id]
        circuit_a = loads(members, setpoints)
        for p in range(3):
            if circuit_a[p] > circuit.max_current_per_phase_a[p] + TOLERANCE_A:
                found.append(f"sub-circuit {circuit.id} L{p + 1}: {circuit_a[p]} > {circuit.max_current_per_phase_a[p]}")
    if limits.max_unbalance_a is not None and max(load_a) - min(load_a) > limits.max_unbalance_a + TOLERANCE_A:
        found.append(f"unbalance {max(load_a) - min(load_a)} > {limits.max_unbalance_a}")
    return found


def fits(
    limits: NetworkLimits,
    measurement: GridMeasurement | None,
    chargers: Sequence[ChargerState],
    setpoints: dict[str, float],
    charger_id: str,
    new_a: float,
    reserved: Reservation | None = None,
) -> bool:
    """Whether setting one charger to ``new_a`` would keep every limit, with a little room to spare."""
    trial = dict(setpoints)
    trial[charger_id] = new_a
    load_a = loads(chargers, trial)
    reserved_w = reserved_power_w(limits, reserved)
    margin = 1e-6
    besides = besides_chargers(limits, measurement, chargers, reserved)
    for p in range(3):
        if besides[p] + load_a[p] > limits.max_current_per_phase_a[p] - margin:
            if any(s.id == charger_id and p in drawn_grid_phases(s) for s in chargers):
                return False
    cap = power_cap_w(limits, measurement)
    power_w = sum(trial[s.id] * limits.nominal_voltage_v * len(drawn_grid_phases(s)) for s in chargers)
    if cap is not None and power_w + reserved_w > cap - margin:
        return False
    for circuit in limits.sub_circuits:
        circuit_a = loads([s for s in chargers if s.sub_circuit == circuit.id], trial)
        if any(circuit_a[p] > circuit.max_current_per_phase_a[p] - margin for p in range(3)):
            return False
    if limits.max_unbalance_a is not None and max(load_a) - min(load_a) > limits.max_unbalance_a - margin:
        return False
    return True


def unused_capacity(
    limits: NetworkLimits,
    measurement: GridMeasurement | None,
    chargers: Sequence[ChargerState],
    result: Allocation,
    reserved: Reservation | None = None,
) -> list[str]:
    """Active chargers that could have been given more (one more step, or their minimum) within every limit."""
    found: list[str] = []
    setpoints = result.setpoints_a
    step = limits.current_step_a
    for state in chargers:
        if not state.active:
            continue
        value = setpoints[state.id]
        if value == 0:
            wanted = min_setpoint_a(limits, state)
            if wanted > state.max_current_a + TOLERANCE_A:
                continue
        else:
            wanted = value + step
            if wanted > state.max_current_a + TOLERANCE_A:
                continue
        if fits(limits, measurement, chargers, setpoints, state.id, wanted, reserved):
            found.append(f"{state.id} ({result.reasons[state.id]}) could take {wanted} instead of {value}")
    return found
