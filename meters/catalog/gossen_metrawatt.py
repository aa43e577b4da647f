"""Gossen Metrawatt ENERGYMID EM228X (direct) and EM238X (transformer): one register map.

Measured values are input registers holding a signed 16-bit mantissa; each group shares
an exponent register whose signed low byte e scales it by 10**e (EM238x thereby reports
primary values). Mantissa 0x8000 means "undefined". Energies are not mapped: they must
be multiplied by a "primary energy factor" whose address the sources give differently
(308 vs 408); read them with a custom map once checked against the Gossen TCP/IP
interface description.
"""

from meters.registers import DType, MeterModel, Protocol, Quantity, Register, RegisterKind, Source

INTERFACE_DESCRIPTION = Source(
    title="ENERGYMID EM2281...EM2389 interface description TCP/IP (em2281-em2389-tcp-sb_d.pdf) "
    "and Modbus RTU (em2281-em2389-modbus-rtu-sb_d.pdf); not readable during research",
    version="as published with operating instructions 3-349-868-03, 7/8.21",
    publisher="Gossen Metrawatt",
)
MBMD_ENERGYMID = Source(
    title="mbmd meters/rs485/energymid.go (input registers, zero based; reads each mantissa "
    "through its exponent register in one request)",
    version="commit f22a9f38",
    publisher="volkszaehler/mbmd",
)
HASENRADBALL_EM22XX = Source(
    title="Gossen-Metrawatt-ENERGYMID-EM22xx-Modbus energymid_em22xx.py (Modbus TCP, FC 4, port 502)",
    version="repository hasenradball/Gossen-Metrawatt-ENERGYMID-EM22xx-Modbus",
    publisher="hasenradball",
)

VOLTAGE_EXPONENT = 0x000C
CURRENT_EXPONENT = 0x006C
POWER_EXPONENT = 0x00D4


def _mantissa(name: str, address: int, quantity: Quantity, unit: str, exponent_address: int) -> Register:
    return Register(
        name,
        address=address,
        quantity=quantity,
        dtype=DType.INT16,
        unit=unit,
        kind=RegisterKind.INPUT,
        invalid=(0x8000,),
        scale_factor_address=exponent_address,
        scale_factor_low_byte=True,
    )


_REGISTERS = (
    _mantissa("Voltage L1-N", 0x0004, Quantity.VOLTAGE_L1, "V", VOLTAGE_EXPONENT),
    _mantissa("Voltage L2-N", 0x0005, Quantity.VOLTAGE_L2, "V", VOLTAGE_EXPONENT),
    _mantissa("Voltage L3-N", 0x0006, Quantity.VOLTAGE_L3, "V", VOLTAGE_EXPONENT),
    Register(
        "Frequency", address=0x000B, quantity=Quantity.FREQUENCY, dtype=DType.UINT16,
        scale=0.01, unit="Hz", kind=RegisterKind.INPUT,
    ),
    _mantissa("Current L1", 0x0064, Quantity.CURRENT_L1, "A", CURRENT_EXPONENT),
    _mantissa("Current L2", 0x0065, Quantity.CURRENT_L2, "A", CURRENT_EXPONENT),
    _mantissa("Current L3", 0x0066, Quantity.CURRENT_L3, "A", CURRENT_EXPONENT),
    _mantissa("Active power L1", 0x00C8, Quantity.POWER_L1, "W", POWER_EXPONENT),
    _mantissa("Active power L2", 0x00C9, Quantity.POWER_L2, "W", POWER_EXPONENT),
    _mantissa("Active power L3", 0x00CA, Quantity.POWER_L3, "W", POWER_EXPONENT),
    _mantissa("Active power total", 0x00CB, Quantity.POWER_TOTAL, "W", POWER_EXPONENT),
)

_VERIFICATION = (
    "verified: mbmd and hasenradball implementations of the Gossen interface description agree "
    "(instantaneous values); energies not mapped (energy-factor address disputed)"
)


def _energymid(key: str, model: str) -> MeterModel:
    return MeterModel(
        key=key,
        manufacturer="Gossen Metrawatt",
        model=model,
        protocol=Protocol.MODBUS_TCP,
        default_port=502,
        # Not documented in a readable source (one client uses 0); TCP-only ENERGYMIDs
        # are addressed by IP, so pass --unit if the meter insists on another id.
        default_unit_id=1,
        # mbmd reads each mantissa through its exponent register in one request
        # (4..12, 100..108, 200..212) on real meters, so those spans are readable.
        max_gap_registers=8,
        registers=_REGISTERS,
        sources=(INTERFACE_DESCRIPTION, MBMD_ENERGYMID, HASENRADBALL_EM22XX),
        verification=_VERIFICATION,
    )


EM228X = _energymid("gossen-metrawatt-em228x", "ENERGYMID EM228X (EM2281/EM2289)")
EM238X = _energymid("gossen-metrawatt-em238x", "ENERGYMID EM238X (EM2381/EM2387/EM2389)")

MODELS = (EM228X, EM238X)
