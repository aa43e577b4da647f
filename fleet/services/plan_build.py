"""The planner's question from an operator's request: the network as installed, changed as asked, over a recorded load.

The request (validated by the API's serializer, stored on the `CapacityPlan`)
names only what changes: chargers to add, a fuse, a power cap, and how
vehicles come and go. Everything else is the network as configured now.
"""

from __future__ import annotations

from typing import Any

from balancing import PHASE_ROTATIONS, ScenarioError
from planning import HouseLoad, Plan, PlanLimits, PlannedCharger, Session, SessionProfile

from fleet.models import ChargingNetwork

HYPOTHETICAL_PREFIX = "new-"
"""Ids of added chargers (`new-1`, `new-2`, ...); installed ones keep their names."""


def added_chargers(additions: list[dict[str, Any]]) -> list[PlannedCharger]:
    """The hypothetical chargers of a request, numbered in order; single-phase ones spread over L1, L2, L3."""
    chargers: list[PlannedCharger] = []
    single_phase = 0
    for group in additions:
        for _ in range(int(group.get("count", 1))):
            rotation = group.get("phase_rotation")
            if rotation is None and group.get("phases", 3) != 3:
                # An installer puts single-phase points on alternating phases, not all on L1.
                rotation = PHASE_ROTATIONS[single_phase % len(PHASE_ROTATIONS)]
                single_phase += 1
            chargers.append(
                PlannedCharger(
                    id=f"{HYPOTHETICAL_PREFIX}{len(chargers) + 1}",
                    max_current_a=group["max_current_a"],
                    min_current_a=group.get("min_current_a", 6),
                    phases=group.get("phases", 3),
                    phase_rotation=rotation or "L1L2L3",
                    priority=group.get("priority", 0),
                    hypothetical=True,
                )
            )
    return chargers


def plan_limits(network: ChargingNetwork, changes: dict[str, Any]) -> PlanLimits:
    """The network's limits with the request's fuse and power cap in place (a null cap removes it)."""
    max_power_w = changes["max_power_w"] if "max_power_w" in changes else network.max_power_w
    fallback_power_w = network.fallback_power_w
    if max_power_w is not None and fallback_power_w is not None:
        fallback_power_w = min(fallback_power_w, max_power_w)
    return PlanLimits(
        max_current_per_phase_a=changes.get("max_current_per_phase_a") or network.max_current_per_phase_a,
        max_power_w=max_power_w,
        fallback_power_w=fallback_power_w,
        nominal_voltage_v=network.nominal_voltage_v,
    )


def plan_build(network: ChargingNetwork, request: dict[str, Any], load: HouseLoad, recorded: tuple[Session, ...] = ()) -> Plan:
    """The `planning.Plan` for a validated request; ScenarioError names the request's field if the core refuses.

    With `"sessions": "recorded"` the installed chargers replay `recorded`
    (their own history) and the profile draws sessions for the added ones only.
    """
    changes = request.get("changes") or {}
    installed = [
        PlannedCharger(
            id=charger.name,
            max_current_a=charger.max_current_a,
            min_current_a=charger.min_current_a,
            phases=charger.phases,
            phase_rotation=charger.phase_rotation,
            priority=charger.priority,
        )
        for charger in network.chargers.order_by("name")
    ]
    hypothetical = _within("changes.add_chargers", added_chargers, changes.get("add_chargers") or [])
    if any(charger.id.startswith(HYPOTHETICAL_PREFIX) for charger in installed):
        # Installed names win; added ones are renamed out of the way.
        hypothetical = [_renamed(c, f"{HYPOTHETICAL_PREFIX}planned-{i + 1}") for i, c in enumerate(hypothetical)]
    chargers = tuple(installed + hypothetical)
    if not chargers:
        raise ScenarioError("changes.add_chargers", "the network has no chargers: add at least one to plan")
    limits = _within("changes", plan_limits, network, changes)
    profile_data = dict(request.get("profile") or {})
    if request.get("sessions") == "recorded":
        if not hypothetical:
            return Plan(limits, chargers, load, sessions=tuple(recorded))
        if not profile_data.get("chargers"):
            profile_data["chargers"] = [charger.id for charger in hypothetical]
    profile = _within("profile", SessionProfile.from_dict, profile_data)
    return Plan(limits, chargers, load, sessions=tuple(recorded), profile=profile)


def _renamed(charger: PlannedCharger, new_id: str) -> PlannedCharger:
    return PlannedCharger(**{**charger.to_dict(), "id": new_id})


def _within(prefix: str, build, *args):
    try:
        return build(*args)
    except ScenarioError as error:
        raise error.within(prefix) from None


def plan_check(network: ChargingNetwork, request: dict[str, Any], start, end) -> None:
    """Refuse a request the planner would refuse, before it is queued: ScenarioError with the request's field path.

    Builds the plan over a one-sample placeholder load spanning the window, so
    the limits, chargers and profile meet the same rules the run applies.
    """
    placeholder = HouseLoad(start, (end - start).total_seconds(), ((0.0, 0.0, 0.0),))
    plan_build(network, request, placeholder)
