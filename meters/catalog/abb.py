"""ABB M2M and M4M network analysers.

M4M (M4M 20 / M4M 30, Modbus TCP), from ABB's own documents (below): holding registers
read with function code 3 (manual section 2, p. 8), integers with a fixed resolution,
most significant byte and word first (p. 12). Every register of the entry is a row of
ABB's "M4M Modbus map - v.1.3N" sheet "Mapping Table" valid for M4M 20 and M4M 30 (all
versions). Trap: the M4M does NOT use the ABB B23/B24 instantaneous layout even though
it sits in the same 0x5Bxx block: on the M4M 0x5B02 is phase voltage L1, 0x5B14 current
L3 (total power on the B23), total active power 0x5B1A. Only the energy registers
(0x5000 import, 0x5004 export) are at the B23 addresses. Values the meter does not have
read FFFF... (unsigned) or 7FFF... (signed) (manual p. 12): they decode as missing (None),
except a current, without which the loop cannot regulate: that fails the reading and
names the register.

M2M has no map here: its manufacturer manual exists (below) but its tables could not be
read, and it has only one independent implementation to compare with, which the catalog
rule does not accept. Read it with a custom map checked against the manual (`python -m
meters read abb-m2m --map FILE`).
"""

from meters.registers import DType, MeterModel, Protocol, Quantity, Register, Source

M2M_ETHERNET_MANUAL = Source(
    title="M2M ETHERNET - Ethernet interface user manual (chapter 4, Modbus-TCP protocol, function 03h)",
    version="2CSG445012D0201 Rev. 1.0",
    publisher="ABB",
)
ABB_DOCUMENTS_AT = "stored in repository heinrich321/abb-teltonika, folder ABB/ (commit 0f1fc5c9)"
M4M_MODBUS_MAP = Source(
    title="M4M Modbus map - v.1.3N.xlsx, sheet 'Mapping Table', rows valid for 'M4M 20 (all "
    "versions); M4M 30 (all versions)'; " + ABB_DOCUMENTS_AT,
    version="map v.1.3N",
    publisher="ABB",
)
M4M_MODBUS_MANUAL = Source(
    title="Communication protocol - Modbus manual, M4M network analyzers: section 2 p. 8 "
    "(function code 3 reads measurements), p. 12 (most significant byte first; invalid values "
    "FFFF... unsigned / 7FFF... signed; readable range 0x1000-0x8EFF); " + ABB_DOCUMENTS_AT,
    version="2CSG445050D0201 V1.05",
    publisher="ABB",
)
M2M = MeterModel(
    key="abb-m2m",
    manufacturer="ABB",
    model="M2M",
    protocol=Protocol.MODBUS_TCP,
    sources=(M2M_ETHERNET_MANUAL,),
    verification="unverified: no public register map readable (one third-party source only); "
    "use a custom map",
)


# ABB manual p. 12: a value the meter does not have reads all ones, or 0x7FFF... if signed.
_M4M_NOT_AVAILABLE = {
    DType.UINT16: 0xFFFF,
    DType.UINT32: 0xFFFF_FFFF,
    DType.INT32: 0x7FFF_FFFF,
    DType.UINT64: 0xFFFF_FFFF_FFFF_FFFF,
}


def _m4m(name: str, address: int, quantity: Quantity, dtype: DType, scale: float, unit: str) -> Register:
    """A Mapping Table row; currents are required (the loop regulates on them), the rest may be absent."""
    required = quantity in (Quantity.CURRENT_L1, Quantity.CURRENT_L2, Quantity.CURRENT_L3)
    return Register(
        name, address=address, quantity=quantity, dtype=dtype, scale=scale, unit=unit,
        invalid=(_M4M_NOT_AVAILABLE[dtype],), optional=not required,
    )


M4M = MeterModel(
    key="abb-m4m",
    manufacturer="ABB",
    model="M4M",
    protocol=Protocol.MODBUS_TCP,
    default_port=502,
    # Neither ABB document states a Modbus TCP unit id; 1 is the usual default.
    default_unit_id=1,
    # max_current_a stays at the CT-meter bound: the M4M reads through CTs.
    # Manual p. 12: 0x1000-0x8EFF is readable and unused values read FFFF..., so the
    # gaps of 0x5B02..0x5B32 (widest 0x5B22..0x5B31) cost nothing to span in one request.
    max_gap_registers=16,
    sources=(M4M_MODBUS_MAP, M4M_MODBUS_MANUAL),
    verification="verified (manufacturer map): ABB M4M Modbus map v.1.3N 'Mapping Table' and "
    "Modbus manual 2CSG445050D0201 V1.05 pp. 8, 12",
    notes="Not the ABB B23/B24 register layout. ABB's documents do not state the sign "
    "of active power: at commissioning, with the site drawing from the grid, `python -m meters "
    "read abb-m4m` must show import on every phase; the gateway counts the current of a phase "
    "with negative power as export.",
    registers=(
        # ABB "M4M Modbus map - v.1.3N", Mapping Table (manual 2CSG445050D0201 p. 12: high word first).
        _m4m("Phase voltage L1", 0x5B02, Quantity.VOLTAGE_L1, DType.UINT32, 0.1, "V"),
        _m4m("Phase voltage L2", 0x5B04, Quantity.VOLTAGE_L2, DType.UINT32, 0.1, "V"),
        _m4m("Phase voltage L3", 0x5B06, Quantity.VOLTAGE_L3, DType.UINT32, 0.1, "V"),
        _m4m("Current L1", 0x5B10, Quantity.CURRENT_L1, DType.UINT32, 0.01, "A"),
        _m4m("Current L2", 0x5B12, Quantity.CURRENT_L2, DType.UINT32, 0.01, "A"),
        _m4m("Current L3", 0x5B14, Quantity.CURRENT_L3, DType.UINT32, 0.01, "A"),
        _m4m("Active power total", 0x5B1A, Quantity.POWER_TOTAL, DType.INT32, 0.01, "W"),
        _m4m("Active power L1", 0x5B1C, Quantity.POWER_L1, DType.INT32, 0.01, "W"),
        _m4m("Active power L2", 0x5B1E, Quantity.POWER_L2, DType.INT32, 0.01, "W"),
        _m4m("Active power L3", 0x5B20, Quantity.POWER_L3, DType.INT32, 0.01, "W"),
        _m4m("Frequency", 0x5B32, Quantity.FREQUENCY, DType.UINT16, 0.01, "Hz"),
        _m4m("Active energy import", 0x5000, Quantity.ENERGY_IMPORT, DType.UINT64, 0.01, "kWh"),
        _m4m("Active energy export", 0x5004, Quantity.ENERGY_EXPORT, DType.UINT64, 0.01, "kWh"),
    ),
)

MODELS = (M2M, M4M)
