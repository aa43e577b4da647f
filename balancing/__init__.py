"""Pure allocation of charging current under the limits of a house connection.

Stdlib only: the gateway runs it every cycle and the fleet server uses it to
validate configurations, so it must not depend on either.
"""

PHASE_ROTATIONS: tuple[str, ...] = ("L1L2L3", "L2L3L1", "L3L1L2")
"""How a charger's (or meter's) phases 1..3 map to grid phases; L2L3L1 means its phase 1 is grid L2."""

DEFAULT_MIN_CURRENT_A = 6
"""Smallest current a charger may be set to while charging (IEC 61851-1)."""
