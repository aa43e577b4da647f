"""KEBA KeContact E10 house-connection meter: a SunSpec device."""

from meters.registers import MeterModel, Protocol

KECONTACT_E10 = MeterModel(
    key="keba-kecontact-e10",
    manufacturer="KEBA",
    model="KeContact E10",
    protocol=Protocol.SUNSPEC,
    verification="unverified: register map not yet encoded",
)

MODELS = (KECONTACT_E10,)
