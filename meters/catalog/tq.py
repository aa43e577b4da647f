"""TQ Systems (B-control) EM300 LR / LRW with the TQ Energy Manager Modbus map; the EM420.

The TQ layout gives import and export power as separate UNSIGNED registers ("Active
power+" and "Active power-"); the signed import-positive power is their difference,
declared here as two registers of one quantity with opposite signs. Current and
voltage are in mA and mV, powers in 0.1 W, energies in 0.1 Wh (uint64).

Not mapped: supply frequency (offset 26 in the KSEM implementations, 10 in the EM300
one). KEBA's meter list puts the EM300 LR and LRW in one protocol class, so the LRW
gets the LR map ("partly verified"). The EM420 itself has no map: no EM420-specific
source was found, and a charger vendor (MENNEKES) keeps separate "TQ EM300-LR" and
"TQ EM410/EM420" profiles, so its map may differ. If an EM420 answers the TQ map,
read it with a custom map or as tq-em300-lr.
"""

from meters.registers import DType, MeterModel, Protocol, Quantity, Register, Source

TQ_MODBUS_SLAVE = Source(
    title="TQ Energy Manager - Modbus Slave (not readable during research)",
    version="document revision .0013",
    publisher="TQ-Systems",
)
OPENEMS_EM300 = Source(
    title="OpenEMS io.openems.edge.meter.bcontrol.em300 MeterBControlEM300Impl.java "
    "(B-Control | TQ-Systems EM300 meter, built from the TQ document)",
    version="commit 23d164e8",
    publisher="OpenEMS",
)
KSEM_NATIVE_IMPLEMENTATIONS = Source(
    title="the same TQ native map for the TQ-built KOSTAL KSEM: kostal_em_query (from "
    "ba_kostal_interface_ksem 201905) and dbus-modbus-client-kostal-smartmeter",
    version="as stored",
    publisher="independent implementations",
)
KEBA_METER_LIST = Source(
    title="KeContact integration of external meters: 'EM300 LR / EM300 LRW (EM420 compatible)'",
    version="FuseGuard shared/reference/keba-external-meters.txt",
    publisher="KEBA",
)


def _u32(name: str, address: int, quantity: Quantity, scale: float, unit: str, sign: int = 1) -> Register:
    return Register(name, address=address, quantity=quantity, dtype=DType.UINT32, scale=scale, unit=unit, sign=sign)


def _u64(name: str, address: int, quantity: Quantity) -> Register:
    return Register(name, address=address, quantity=quantity, dtype=DType.UINT64, scale=0.1, unit="Wh")


TQ_REGISTERS = (
    _u32("Active power+", 0x0000, Quantity.POWER_TOTAL, 0.1, "W"),
    _u32("Active power-", 0x0002, Quantity.POWER_TOTAL, 0.1, "W", sign=-1),
    _u32("Active power+ (L1)", 0x0028, Quantity.POWER_L1, 0.1, "W"),
    _u32("Active power- (L1)", 0x002A, Quantity.POWER_L1, 0.1, "W", sign=-1),
    _u32("Current (L1)", 0x003C, Quantity.CURRENT_L1, 0.001, "A"),
    _u32("Voltage (L1)", 0x003E, Quantity.VOLTAGE_L1, 0.001, "V"),
    _u32("Active power+ (L2)", 0x0050, Quantity.POWER_L2, 0.1, "W"),
    _u32("Active power- (L2)", 0x0052, Quantity.POWER_L2, 0.1, "W", sign=-1),
    _u32("Current (L2)", 0x0064, Quantity.CURRENT_L2, 0.001, "A"),
    _u32("Voltage (L2)", 0x0066, Quantity.VOLTAGE_L2, 0.001, "V"),
    _u32("Active power+ (L3)", 0x0078, Quantity.POWER_L3, 0.1, "W"),
    _u32("Active power- (L3)", 0x007A, Quantity.POWER_L3, 0.1, "W", sign=-1),
    _u32("Current (L3)", 0x008C, Quantity.CURRENT_L3, 0.001, "A"),
    _u32("Voltage (L3)", 0x008E, Quantity.VOLTAGE_L3, 0.001, "V"),
    _u64("Active energy+", 0x0200, Quantity.ENERGY_IMPORT),
    _u64("Active energy-", 0x0204, Quantity.ENERGY_EXPORT),
)


def _tq(key: str, manufacturer: str, model: str, verification: str) -> MeterModel:
    return MeterModel(
        key=key,
        manufacturer=manufacturer,
        model=model,
        protocol=Protocol.MODBUS_TCP,
        default_port=502,
        # Unit id not documented in a readable source; TCP devices answer by IP.
        default_unit_id=1,
        registers=TQ_REGISTERS,
        sources=(TQ_MODBUS_SLAVE, OPENEMS_EM300, KSEM_NATIVE_IMPLEMENTATIONS, KEBA_METER_LIST),
        verification=verification,
        notes="Enable the Modbus TCP slave in the meter's web UI. Frequency not mapped (sources disagree).",
    )


EM300_LR = _tq(
    "tq-em300-lr",
    "TQ Systems (B-control)",
    "EM300 LR",
    "verified: OpenEMS EM300 and two KSEM implementations of the TQ map agree; frequency not mapped",
)
EM300_LRW = _tq(
    "tq-em300-lrw",
    "TQ Systems (B-control)",
    "EM300 LRW",
    "partly verified: EM300 LR map (two sources); LRW in the same protocol class per KEBA's list",
)
EM420 = MeterModel(
    key="tq-em420",
    manufacturer="TQ Systems",
    model="EM420",
    protocol=Protocol.MODBUS_TCP,
    sources=(TQ_MODBUS_SLAVE, KEBA_METER_LIST),
    verification="unverified: no public register map for the EM420 (one inferred source only); "
    "use a custom map",
)

MODELS = (EM420, EM300_LR, EM300_LRW)
