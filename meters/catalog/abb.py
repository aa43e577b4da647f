"""ABB M2M and M4M network analysers (their own map, not the B23/B24 one)."""

from meters.registers import MeterModel, Protocol

M2M = MeterModel(
    key="abb-m2m",
    manufacturer="ABB",
    model="M2M",
    protocol=Protocol.MODBUS_TCP,
    verification="unverified: register map not yet encoded",
)

M4M = MeterModel(
    key="abb-m4m",
    manufacturer="ABB",
    model="M4M",
    protocol=Protocol.MODBUS_TCP,
    verification="unverified: register map not yet encoded",
)

MODELS = (M2M, M4M)
