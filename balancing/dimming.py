"""The power a grid operator must leave a site it dims under EnWG section 14a.

The rule: Bundesnetzagentur, Festlegung BK6-22-300 of 27 November 2023 (in
force 1 January 2024), Anlage 1. Ziffer 4.5.1: a controllable consumer device
(steuerbare Verbrauchseinrichtung) dimmed directly keeps 4.2 kW. Ziffer 4.5.2:
n devices behind one energy management system keep, together,

    P_min = 4.2 kW + (n - 1) x GZF(n) x 4.2 kW

with the simultaneity factor GZF from the table there, which starts at two
devices: 0.80, 0.75, 0.70, 0.65, 0.60, 0.55, 0.50 for n = 2 ... 8 and 0.45 for
nine or more (two wallboxes keep 7.56 kW, three 10.5 kW). We keep 1.0 for
n = 1 only so the function is total; there (n - 1) is 0 and the formula gives
the 4.2 kW of Ziffer 4.5.1.

The primary text was not available to us. The Bundesnetzagentur's PDF
(BK6-22-300_Beschluss_Anlage1.pdf) is in none of the stored corpora we could
search, and this machine cannot reach the Bundesnetzagentur (searched
1 December 2026: the determination's number, "Gleichzeitigkeitsfaktor",
"Pmin,14a", the factors, Anlage 1 and 2, in code, documentation, issues and
web pages). Formula, section and every factor above agree in these
independent restatements, each citing Anlage 1, Ziffer 4.5.2:

- the Rust crate ``metering``, module ``para14a``, which reproduces the table
  for n = 2 ... 8 and >= 9 and the formula's wording and checks its quotes
  against the PDF: https://docs.rs/crate/metering/0.22.0/source/src/para14a.rs
- DVhub's EEBUS documentation (the factor 0.8 for two devices, 0.05 less per
  further device, 0.45 from nine; 7.56 kW for a wallbox and a battery):
  https://github.com/chloepriceless/dvhub/blob/main/docs/EEBUS.md
- elexon GmbH, "Diskussion um den §14a EnWG" (11 July 2024), with the formula
  and 0.45 from n = 9:
  https://elexon-charging.com/2024/07/11/diskussion-um-den-%C2%A714a-enwg-unnoetige-panikmache-oder-begruendete-bedenken/
- a worked example in the Tinkerforge WARP firmware's tracker (two charge
  points, factor 0.8 "from the table", 7.56 kW):
  https://github.com/Tinkerforge/esp32-firmware/issues/407

Two things these sources add. The determination presents Ziffer 4.5.2 as a
presumption of what is appropriate until another recommendation takes effect
(the ``metering`` crate quotes this; Tinkerforge's issue 414 notes the factors
may change), so a grid operator may hold a site to a different table; and
heat pumps or air conditioning above 11 kW replace the first 4.2 kW by
0.4 x the rated power (of the larger group). A charging network knows only its
chargers, so in either case the installer sets the cap in the site config
(``power_w``).
"""

from __future__ import annotations

from .errors import ScenarioError

DEVICE_MINIMUM_W = 4200.0
"""Power one controllable device keeps while dimmed (BK6-22-300, Anlage 1; the 4.2 kW of the formula above)."""

# GZF by number of devices (BK6-22-300, Anlage 1, Ziffer 4.5.2, table from two devices on; n = 1 is ours, see above);
# from nine on the last row holds.
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
