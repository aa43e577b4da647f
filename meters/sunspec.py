"""SunSpec: the meter models' point layout as data, and discovery by walking the model chain.

SunSpec devices (KEBA KeContact E10, the Fronius meter behind a GEN24, KOSTAL KSEM) do
not promise fixed addresses: a 'SunS' marker sits at a base address (40000 usually),
followed by models, each a (ID, L) header and L registers. KSEM firmware 2.6 shifted
its models by one register, so the only safe way to find the meter model is to follow
the L fields from the marker. Point offsets below are from the SunSpec Information
Model Reference (sunspec/models, model_201..204 and model_211..214 JSON definitions),
counted from the model's ID register.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from meters.errors import MeterDataError, MeterModbusException
from meters.registers import DType, Quantity, Register, RegisterKind, Source

SUNSPEC_SOURCE = Source(
    title="SunSpec Information Model Reference, meter models 201-204 (integer + scale factor) "
    "and 211-214 (float)",
    version="sunspec/models JSON definitions, model_203.json and model_213.json",
    publisher="SunSpec Alliance",
    url="https://github.com/sunspec/models",
)

SUNS_MARKER = (0x5375, 0x6E53)  # "SunS"
END_MODEL_ID = 0xFFFF
MAX_MODELS = 64  # a chain longer than this is corrupt, not a device

# SunSpec "not implemented" values, as raw unsigned register contents.
NOT_IMPLEMENTED = {
    DType.INT16: (0x8000,),
    DType.UINT16: (0xFFFF,),
    DType.UINT32: (0xFFFFFFFF,),
    DType.INT32: (0x80000000,),
}

INT_MODELS = {201: 1, 202: 2, 203: 3, 204: 3}  # model id -> phases carrying current
FLOAT_MODELS = {211: 1, 212: 2, 213: 3, 214: 3}
METER_MODEL_IDS = tuple(INT_MODELS) + tuple(FLOAT_MODELS)


@dataclass(frozen=True)
class _Point:
    """A meter-model point: SunSpec name, offset from the model's ID register, quantity."""

    name: str
    offset: int
    quantity: Quantity
    unit: str
    per_phase: int | None = None  # 0..2 for phase points (optional beyond the model's phases)
    mandatory: bool = True


# Models 201-204: int16 values (acc32 energies) with sunssf scale factors.
_INT_POINTS = (
    (_Point("AphA", 0x03, Quantity.CURRENT_L1, "A", 0), "A_SF", 0x06, DType.INT16),
    (_Point("AphB", 0x04, Quantity.CURRENT_L2, "A", 1), "A_SF", 0x06, DType.INT16),
    (_Point("AphC", 0x05, Quantity.CURRENT_L3, "A", 2), "A_SF", 0x06, DType.INT16),
    (_Point("PhVphA", 0x08, Quantity.VOLTAGE_L1, "V", 0), "V_SF", 0x0F, DType.INT16),
    (_Point("PhVphB", 0x09, Quantity.VOLTAGE_L2, "V", 1), "V_SF", 0x0F, DType.INT16),
    (_Point("PhVphC", 0x0A, Quantity.VOLTAGE_L3, "V", 2), "V_SF", 0x0F, DType.INT16),
    (_Point("Hz", 0x10, Quantity.FREQUENCY, "Hz"), "Hz_SF", 0x11, DType.INT16),
    (_Point("W", 0x12, Quantity.POWER_TOTAL, "W"), "W_SF", 0x16, DType.INT16),
    (_Point("WphA", 0x13, Quantity.POWER_L1, "W", 0, False), "W_SF", 0x16, DType.INT16),
    (_Point("WphB", 0x14, Quantity.POWER_L2, "W", 1, False), "W_SF", 0x16, DType.INT16),
    (_Point("WphC", 0x15, Quantity.POWER_L3, "W", 2, False), "W_SF", 0x16, DType.INT16),
    (_Point("TotWhExp", 0x26, Quantity.ENERGY_EXPORT, "Wh"), "TotWh_SF", 0x36, DType.UINT32),
    (_Point("TotWhImp", 0x2E, Quantity.ENERGY_IMPORT, "Wh"), "TotWh_SF", 0x36, DType.UINT32),
)

# Models 211-214: the same points as float32, no scale factors.
_FLOAT_POINTS = (
    _Point("AphA", 0x04, Quantity.CURRENT_L1, "A", 0),
    _Point("AphB", 0x06, Quantity.CURRENT_L2, "A", 1),
    _Point("AphC", 0x08, Quantity.CURRENT_L3, "A", 2),
    _Point("PhVphA", 0x0C, Quantity.VOLTAGE_L1, "V", 0),
    _Point("PhVphB", 0x0E, Quantity.VOLTAGE_L2, "V", 1),
    _Point("PhVphC", 0x10, Quantity.VOLTAGE_L3, "V", 2),
    _Point("Hz", 0x1A, Quantity.FREQUENCY, "Hz"),
    _Point("W", 0x1C, Quantity.POWER_TOTAL, "W"),
    _Point("WphA", 0x1E, Quantity.POWER_L1, "W", 0, False),
    _Point("WphB", 0x20, Quantity.POWER_L2, "W", 1, False),
    _Point("WphC", 0x22, Quantity.POWER_L3, "W", 2, False),
    _Point("TotWhExp", 0x3C, Quantity.ENERGY_EXPORT, "Wh"),
    _Point("TotWhImp", 0x44, Quantity.ENERGY_IMPORT, "Wh"),
)

# Registers a meter model must be at least this long to hold every point above.
MIN_LENGTH = {**{m: 0x37 - 2 for m in INT_MODELS}, **{m: 0x46 - 2 for m in FLOAT_MODELS}}
MODEL_LENGTH = {**{m: 105 for m in INT_MODELS}, **{m: 124 for m in FLOAT_MODELS}}


def _is_optional(point: _Point, phases: int) -> bool:
    return not point.mandatory or (point.per_phase is not None and point.per_phase >= phases)


def _int_markers(point: _Point, dtype: DType) -> tuple[tuple[int, ...], bool]:
    """Not-implemented markers and optionality of an integer-model point.

    Energies are acc32, whose marker is 0 ("not accumulated"): a house without PV
    legitimately shows no export, so a zero counter reads as unknown (None), never as
    a failed read; energies do not steer regulation.
    """
    if point.quantity in (Quantity.ENERGY_IMPORT, Quantity.ENERGY_EXPORT):
        return (0,), True
    return NOT_IMPLEMENTED[dtype], False


def meter_registers(model_id: int, start: int) -> tuple[Register, ...]:
    """Absolute registers of SunSpec meter model `model_id` whose ID register is at `start`."""
    if model_id in INT_MODELS:
        phases = INT_MODELS[model_id]
        return tuple(
            Register(
                f"SunSpec {model_id} {point.name}",
                address=start + point.offset,
                quantity=point.quantity,
                dtype=dtype,
                unit=point.unit,
                kind=RegisterKind.HOLDING,
                invalid=_int_markers(point, dtype)[0],
                scale_factor_address=start + sf_offset,
                optional=_is_optional(point, phases) or _int_markers(point, dtype)[1],
            )
            for point, _sf_name, sf_offset, dtype in _INT_POINTS
        )
    if model_id in FLOAT_MODELS:
        phases = FLOAT_MODELS[model_id]
        return tuple(
            Register(
                f"SunSpec {model_id} {point.name}",
                address=start + point.offset,
                quantity=point.quantity,
                dtype=DType.FLOAT32,
                unit=point.unit,
                kind=RegisterKind.HOLDING,
                optional=_is_optional(point, phases),
            )
            for point in _FLOAT_POINTS
        )
    raise MeterDataError(f"SunSpec model {model_id} is not a meter model")


def scale_factor_offsets() -> dict[str, int]:
    """SunSpec scale-factor names -> offsets in models 201-204 (for the simulator)."""
    return {name: offset for _point, name, offset, _dtype in _INT_POINTS}


def int_point_offsets() -> dict[Quantity, tuple[int, DType, int]]:
    """Quantity -> (offset, type, scale-factor offset) in models 201-204 (for the simulator)."""
    return {point.quantity: (point.offset, dtype, sf) for point, _n, sf, dtype in _INT_POINTS}


def float_point_offsets() -> dict[Quantity, int]:
    """Quantity -> offset in models 211-214 (for the simulator)."""
    return {point.quantity: point.offset for point in _FLOAT_POINTS}


@dataclass(frozen=True)
class SunSpecLayout:
    """Where the meter model was found, and the absolute registers to read."""

    base_address: int
    model_id: int
    model_address: int
    model_length: int
    registers: tuple[Register, ...]


ReadHolding = Callable[[int, int], Awaitable[Sequence[int]]]


async def discover(read_holding: ReadHolding, base_addresses: Sequence[int]) -> SunSpecLayout:
    """Find the first meter model by following the chain from the 'SunS' marker.

    `read_holding(address, count)` reads holding registers. A base address that
    answers with a Modbus exception or without the marker is skipped; transport
    errors propagate (the device is gone, not different).
    """
    tried = []
    exceptions: list[MeterModbusException] = []
    for base in base_addresses:
        try:
            marker = tuple(await read_holding(base, 2))
        except MeterModbusException as error:
            tried.append(f"{base} (exception {error.code})")
            exceptions.append(error)
            continue
        if marker != SUNS_MARKER:
            tried.append(f"{base} (no marker)")
            continue
        return await _walk(read_holding, base)
    if len(exceptions) == len(tried):
        # Every probe was refused: that is the device's answer (for example exception
        # 11 from a GEN24 whose meter is missing), not a layout problem.
        raise exceptions[0]
    raise MeterDataError(f"no SunSpec 'SunS' marker at {', '.join(tried)}")


async def _walk(read_holding: ReadHolding, base: int) -> SunSpecLayout:
    address = base + 2
    seen: list[int] = []
    for _ in range(MAX_MODELS):
        if address + 1 > 0xFFFF:
            break
        model_id, length = await read_holding(address, 2)
        if model_id == END_MODEL_ID:
            break
        seen.append(model_id)
        if model_id in METER_MODEL_IDS:
            if length < MIN_LENGTH[model_id]:
                raise MeterDataError(
                    f"SunSpec model {model_id} at {address} is {length} registers long, "
                    f"too short for a meter model"
                )
            return SunSpecLayout(base, model_id, address, length, meter_registers(model_id, address))
        address += 2 + length
    raise MeterDataError(
        f"no SunSpec meter model (201-204, 211-214) in the chain from {base}: models {seen or 'none'}"
    )
