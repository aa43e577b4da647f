"""TQ Systems EM420 and the (B-control) EM300 LR / LRW, which share the EM420 layout."""

from meters.registers import MeterModel, Protocol

EM420 = MeterModel(
    key="tq-em420",
    manufacturer="TQ Systems",
    model="EM420",
    protocol=Protocol.MODBUS_TCP,
    verification="unverified: register map not yet encoded",
)

EM300_LR = MeterModel(
    key="tq-em300-lr",
    manufacturer="TQ Systems (B-control)",
    model="EM300 LR",
    protocol=Protocol.MODBUS_TCP,
    verification="unverified: register map not yet encoded",
)

EM300_LRW = MeterModel(
    key="tq-em300-lrw",
    manufacturer="TQ Systems (B-control)",
    model="EM300 LRW",
    protocol=Protocol.MODBUS_TCP,
    verification="unverified: register map not yet encoded",
)

MODELS = (EM420, EM300_LR, EM300_LRW)
