"""TQ Systems (B-control) EM300 LR / LRW with the TQ Energy Manager Modbus map; the EM420.

From TQ's "Energy Manager - Modbus Slave" (rev. 0013): holding registers read with
function code 3, most significant word first (p. 6), instantaneous values in table 3
(section 4.1, pp. 8-10), energies in table 4 (section 4.2, p. 11). Import and export
power are separate UNSIGNED registers ("Active power+" and "Active power-"); the signed
import-positive power is their difference, declared here as two registers of one
quantity with opposite signs (TQ's own SunSpec model 203 counts import positive, p. 18).
Current and voltage are in mA and mV, powers in 0.1 W, frequency in 0.001 Hz, energies
in 0.1 Wh (uint64). The TQ-built KOSTAL KSEM serves the same native map (see
kostal.py), frequency at 26 included.

KEBA's meter list puts the EM300 LR and LRW in one protocol class, so the LRW gets the
LR map. The EM420 itself has no map: no EM420-specific source was found, and a charger
vendor (MENNEKES) keeps separate "TQ EM300-LR" and "TQ EM410/EM420" profiles, so its
map may differ. If an EM420 answers the TQ map, read it with a custom map or as
tq-em300-lr.
"""

from meters.registers import DType, MeterModel, Protocol, Quantity, Register, Source

TQ_MODBUS_SLAVE = Source(
    title="Energy Manager - Modbus Slave: p. 6 (word order), section 3.2 (TCP port 502, up to 5 "
    "connections), table 3 section 4.1 pp. 8-10 (instantaneous values, function code 3), table 4 "
    "section 4.2 p. 11 (energies); stored in repository OpenEMS/openems, "
    "io.openems.edge.meter.bcontrol.em300/doc/",
    version="revision 0013 (2018-01-17)",
    publisher="TQ-Systems",
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


# TQ "Energy Manager - Modbus Slave" rev. 0013, table 3 (pp. 8-10) and table 4 (p. 11).
TQ_REGISTERS = (
    _u32("Active power+", 0x0000, Quantity.POWER_TOTAL, 0.1, "W"),
    _u32("Active power-", 0x0002, Quantity.POWER_TOTAL, 0.1, "W", sign=-1),
    _u32("Supply frequency (1-0:14.4.0)", 0x001A, Quantity.FREQUENCY, 0.001, "Hz"),  # 26
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
        # TQ documents only the RS-485 id (247), no TCP unit id; 1 is the usual default.
        default_unit_id=1,
        registers=TQ_REGISTERS,
        sources=(TQ_MODBUS_SLAVE, KEBA_METER_LIST),
        verification=verification,
        notes="Enable the Modbus TCP slave in the meter's web UI. It accepts up to 5 Modbus TCP "
        "connections at once (TQ rev. 0013, section 3.2).",
    )


EM300_LR = _tq(
    "tq-em300-lr",
    "TQ Systems (B-control)",
    "EM300 LR",
    "verified (manufacturer map): TQ Energy Manager - Modbus Slave rev. 0013, tables 3 and 4 "
    "(pp. 8-11)",
)
EM300_LRW = _tq(
    "tq-em300-lrw",
    "TQ Systems (B-control)",
    "EM300 LRW",
    "partly verified: TQ's Energy Manager map (manufacturer document rev. 0013, tables 3 and 4); "
    "that the LRW serves it rests on KEBA's meter list (same protocol class as the LR)",
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
