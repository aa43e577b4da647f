"""Siemens SENTRON PAC2200 (7KM2200): float32 measurements, float64 energy per tariff."""

from meters.registers import MeterModel, Protocol

PAC2200 = MeterModel(
    key="siemens-7km2200",
    manufacturer="Siemens",
    model="7KM2200 (SENTRON PAC2200)",
    protocol=Protocol.MODBUS_TCP,
    verification="unverified: register map not yet encoded",
)

MODELS = (PAC2200,)
