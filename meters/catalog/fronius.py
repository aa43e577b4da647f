"""Fronius Smart Meter TS 65A, read through the Symo GEN24 inverter (SunSpec, unit 200)."""

from meters.registers import MeterModel, Protocol

TS65A_GEN24 = MeterModel(
    key="fronius-ts65a-gen24",
    manufacturer="Fronius",
    model="Smart Meter TS 65A via Symo GEN24",
    protocol=Protocol.SUNSPEC,
    default_unit_id=200,
    verification="unverified: register map not yet encoded",
)

MODELS = (TS65A_GEN24,)
