"""ABB M2M and M4M network analysers.

M4M (M4M 20 / M4M 30, Modbus TCP): holding registers (function code 3), integers with a
fixed resolution, 32- and 64-bit values high word first. The map below is where
independent implementations agree (see `verification`); per-phase active power is not
mapped because only one readable source gives it (0x5B1C/0x5B1E/0x5B20 there). Trap:
the M4M does NOT use the ABB B23/B24 instantaneous layout even though it sits in the
same 0x5Bxx block: on the M4M 0x5B00 is the system voltage and 0x5B02 phase voltage L1,
0x5B14 is current L3 (total power on the B23), total active power is 0x5B1A. Only the
energy registers (0x5000 import, 0x5004 export) are at the B23 addresses. Quantities
the meter lacks read as FFFF... (unsigned) / 7FFF... (signed) per proxus' transcription
of ABB's map; decoded, those are far outside the plausible range and so are rejected.

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
M4M_MODBUS_MANUAL = Source(
    title="Communication protocol - Modbus manual, M4M network analyzers (tables not readable "
    "during research)",
    version="2CSG445050D0201 V1.05",
    publisher="ABB",
)
HEINRICH_M4M30 = Source(
    title="abb-teltonika m4m30.py, M4M_30_REG_MAP (kept next to ABB's 'Modbus manual v. 1.05' "
    "and 'M4M Modbus map v.1.3N' in the same repository)",
    version="commit 1aefa030",
    publisher="heinrich321/abb-teltonika",
)
PUGLIAUTOMAZIONE_AB1 = Source(
    title="device drivers, class c_driver_ab1 'ABB M4M 20' (v1.0 2022-05-23; reads 0x5B02-0x5B44 "
    "and 0x5000-0x5012 as single requests); repository not named by the index",
    version="drivers v3.2 2023-10-05, stored-index file id 49603339802",
    publisher="Studio Tecnico Pugliautomazione",
)
TETHERTO_M4M20 = Source(
    title="miningos-wrk-powermeter-abb workers/lib/models/m4m20.js (reads 0x5B00.. in one "
    "request) and mock/initial_states/m4m20.js (M4M 20 register image)",
    version="commits 09bab558 (worker), b9f0edc7 (mock)",
    publisher="tetherto/miningos-wrk-powermeter-abb",
)
PROXUS_M4M = Source(
    title="ABB M4M 20/M4M 30 Modbus register map, transcribed from ABB 'Modbus protocol map for "
    "M4M network analyzers' Revision F (map v1.3O); only its connection notes were readable",
    version="as stored",
    publisher="proxus.io",
    url="https://proxus.io/tools/modbus-register-maps/abb/m4m-20-m4m-30/",
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


def _u32(name: str, address: int, quantity: Quantity, scale: float, unit: str) -> Register:
    return Register(name, address=address, quantity=quantity, dtype=DType.UINT32, scale=scale, unit=unit)


def _u64(name: str, address: int, quantity: Quantity) -> Register:
    return Register(name, address=address, quantity=quantity, dtype=DType.UINT64, scale=0.01, unit="kWh")


M4M = MeterModel(
    key="abb-m4m",
    manufacturer="ABB",
    model="M4M",
    protocol=Protocol.MODBUS_TCP,
    default_port=502,
    # Unit id not documented in a readable source; TCP devices answer by IP.
    default_unit_id=1,
    # max_current_a stays at the CT-meter bound: the M4M reads through CTs.
    # 0x5B02..0x5B32 is one request: the Pugliautomazione driver reads 0x5B02-0x5B44 in one
    # request, tetherto 0x5B00-0x5B17, and ABB's map (per proxus) makes 0x1000-0x8EFF
    # readable. The widest gap (0x5B1C..0x5B31, per-phase/reactive/apparent power) is 22.
    max_gap_registers=22,
    sources=(M4M_MODBUS_MANUAL, HEINRICH_M4M30, PUGLIAUTOMAZIONE_AB1, TETHERTO_M4M20, PROXUS_M4M),
    verification="partly verified: each mapped register is given alike by at least two of "
    "heinrich321 m4m30.py, the Pugliautomazione M4M 20 driver and tetherto's M4M 20 worker/mock; "
    "proxus (ABB map v1.3O) confirms phase voltage L1 at 0x5B02, FC3, high word first; per-phase "
    "power not mapped (one source); ABB PDF not read",
    notes="Not the B23 layout (see meters/catalog/abb.py). Sign of total power (import positive) "
    "is not stated by the sources read: check that drawing power reads positive at commissioning.",
    registers=(
        _u32("Phase voltage L1", 0x5B02, Quantity.VOLTAGE_L1, 0.1, "V"),
        _u32("Phase voltage L2", 0x5B04, Quantity.VOLTAGE_L2, 0.1, "V"),
        _u32("Phase voltage L3", 0x5B06, Quantity.VOLTAGE_L3, 0.1, "V"),
        _u32("Current L1", 0x5B10, Quantity.CURRENT_L1, 0.01, "A"),
        _u32("Current L2", 0x5B12, Quantity.CURRENT_L2, 0.01, "A"),
        _u32("Current L3", 0x5B14, Quantity.CURRENT_L3, 0.01, "A"),
        Register("Active power total", address=0x5B1A, quantity=Quantity.POWER_TOTAL, dtype=DType.INT32, scale=0.01, unit="W"),
        Register("Frequency", address=0x5B32, quantity=Quantity.FREQUENCY, dtype=DType.UINT16, scale=0.01, unit="Hz"),
        _u64("Active energy import", 0x5000, Quantity.ENERGY_IMPORT),
        _u64("Active energy export", 0x5004, Quantity.ENERGY_EXPORT),
    ),
)

MODELS = (M2M, M4M)
