"""Gossen Metrawatt EM228X and EM238X energy meters."""

from meters.registers import MeterModel, Protocol

EM228X = MeterModel(
    key="gossen-metrawatt-em228x",
    manufacturer="Gossen Metrawatt",
    model="EM228X",
    protocol=Protocol.MODBUS_TCP,
    verification="unverified: register map not yet encoded",
)

EM238X = MeterModel(
    key="gossen-metrawatt-em238x",
    manufacturer="Gossen Metrawatt",
    model="EM238X",
    protocol=Protocol.MODBUS_TCP,
    verification="unverified: register map not yet encoded",
)

MODELS = (EM228X, EM238X)
