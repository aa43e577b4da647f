"""KOSTAL Smart Energy Meter (KSEM): SunSpec at unit 71."""

from meters.registers import MeterModel, Protocol

KSEM = MeterModel(
    key="kostal-ksem",
    manufacturer="KOSTAL",
    model="Smart Energy Meter",
    protocol=Protocol.SUNSPEC,
    default_unit_id=71,
    verification="unverified: register map not yet encoded",
)

MODELS = (KSEM,)
