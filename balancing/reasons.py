"""Why a charger got its setpoint: short stable codes and the human text derived from them.

The codes travel in telemetry and are stored by the fleet server, so they are
part of the wire contract: add new ones, never rename or reuse old ones. The
UI shows ``describe(code)``; nothing else should invent reason text.
"""

from __future__ import annotations

GRID_PHASE_NAMES: tuple[str, str, str] = ("L1", "L2", "L3")

INACTIVE = "inactive"
AT_MAX = "at_max"
NETWORK_POWER = "network_power"
UNBALANCE_LIMIT = "unbalance_limit"
FALLBACK = "fallback"
FALLBACK_ZERO = "fallback_zero"
PRIORITY = "priority"
WAITING_TURN = "waiting_turn"
PACED_INCREASE = "paced_increase"
RESUME_PENDING = "resume_pending"
NO_VALID_SETPOINT = "no_valid_setpoint"
# External caps on the chargers' total power (``model.PowerCap``), one code per
# kind of source, so that a dimmed site says who dimmed it.
GRID_OPERATOR_CAP = "grid_operator_cap"
OPERATOR_CAP = "operator_cap"
SCHEDULE_CAP = "schedule_cap"
# Set by the gateway, not by the engine, but listed here so that every code
# has one home and one text.
CHARGER_UNREACHABLE = "charger_unreachable"
CHARGER_NOT_READ_YET = "charger_not_read_yet"
ALLOCATION_FAILED = "allocation_failed"

_PHASE_LIMIT_PREFIX = "limited_by_phase_"
_HOUSE_OVER_PREFIX = "house_over_limit_"
_SUB_CIRCUIT_PREFIX = "sub_circuit:"

_TEXTS: dict[str, str] = {
    INACTIVE: "No vehicle is connected or the vehicle does not ask for charge.",
    AT_MAX: "Charging at the charger's maximum current.",
    NETWORK_POWER: "Limited by the maximum charging power of the network.",
    UNBALANCE_LIMIT: "Limited so that the phases stay within the unbalanced-load limit.",
    FALLBACK: "The grid meter is missing or stale: limited to the fallback power.",
    FALLBACK_ZERO: "The grid meter is missing or stale and the fallback power is zero: paused.",
    PRIORITY: "Paused: chargers with a higher priority use the available capacity.",
    WAITING_TURN: "Paused: waiting its turn, chargers of the same priority take turns.",
    PACED_INCREASE: "Increasing step by step so that a short dip in house load causes no overshoot.",
    GRID_OPERATOR_CAP: "Limited by the grid operator's power limit (for instance dimming under EnWG section 14a).",
    OPERATOR_CAP: "Limited by a power limit the operator of the site has set.",
    SCHEDULE_CAP: "Limited by a scheduled power limit in force at this time.",
    NO_VALID_SETPOINT: "Paused: no multiple of the setpoint step lies between the charger's minimum and maximum current.",
    CHARGER_UNREACHABLE: "Paused: the gateway cannot reach the charger; its possible draw is kept free.",
    CHARGER_NOT_READ_YET: "Paused: the charger has not been read yet since the gateway started.",
    ALLOCATION_FAILED: "Paused: the gateway could not compute an allocation from its inputs (see its log).",
    RESUME_PENDING: "Paused a little longer before resuming, so that the contactor does not switch too often.",
}


def limited_by_phase(grid_phase: int) -> str:
    """Code for a setpoint capped by the current limit of grid phase 0..2 at the house connection."""
    return _PHASE_LIMIT_PREFIX + GRID_PHASE_NAMES[grid_phase]


def house_over_limit(grid_phase: int) -> str:
    """Code for a charger paused because the house alone exceeds the limit of grid phase 0..2."""
    return _HOUSE_OVER_PREFIX + GRID_PHASE_NAMES[grid_phase]


def sub_circuit(circuit_id: str) -> str:
    """Code for a setpoint capped by the per-phase limit of a sub-circuit."""
    return _SUB_CIRCUIT_PREFIX + circuit_id


POWER_CAP_REASONS: tuple[str, ...] = (NETWORK_POWER, FALLBACK, GRID_OPERATOR_CAP, OPERATOR_CAP, SCHEDULE_CAP)
"""The codes a cap on the chargers' total power may carry (``PowerCap.reason``)."""

REASON_CODES: tuple[str, ...] = (
    *_TEXTS,
    *(limited_by_phase(p) for p in range(3)),
    *(house_over_limit(p) for p in range(3)),
)
"""Every fixed code; ``sub_circuit:<id>`` is the one family with a free part."""


def is_reason_code(code: str) -> bool:
    """Whether ``code`` is one the engine can emit (telemetry validation uses this)."""
    if code in REASON_CODES:
        return True
    return code.startswith(_SUB_CIRCUIT_PREFIX) and len(code) > len(_SUB_CIRCUIT_PREFIX)


def describe(code: str) -> str:
    """Human text for a reason code; an unknown code (say from a newer gateway) is shown as it is."""
    text = _TEXTS.get(code)
    if text is not None:
        return text
    if code.startswith(_PHASE_LIMIT_PREFIX) and code[len(_PHASE_LIMIT_PREFIX) :] in GRID_PHASE_NAMES:
        return f"Limited by the maximum current of grid phase {code[len(_PHASE_LIMIT_PREFIX) :]}."
    if code.startswith(_HOUSE_OVER_PREFIX) and code[len(_HOUSE_OVER_PREFIX) :] in GRID_PHASE_NAMES:
        phase = code[len(_HOUSE_OVER_PREFIX) :]
        return f"Paused: the house alone draws more than the limit of grid phase {phase}."
    if is_reason_code(code):
        return f"Limited by the per-phase limit of sub-circuit {code[len(_SUB_CIRCUIT_PREFIX) :]}."
    return f"Unknown reason ({code})."
