"""Siemens SENTRON PAC2200 (7KM2200), Modbus TCP: float32 measurements, float64 energy per tariff.

Energy is kept per tariff (import/export x tariff 1/2, float64 Wh); the meter's totals
are the sums, because a meter switched to tariff 2 stops counting in tariff 1.
Frequency sits at offset 55 in the SENTRON PAC manuals and in openWB's PAC2200 driver
(tested on a meter); mbmd reads 46, which we do not follow. The tariff-2 offsets (805,
813) come from the PAC manuals' tariff block, whose order the PAC2200 manual confirms.
"""

from meters.registers import DType, MeterModel, Protocol, Quantity, Register, Source

PAC2200_MANUAL = Source(
    title="SENTRON PAC2200 Equipment Manual, appendix A.1 Modbus TCP (function codes 0x03/0x04 "
    "on all measured variables; offset 25 active power L1; tariff energy block order)",
    version="12/2019, L1V30415167B-03",
    publisher="Siemens",
)
PAC4200_MANUAL = Source(
    title="SENTRON PAC4200 Manual, A.3 MODBUS (same SENTRON offsets 1/13/25, energy 801-813 "
    "Double Wh per tariff)",
    version="09/2008, A5E02316180B-01",
    publisher="Siemens",
)
OPENWB_SENTRON = Source(
    title="openWB packages/modules/siemens_sentron/counter.py (PR 2402, tested on a PAC2200)",
    version="commit 08160315",
    publisher="snaptec/openWB",
)
MBMD_PAC2200 = Source(
    title="mbmd meters/rs485/pac2200.go (built from the PAC2200 manual)",
    version="commit 3edb7f10",
    publisher="volkszaehler/mbmd",
)


def _float(name: str, address: int, quantity: Quantity, unit: str) -> Register:
    return Register(name, address=address, quantity=quantity, dtype=DType.FLOAT32, unit=unit)


def _energy(name: str, address: int, quantity: Quantity) -> Register:
    return Register(name, address=address, quantity=quantity, dtype=DType.FLOAT64, unit="Wh")


PAC2200 = MeterModel(
    key="siemens-7km2200",
    manufacturer="Siemens",
    model="7KM2200 (SENTRON PAC2200)",
    protocol=Protocol.MODBUS_TCP,
    default_port=502,
    default_unit_id=1,
    # Offsets 7..11 (voltages L-L) and 19..23 (apparent power) lie between the values
    # used and are measured variables, so 1..30 is one request. Reserved gaps are not
    # readable on the PAC2200 (exception 2), hence no larger span.
    max_gap_registers=6,
    sources=(PAC2200_MANUAL, PAC4200_MANUAL, OPENWB_SENTRON, MBMD_PAC2200),
    verification="verified: Siemens PAC manuals, openWB (tested on a meter) and mbmd agree; "
    "frequency per manuals and openWB (mbmd differs); tariff 2 per the PAC manuals",
    registers=(
        _float("Voltage L1-N", 0x0001, Quantity.VOLTAGE_L1, "V"),
        _float("Voltage L2-N", 0x0003, Quantity.VOLTAGE_L2, "V"),
        _float("Voltage L3-N", 0x0005, Quantity.VOLTAGE_L3, "V"),
        _float("Current L1", 0x000D, Quantity.CURRENT_L1, "A"),
        _float("Current L2", 0x000F, Quantity.CURRENT_L2, "A"),
        _float("Current L3", 0x0011, Quantity.CURRENT_L3, "A"),
        _float("Active power L1", 0x0019, Quantity.POWER_L1, "W"),
        _float("Active power L2", 0x001B, Quantity.POWER_L2, "W"),
        _float("Active power L3", 0x001D, Quantity.POWER_L3, "W"),
        _float("Frequency", 0x0037, Quantity.FREQUENCY, "Hz"),
        _float("Total active power", 0x0041, Quantity.POWER_TOTAL, "W"),
        _energy("Active energy import tariff 1", 0x0321, Quantity.ENERGY_IMPORT),
        _energy("Active energy import tariff 2", 0x0325, Quantity.ENERGY_IMPORT),
        _energy("Active energy export tariff 1", 0x0329, Quantity.ENERGY_EXPORT),
        _energy("Active energy export tariff 2", 0x032D, Quantity.ENERGY_EXPORT),
    ),
)

MODELS = (PAC2200,)
