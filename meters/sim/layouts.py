"""Register images a simulated meter serves: the native layout of a map, or a SunSpec chain.

Values are encoded with the word order and scale the map declares. This is the
catalog speaking to itself, so simulator round trips only prove the plumbing; the
decoding tests use words written by hand from the manufacturers' tables.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from meters import sunspec
from meters.decode import pack_words
from meters.plan import plan_blocks
from meters.registers import DType, MeterModel, Protocol, Quantity, Register, RegisterKind, WordOrder

Image = dict[tuple[RegisterKind, int], int]

FIELDS = (
    "current_a",
    "voltage_v",
    "power_w",
    "power_total_w",
    "energy_import_wh",
    "energy_export_wh",
    "frequency_hz",
)

DEFAULT_VALUES: dict[str, object] = {
    "current_a": [12.5, 8.25, 3.0],
    "voltage_v": [230.1, 229.4, 231.0],
    "power_w": [2800.0, 1850.0, 650.0],
    "power_total_w": 5300.0,
    "energy_import_wh": 12_345_600.0,
    "energy_export_wh": 2_345_000.0,
    "frequency_hz": 50.02,
}

_UNSIGNED = {DType.UINT16, DType.UINT32, DType.UINT64}
_INT_RANGES = {
    DType.UINT16: (0, 0xFFFF),
    DType.INT16: (-0x8000, 0x7FFF),
    DType.UINT32: (0, 0xFFFFFFFF),
    DType.INT32: (-0x80000000, 0x7FFFFFFF),
    DType.UINT64: (0, 2**64 - 1),
    DType.INT64: (-(2**63), 2**63 - 1),
}


def quantity_values(values: Mapping[str, object]) -> dict[Quantity, float | None]:
    """Per-quantity SI values from a reading-shaped dict (as `--json` prints and the JSON file holds)."""
    unknown = set(values) - set(FIELDS) - {"model"}
    if unknown:
        raise ValueError(f"unknown value names {sorted(unknown)}; expected {', '.join(FIELDS)}")
    result: dict[Quantity, float | None] = {}
    for quantity in Quantity:
        value = values.get(quantity.reading_field)
        if quantity.phase is not None and value is not None:
            if not isinstance(value, (list, tuple)) or len(value) != 3:
                raise ValueError(f"{quantity.reading_field} must be a list of three values")
            value = value[quantity.phase]
        if value is not None and not isinstance(value, (int, float)):
            raise ValueError(f"{quantity.reading_field} must be numbers or null")
        result[quantity] = None if value is None else float(value)
    return result


def _raw(register: Register, value_si: float) -> float | int:
    raw = value_si / register.si_factor
    if register.dtype in (DType.FLOAT32, DType.FLOAT64):
        return raw
    raw_int = round(raw)
    low, high = _INT_RANGES[register.dtype]
    if not low <= raw_int <= high:
        raise ValueError(f"{register.name}: {value_si:g} does not fit {register.dtype.label}")
    return raw_int


def _not_available(register: Register) -> list[int]:
    """Words for a value the simulated meter lacks: its documented marker, else NaN or zero."""
    if register.invalid:
        marker = register.invalid[0]
        return [(marker >> (16 * i)) & 0xFFFF for i in reversed(range(register.dtype.words))]
    if register.dtype in (DType.FLOAT32, DType.FLOAT64):
        return pack_words(math.nan, register.dtype, WordOrder.HIGH_FIRST)
    return [0] * register.dtype.words


def _exponents(model: MeterModel, values: Mapping[Quantity, float | None]) -> dict[int, int]:
    """A power-of-ten exponent per scale-factor register, fitting every value that shares it."""
    groups: dict[int, list[Register]] = {}
    for register in model.registers:
        if register.scale_factor_address is not None:
            groups.setdefault(register.scale_factor_address, []).append(register)
    exponents = {}
    for address, registers in groups.items():
        present = [
            values[r.quantity] / r.si_factor for r in registers if values.get(r.quantity) is not None
        ]
        exponents[address] = _pick_exponent(present, registers[0].dtype) if present else 0
    return exponents


def _multipliers(model: MeterModel, values: Mapping[Quantity, float | None]) -> dict[int, int]:
    """A factor (1, 10, 100, ...) per multiplier register, the smallest that fits every value sharing it."""
    groups: dict[int, list[Register]] = {}
    for register in model.registers:
        if register.multiplier_address is not None:
            groups.setdefault(register.multiplier_address, []).append(register)
    multipliers = {}
    for address, registers in groups.items():
        raw = [abs(values[r.quantity] / r.si_factor) for r in registers if values.get(r.quantity) is not None]
        high = min(_INT_RANGES[r.dtype][1] for r in registers)
        multiplier = 1
        while any(round(v / multiplier) > high for v in raw):
            multiplier *= 10
        multipliers[address] = multiplier
    return multipliers


def native_image(model: MeterModel, values: Mapping[Quantity, float | None]) -> Image:
    """Only the declared registers, so reading an undeclared address gets exception 2."""
    image: Image = {}
    exponents = _exponents(model, values)
    for address, exponent in exponents.items():
        kind = next(r.kind for r in model.registers if r.scale_factor_address == address)
        image[(kind, address)] = exponent & 0xFFFF
    multipliers = _multipliers(model, values)
    for address, multiplier in multipliers.items():
        owner = next(r for r in model.registers if r.multiplier_address == address)
        for offset, word in enumerate(pack_words(multiplier, owner.multiplier_dtype, owner.word_order)):
            image[(owner.kind, address + offset)] = word
    by_quantity: dict[Quantity, list[Register]] = {}
    for register in model.registers:
        by_quantity.setdefault(register.quantity, []).append(register)
    for quantity, registers in by_quantity.items():
        value = values.get(quantity)
        # A sum of registers (tariffs, import/export pairs): the whole value goes into the
        # first register whose sign matches it, the others read zero.
        target = None
        if value is not None:
            for register in registers:
                if (register.sign > 0) == (value >= 0) or register.dtype not in _UNSIGNED:
                    target = register
                    break
            if target is None:
                raise ValueError(f"{quantity.label}: {value:g} cannot be encoded by this map")
        for register in registers:
            if value is None:
                words = _not_available(register)
            elif register is target:
                scaled = value
                if register.scale_factor_address is not None:
                    scaled = value / 10.0 ** exponents[register.scale_factor_address]
                if register.multiplier_address is not None:
                    scaled = value / multipliers[register.multiplier_address]
                words = pack_words(_raw(register, scaled), register.dtype, register.word_order)
            else:
                words = [0] * register.dtype.words
            for offset, word in enumerate(words):
                image[(register.kind, register.address + offset)] = word
    # Registers the map does not use but declares readable (max_gap_registers) exist on
    # the device; serve them as zero so the reader's spanning requests are answered.
    for block in plan_blocks(
        model.registers, max_registers=model.max_registers_per_request, max_gap=model.max_gap_registers
    ):
        for address in range(block.address, block.end):
            image.setdefault((block.kind, address), 0)
    return image


@dataclass(frozen=True)
class SunSpecShape:
    """How the simulated SunSpec chain is laid out."""

    base_address: int = 40000
    meter_model_id: int = 213
    common_length: int = 65  # 65 or 66 in the field (KSEM firmware 2.6 moved by one)


def _pick_exponent(values: list[float], dtype: DType) -> int:
    """The smallest SunSpec scale factor (most resolution) at which all values fit."""
    low, high = _INT_RANGES[dtype]
    for exponent in range(-3, 7):
        if all(low + 1 <= round(v / 10.0**exponent) <= high - 1 for v in values):
            return exponent
    raise ValueError(f"values {values} do not fit {dtype.label} with any scale factor")


def sunspec_image(values: Mapping[Quantity, float | None], shape: SunSpecShape) -> Image:
    """'SunS', a common model (1), the meter model, the end marker: all holding registers."""
    words: list[int] = [*sunspec.SUNS_MARKER, 1, shape.common_length]
    common = [0] * shape.common_length
    for i, char_pair in enumerate(("Fu", "se", "Gu", "ar", "d ")):
        common[i] = (ord(char_pair[0]) << 8) | ord(char_pair[1])
    words += common
    model_id = shape.meter_model_id
    length = sunspec.MODEL_LENGTH[model_id]
    block = [model_id, length] + [0] * length
    if model_id in sunspec.FLOAT_MODELS:
        block[2 : 2 + length] = pack_words(math.nan, DType.FLOAT32, WordOrder.HIGH_FIRST) * (length // 2)
        for quantity, offset in sunspec.float_point_offsets().items():
            value = values.get(quantity)
            block[offset : offset + 2] = pack_words(
                math.nan if value is None else value, DType.FLOAT32, WordOrder.HIGH_FIRST
            )
    elif model_id in sunspec.INT_MODELS:
        block[2 : 2 + length] = [0x8000] * length  # int16 / sunssf "not implemented"
        groups: dict[int, list[tuple[Quantity, int, DType]]] = {}
        for quantity, (offset, dtype, sf_offset) in sunspec.int_point_offsets().items():
            groups.setdefault(sf_offset, []).append((quantity, offset, dtype))
        for sf_offset, points in groups.items():
            present = [values[q] for q, _o, _d in points if values.get(q) is not None]
            dtype = points[0][2]
            exponent = _pick_exponent([float(v) for v in present], dtype) if present else 0
            block[sf_offset] = exponent & 0xFFFF
            for quantity, offset, point_dtype in points:
                value = values.get(quantity)
                if value is None:
                    raw_words = [0] * point_dtype.words if point_dtype is DType.UINT32 else [0x8000]
                else:
                    raw_words = pack_words(round(value / 10.0**exponent), point_dtype, WordOrder.HIGH_FIRST)
                block[offset : offset + point_dtype.words] = raw_words
    else:
        raise ValueError(f"cannot simulate SunSpec model {model_id}")
    words += block + [sunspec.END_MODEL_ID, 0]
    return {(RegisterKind.HOLDING, shape.base_address + i): w for i, w in enumerate(words)}


def build_image(
    model: MeterModel, values: Mapping[Quantity, float | None], shape: SunSpecShape | None = None
) -> Image:
    """The register image `model` serves for `values`."""
    if model.protocol is Protocol.SUNSPEC:
        return sunspec_image(values, shape or SunSpecShape(meter_model_id=model.sunspec_model_id or 213))
    if not model.registers:
        raise ValueError(f"{model.key} has no register map to simulate ({model.verification})")
    return native_image(model, values)
