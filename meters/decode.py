"""Decoding, in one place: register words -> values -> a checked `MeterReading`.

Every reader (native maps, SunSpec, custom TOML maps) ends here, so word order,
scaling, invalid markers and plausibility are handled the same way for all meters.
"""

from __future__ import annotations

import math
import struct
import time
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone

from meters.errors import MeterDataError
from meters.plausibility import check_plausible
from meters.reading import MeterReading
from meters.registers import DType, MeterModel, Quantity, Register, RegisterKind, WordOrder

RegisterImage = Mapping[tuple[RegisterKind, int], int]
"""Register contents as read: (table, address) -> 16-bit word."""

SUNSSF_NOT_IMPLEMENTED = 0x8000

_STRUCT = {
    DType.UINT16: ">H",
    DType.INT16: ">h",
    DType.UINT32: ">I",
    DType.INT32: ">i",
    DType.UINT64: ">Q",
    DType.INT64: ">q",
    DType.FLOAT32: ">f",
    DType.FLOAT64: ">d",
}


def _ordered(words: Sequence[int], word_order: WordOrder) -> Sequence[int]:
    return list(reversed(words)) if word_order is WordOrder.LOW_FIRST else words


def unpack_words(words: Sequence[int], dtype: DType, word_order: WordOrder) -> tuple[int, float | int]:
    """(raw unsigned content, typed value) of `dtype.words` registers in wire order."""
    if len(words) != dtype.words:
        raise MeterDataError(f"expected {dtype.words} registers for {dtype.label}, got {len(words)}")
    data = b"".join(w.to_bytes(2, "big") for w in _ordered(words, word_order))
    value = struct.unpack(_STRUCT[dtype], data)[0]
    if dtype is DType.FLOAT32 and math.isfinite(value):
        # float32 carries ~7 significant digits; print 230.1, not 230.10000610351562.
        value = float(f"{value:.7g}")
    return int.from_bytes(data, "big"), value


def pack_words(value: float | int, dtype: DType, word_order: WordOrder) -> list[int]:
    """Registers in wire order holding `value` (the simulator's inverse of `unpack_words`)."""
    if dtype in (DType.FLOAT32, DType.FLOAT64):
        data = struct.pack(_STRUCT[dtype], float(value))
    else:
        data = struct.pack(_STRUCT[dtype], int(round(value)))
    words = [int.from_bytes(data[i : i + 2], "big") for i in range(0, len(data), 2)]
    return list(_ordered(words, word_order))


def _words_at(image: RegisterImage, kind: RegisterKind, address: int, count: int) -> list[int]:
    try:
        return [image[(kind, address + i)] for i in range(count)]
    except KeyError as missing:
        raise MeterDataError(f"register {missing.args[0][1]:#06x} was not read") from None


def _scale_exponent(register: Register, image: RegisterImage) -> int | None:
    """The power-of-ten exponent for `register`, None if the device marks it not implemented."""
    assert register.scale_factor_address is not None
    (word,) = _words_at(image, register.kind, register.scale_factor_address, 1)
    if register.scale_factor_low_byte:
        low = word & 0xFF
        return low - 0x100 if low & 0x80 else low
    if word == SUNSSF_NOT_IMPLEMENTED:
        return None
    exponent = word - 0x10000 if word & 0x8000 else word
    if not -10 <= exponent <= 10:
        raise MeterDataError(
            f"{register.name}: scale factor {exponent} at {register.scale_factor_address:#06x} out of range"
        )
    return exponent


def _multiplier(register: Register, image: RegisterImage) -> int:
    """The factor the device reports for `register` (its multiplier register's integer value)."""
    assert register.multiplier_address is not None
    dtype = register.multiplier_dtype
    words = _words_at(image, register.kind, register.multiplier_address, dtype.words)
    return int(unpack_words(words, dtype, register.word_order)[1])


def register_value(register: Register, image: RegisterImage) -> float | None:
    """One register in the quantity's SI unit (sign applied); None if optional and not available."""
    raw, value = unpack_words(
        _words_at(image, register.kind, register.address, register.dtype.words),
        register.dtype,
        register.word_order,
    )
    problem = None
    if raw in register.invalid:
        problem = f"invalid marker {raw:#x} (not available)"
    elif isinstance(value, float) and not math.isfinite(value):
        problem = f"non-finite value {value}"
    factor = 1.0
    if problem is None and register.scale_factor_address is not None:
        found = _scale_exponent(register, image)
        if found is None:
            problem = "scale factor not implemented (0x8000)"
        else:
            factor = 10.0**found
    if problem is None and register.multiplier_address is not None:
        multiplier = _multiplier(register, image)
        if multiplier <= 0:
            # No device scales a meter value by zero or a negative factor: the value
            # cannot be trusted, so it is reported as not available.
            problem = f"multiplier {multiplier} at {register.multiplier_address:#06x}"
        else:
            factor = float(multiplier)
    if problem is not None:
        if register.optional:
            return None
        raise MeterDataError(f"{register.name} at {register.address:#06x}: {problem}")
    return float(value) * register.si_factor * factor


def decode_reading(
    model: MeterModel,
    image: RegisterImage,
    registers: Sequence[Register] | None = None,
    *,
    read_at: datetime | None = None,
    monotonic_s: float | None = None,
) -> MeterReading:
    """Turn a register image into a plausible `MeterReading`, or raise `MeterDataError`.

    Registers sharing a quantity are summed (tariffs, import minus export). `registers`
    overrides `model.registers` (SunSpec resolves its own at run time).
    """
    totals: dict[Quantity, float | None] = {}
    for register in model.registers if registers is None else registers:
        value = register_value(register, image)
        if register.quantity in totals:
            previous = totals[register.quantity]
            totals[register.quantity] = None if previous is None or value is None else previous + value
        else:
            totals[register.quantity] = value

    def phases(field: str) -> tuple[float | None, float | None, float | None]:
        values: list[float | None] = [None, None, None]
        for quantity, value in totals.items():
            if quantity.reading_field == field:
                values[quantity.phase] = value
        return (values[0], values[1], values[2])

    reading = MeterReading(
        model=model.key,
        current_a=phases("current_a"),
        voltage_v=phases("voltage_v"),
        power_w=phases("power_w"),
        power_total_w=totals.get(Quantity.POWER_TOTAL),
        energy_import_wh=totals.get(Quantity.ENERGY_IMPORT),
        energy_export_wh=totals.get(Quantity.ENERGY_EXPORT),
        frequency_hz=totals.get(Quantity.FREQUENCY),
        read_at=read_at or datetime.now(timezone.utc),
        monotonic_s=time.monotonic() if monotonic_s is None else monotonic_s,
    )
    check_plausible(reading, max_current_a=model.max_current_a)
    return reading
