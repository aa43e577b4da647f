"""The power a grid operator must leave a site it dims under EnWG section 14a.

Source: Bundesnetzagentur, Festlegung BK6-22-300 of 27 November 2023 (in
force 1 January 2024), Anlage 1, Ziffer 4.5.2: with several controllable
consumer devices (steuerbare Verbrauchseinrichtungen) behind one energy
management system, the operator may dim the group no lower than

    P_min = 4.2 kW + (n - 1) x GZF(n) x 4.2 kW

with the simultaneity factors GZF of the table there: 1 for one device, 0.80
for two, 0.05 less per further device, 0.45 from nine on (so two wallboxes
keep 7.56 kW). A single directly dimmed device keeps 4.2 kW.

We could not read the determination's own text (the Bundesnetzagentur's
PDF) from here. The formula, the section and every factor of the table were
taken from independent public restatements that cite Anlage 1 Ziffer 4.5.2
and agree: the documentation of two open-source home energy managers (one
quoting the VDE FNN note on Tenorziffer 2f, 04/2025, with the examples
7.56 kW for a wallbox and a battery), and a third project's list of the
factors by device count. evcc's and openWB's section 14a pages confirm that
the group minimum under an EMS follows "a given formula" but leave it to
the installer. Check the table against the determination before relying on
it beyond nine devices. Heat pumps and air conditioning above 11 kW have
a rule of their own (0.4 x their rated power replaces the first 4.2 kW); a
charging network knows only its chargers, so an installer with such devices
behind the same EMS sets the cap in the site config (``power_w``) instead.
"""

from __future__ import annotations

from .errors import ScenarioError

DEVICE_MINIMUM_W = 4200.0
"""Power one controllable device keeps while dimmed (BK6-22-300, Anlage 1; the 4.2 kW of the formula above)."""

# GZF by number of devices (BK6-22-300, Anlage 1, Ziffer 4.5.2, table); from nine on the last row holds.
SIMULTANEITY_FACTORS: dict[int, float] = {
    1: 1.0,
    2: 0.80,
    3: 0.75,
    4: 0.70,
    5: 0.65,
    6: 0.60,
    7: 0.55,
    8: 0.50,
    9: 0.45,
}


def simultaneity_factor(devices: int) -> float:
    """GZF for ``devices`` controllable devices behind one energy management system."""
    if isinstance(devices, bool) or not isinstance(devices, int) or devices < 1:
        raise ScenarioError("devices", f"must be a whole number of at least 1, not {devices!r}")
    return SIMULTANEITY_FACTORS[min(devices, max(SIMULTANEITY_FACTORS))]


def guaranteed_minimum_w(devices: int) -> float:
    """The power a grid-operator dimming must leave ``devices`` controllable devices (Anlage 1, Ziffer 4.5.2)."""
    factor = simultaneity_factor(devices)
    # Rounded to the watt: 0.55 x 4200 is 2310.0000000000005 in binary floating point.
    return round(DEVICE_MINIMUM_W + (devices - 1) * factor * DEVICE_MINIMUM_W, 3)
