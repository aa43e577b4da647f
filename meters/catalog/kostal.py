"""KOSTAL Smart Energy Meter (KSEM): SunSpec at unit 71.

Firmware 2.6.0 moved every SunSpec register from 40069 on by +1 (its common model grew
to the conformant 66 registers), so the reader walks the chain instead of trusting an
address. The TQ-built KSEM also serves TQ's native map (TQ "Energy Manager - Modbus
Slave" rev. 0013: separate unsigned import/export power, supply frequency at 26 as
uint32 in 0.001 Hz, table 3; the map is `tq.TQ_REGISTERS`), not used here because
SunSpec discovery survives firmware changes.
"""

from meters.registers import MeterModel, Protocol, Source
from meters.sunspec import SUNSPEC_SOURCE

KSEM_INTERFACE = Source(
    title="Interface Description KOSTAL Smart Energy Meter - MODBUS (SunSpec register overview)",
    version="revision 1.1.2, 03.09.2020",
    publisher="KOSTAL Solar Electric",
)
KSEM_FW26_SHIFT = Source(
    title="SW 2.6.0 and above: Modbus registers 40069-40177 offset by +1 for SunSpec "
    "conformity (evcc-io/evcc issue 18373; confirmed by Energy2Shelly_ESP issue 47 and "
    "dbus-modbus-client-kostal-smartmeter issue 13)",
    version="KSEM firmware 2.6.0",
    publisher="KOSTAL (as reported in public issue trackers)",
)

KSEM = MeterModel(
    key="kostal-ksem",
    manufacturer="KOSTAL",
    model="Smart Energy Meter",
    protocol=Protocol.SUNSPEC,
    default_port=502,
    default_unit_id=71,
    sunspec_model_id=203,
    sources=(KSEM_INTERFACE, SUNSPEC_SOURCE, KSEM_FW26_SHIFT),
    verification="verified: SunSpec model 203/213 addresses agree across SunSpec and "
    "independent KSEM implementations (KOSTAL PDF read only in part)",
    notes="Enable 'Modbus TCP slave' in the KSEM web UI. Some firmware encodes TotWhExp as "
    "signed int32 (ha-sunspec issue 249); export energy is informational only here.",
)

MODELS = (KSEM,)
