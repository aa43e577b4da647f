"""Fronius Smart Meter TS 65A, read through the Symo GEN24 inverter (SunSpec, unit 200).

The GEN24 republishes its primary meter as a SunSpec meter model at unit 200 (the
inverter itself is unit 1; secondary meters 201...). The installer chooses float
(211-213) or int+SF (201-203) models in the inverter's web UI, so the reader walks the
chain and decodes whichever it finds. Positive W is import from the grid.
"""

from meters.registers import MeterModel, Protocol, Source
from meters.sunspec import SUNSPEC_SOURCE

GEN24_MODBUS = Source(
    title="Fronius GEN24 Modbus TCP & RTU operating instructions (42,0410,2649): "
    "meter device id 200, function code 3, max 125 registers per request",
    version="030-18102023",
    publisher="Fronius International",
)

SMART_METER_FLOAT_MAP = Source(
    title="Smart_Meter_Register_Map_Float (GEN24 Modbus API documentation): model 213 at "
    "40069 (0-based), W at 40097, TotWhImp at 40137",
    version="API docs 1.1.1-0, as transcribed in github.com/Brovning/fronius README",
    publisher="Fronius International",
)

TS65A_GEN24 = MeterModel(
    key="fronius-ts65a-gen24",
    manufacturer="Fronius",
    model="Smart Meter TS 65A via Symo GEN24",
    protocol=Protocol.SUNSPEC,
    default_port=502,
    default_unit_id=200,
    sunspec_model_id=213,
    max_current_a=65.0,
    sources=(GEN24_MODBUS, SMART_METER_FLOAT_MAP, SUNSPEC_SOURCE),
    verification="verified: Fronius float register map and SunSpec model 213 agree "
    "(int+SF mode: SunSpec model 203 only)",
    notes="Choose 'float' or 'int+SF' SunSpec model type in the GEN24 web UI; both decode.",
)

MODELS = (TS65A_GEN24,)
