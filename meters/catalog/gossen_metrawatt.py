"""Gossen Metrawatt ENERGYMID EM228X (direct) and EM238X (transformer): one register map.

From Gossen's interface description of the TCP/IP interface, 3-349-937-01. Measured
values are input registers, read with function code 4 (section 3.4, p. 23), at the
zero-based addresses listed (3.8, p. 26). Instantaneous values are type 1 (3.10.1): a
signed 16-bit mantissa scaled by 10**exponent, the exponent shared by a group
(voltages, currents, powers); mantissa 0x8000 means "undefined". Energies are type 2
(3.10.2): the primary energy in Wh is the unsigned 32-bit mantissa times the primary
energy factor at 308 (the EM238X thereby reports energy after its transformers). The
document gives mantissa x 10**exponent (310) as the other way to the same value; the
factor is used because it is an exact integer. The energy type at 311 (0 secondary,
1 primary) is not read: 3.10.2 says the primary energy value is always transmitted.
"""

from meters.registers import DType, MeterModel, Protocol, Quantity, Register, RegisterKind, Source

TCP_INTERFACE_DESCRIPTION = Source(
    title="Schnittstellenbeschreibung TCP/IP-Schnittstelle der Mehrtarif-Zähler U228X-W4, U238X-W4: "
    "2.1.3 (TCP connections), 3.3 p. 22 (unit id ignored), 3.4 p. 23 (function codes), 3.8 p. 26 "
    "(zero-based addresses), 3.10 (measured values and types 1-3); stored in repository "
    "hasenradball/Gossen-Metrawatt-ENERGYMID-EM22xx-Modbus, docs/em2281-em2389-interface-description_d/",
    version="3-349-937-01 (12/3.22)",
    publisher="Gossen Metrawatt",
)
MBMD_ENERGYMID = Source(
    title="mbmd meters/rs485/energymid.go (reads each mantissa through its exponent register in "
    "one request on real meters)",
    version="commit f22a9f38",
    publisher="volkszaehler/mbmd",
)

VOLTAGE_EXPONENT = 12
CURRENT_EXPONENT = 108
POWER_EXPONENT = 212
PRIMARY_ENERGY_FACTOR = 308


def _type1(name: str, address: int, quantity: Quantity, unit: str, exponent_address: int) -> Register:
    """Type 1: int16 mantissa x 10**exponent (the exponent's signed low byte)."""
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


def _type2(name: str, address: int, quantity: Quantity) -> Register:
    """Type 2: uint32 mantissa x primary energy factor = primary energy in Wh."""
    return Register(
        name,
        address=address,
        quantity=quantity,
        dtype=DType.UINT32,
        unit="Wh",
        kind=RegisterKind.INPUT,
        multiplier_address=PRIMARY_ENERGY_FACTOR,
        multiplier_dtype=DType.UINT32,
        # Energies only inform; a meter reporting no usable factor must not stop regulation.
        optional=True,
    )


# Interface description 3-349-937-01, section 3.10 (addresses in decimal as Gossen lists them).
_REGISTERS = (
    _type1("Voltage L1-N", 4, Quantity.VOLTAGE_L1, "V", VOLTAGE_EXPONENT),
    _type1("Voltage L2-N", 5, Quantity.VOLTAGE_L2, "V", VOLTAGE_EXPONENT),
    _type1("Voltage L3-N", 6, Quantity.VOLTAGE_L3, "V", VOLTAGE_EXPONENT),
    Register(  # type 3: uint16 x 0.01 Hz
        "Frequency", address=11, quantity=Quantity.FREQUENCY, dtype=DType.UINT16,
        scale=0.01, unit="Hz", kind=RegisterKind.INPUT,
    ),
    _type1("Current L1", 100, Quantity.CURRENT_L1, "A", CURRENT_EXPONENT),
    _type1("Current L2", 101, Quantity.CURRENT_L2, "A", CURRENT_EXPONENT),
    _type1("Current L3", 102, Quantity.CURRENT_L3, "A", CURRENT_EXPONENT),
    _type1("Active power L1", 200, Quantity.POWER_L1, "W", POWER_EXPONENT),
    _type1("Active power L2", 201, Quantity.POWER_L2, "W", POWER_EXPONENT),
    _type1("Active power L3", 202, Quantity.POWER_L3, "W", POWER_EXPONENT),
    _type1("Active power total", 203, Quantity.POWER_TOTAL, "W", POWER_EXPONENT),
    _type2("Active energy import, all tariffs (1.8.0)", 300, Quantity.ENERGY_IMPORT),
    _type2("Active energy export, all tariffs (2.8.0)", 302, Quantity.ENERGY_EXPORT),
)

_VERIFICATION = (
    "verified (manufacturer map): Gossen Metrawatt interface description 3-349-937-01, "
    "sections 3.4 p. 23, 3.8 p. 26, 3.10 (instantaneous values and energies)"
)

_NOTES = (
    "The meter ignores the Modbus unit id (3-349-937-01, 3.3 p. 22). TCP connections "
    "(2.1.3): one at a time up to TCP firmware 1.13; from 1.18 at most four, the web "
    "browser counting as one, and a further connection makes the meter drop the one idle "
    "longest. A second poller (a data logger, the meter's web page) therefore silently "
    "kicks the gateway off: let the gateway be the meter's only Modbus client."
)


def _energymid(key: str, model: str) -> MeterModel:
    return MeterModel(
        key=key,
        manufacturer="Gossen Metrawatt",
        model=model,
        protocol=Protocol.MODBUS_TCP,
        default_port=502,
        # Any id is answered (3.3, p. 22); 1 is only what the reader sends.
        default_unit_id=1,
        ignores_unit_id=True,
        # mbmd reads each mantissa through its exponent register in one request on real
        # meters (4..12, 100..108, 200..212); the energy block 300..311 is laid out like
        # the tariff block of Gossen's worked example and is read 300..309 the same way.
        max_gap_registers=8,
        registers=_REGISTERS,
        sources=(TCP_INTERFACE_DESCRIPTION, MBMD_ENERGYMID),
        verification=_VERIFICATION,
        notes=_NOTES,
    )


EM228X = _energymid("gossen-metrawatt-em228x", "ENERGYMID EM228X (EM2281/EM2289)")
EM238X = _energymid("gossen-metrawatt-em238x", "ENERGYMID EM238X (EM2381/EM2387/EM2389)")

MODELS = (EM228X, EM238X)
