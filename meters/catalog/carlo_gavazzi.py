"""Carlo Gavazzi EM24 Ethernet: INT32 values low word first."""

from meters.registers import MeterModel, Protocol

EM24 = MeterModel(
    key="carlo-gavazzi-em24",
    manufacturer="Carlo Gavazzi",
    model="EM24 Ethernet",
    protocol=Protocol.MODBUS_TCP,
    verification="unverified: register map not yet encoded",
)

MODELS = (EM24,)
