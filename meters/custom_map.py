"""Custom register maps in TOML: read any meter the catalog cannot (ProData 2, unlisted models).

The file has the same fields as a catalog entry, so a map that proves itself in the
field can move into the catalog unchanged. Example::

    manufacturer = "Janitza"
    model = "ECSEM114MID via ProData 2"
    protocol = "modbus-tcp"            # or "sunspec" (then no [[register]] needed)
    default_port = 502
    default_unit_id = 1
    max_current_a = 100
    max_gap_registers = 0              # undeclared registers one request may span

    [[source]]
    title = "ProData 2 Modbus address list"
    version = "2024-03"
    publisher = "Janitza"

    [[register]]
    name = "Current L1"                # the datasheet's name
    address = 0x0006                   # 0-based protocol address
    quantity = "current_l1"            # see meters.registers.Quantity
    type = "float32"                   # uint16 int16 uint32 int32 uint64 int64 float32 float64
    word_order = "high-first"          # or "low-first"
    function_code = 3                  # 3 holding, 4 input
    scale = 1.0
    unit = "A"
    # sign = -1, invalid = [0xFFFF], optional = true
    # scaled by a register the meter reports with the value, in the same table:
    # scale_factor_address = 0x000C    # a power-of-ten exponent (int16; SunSpec-style)
    # scale_factor_low_byte = true     # only the exponent's low byte counts
    # multiplier_address = 0x0134      # a factor (energy x primary energy factor)
    # multiplier_type = "uint32"       # the factor's integer type
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from meters.errors import MeterMapError
from meters.registers import (
    DType,
    MeterModel,
    Protocol,
    Quantity,
    Register,
    RegisterKind,
    Source,
    WordOrder,
)

_TOP_LEVEL = {
    "key",
    "manufacturer",
    "model",
    "protocol",
    "verification",
    "default_port",
    "default_unit_id",
    "max_current_a",
    "max_registers_per_request",
    "max_gap_registers",
    "sunspec_model_id",
    "notes",
    "via",
    "ignores_unit_id",
    "source",
    "register",
}
_REGISTER_FIELDS = {
    "name",
    "address",
    "quantity",
    "type",
    "word_order",
    "function_code",
    "scale",
    "unit",
    "sign",
    "invalid",
    "optional",
    "scale_factor_address",
    "scale_factor_low_byte",
    "multiplier_address",
    "multiplier_type",
}


def _optional_int(value: Any) -> int | None:
    return None if value is None else int(value)


def _register(index: int, table: dict[str, Any]) -> Register:
    where = f"register #{index + 1}"
    unknown = set(table) - _REGISTER_FIELDS
    if unknown:
        raise MeterMapError(f"{where}: unknown fields {sorted(unknown)}")
    missing = {"name", "address", "quantity", "type", "unit"} - set(table)
    if missing:
        raise MeterMapError(f"{where}: missing {sorted(missing)}")
    where = f"register {table['name']!r}"
    try:
        function_code = int(table.get("function_code", 3))
        if function_code not in (3, 4):
            raise ValueError(f"function_code must be 3 or 4, not {function_code}")
        return Register(
            str(table["name"]),
            address=int(table["address"]),
            quantity=Quantity.from_label(str(table["quantity"])),
            dtype=DType.from_label(str(table["type"])),
            unit=str(table["unit"]),
            scale=float(table.get("scale", 1.0)),
            kind=RegisterKind(function_code),
            word_order=WordOrder(str(table.get("word_order", "high-first"))),
            sign=int(table.get("sign", 1)),
            invalid=tuple(int(v) for v in table.get("invalid", ())),
            optional=bool(table.get("optional", False)),
            scale_factor_address=_optional_int(table.get("scale_factor_address")),
            scale_factor_low_byte=bool(table.get("scale_factor_low_byte", False)),
            multiplier_address=_optional_int(table.get("multiplier_address")),
            multiplier_dtype=DType.from_label(str(table.get("multiplier_type", "uint32"))),
        )
    except (TypeError, ValueError) as error:
        raise MeterMapError(f"{where}: {error}") from None


def parse_map(data: dict[str, Any], *, origin: str, key: str | None = None) -> MeterModel:
    """A `MeterModel` from a parsed TOML document; `key` overrides the file's `key`."""
    unknown = set(data) - _TOP_LEVEL
    if unknown:
        raise MeterMapError(f"{origin}: unknown fields {sorted(unknown)}")
    try:
        protocol = Protocol(data.get("protocol", "modbus-tcp"))
    except ValueError:
        raise MeterMapError(f"{origin}: protocol must be 'modbus-tcp' or 'sunspec'") from None
    registers = tuple(_register(i, table) for i, table in enumerate(data.get("register", [])))
    if protocol is Protocol.MODBUS_TCP and not registers:
        raise MeterMapError(f"{origin}: a modbus-tcp map needs at least one [[register]]")
    sources = tuple(
        Source(str(s.get("title", "")), str(s.get("version", "")), str(s.get("publisher", "")), str(s.get("url", "")))
        for s in data.get("source", [])
    )
    try:
        model = MeterModel(
            key=key or str(data.get("key", "custom")),
            manufacturer=str(data.get("manufacturer", "")),
            model=str(data.get("model", "")),
            protocol=protocol,
            verification=str(data.get("verification", f"custom map: {origin}")),
            default_port=int(data.get("default_port", 502)),
            default_unit_id=int(data.get("default_unit_id", 1)),
            registers=registers,
            sources=sources,
            max_current_a=float(data.get("max_current_a", 10_000.0)),
            max_registers_per_request=int(data.get("max_registers_per_request", 125)),
            max_gap_registers=int(data.get("max_gap_registers", 0)),
            sunspec_model_id=data.get("sunspec_model_id"),
            notes=str(data.get("notes", "")),
            via=str(data.get("via", "")),
            ignores_unit_id=bool(data.get("ignores_unit_id", False)),
        )
    except (TypeError, ValueError) as error:
        raise MeterMapError(f"{origin}: {error}") from None
    if not 1 <= model.max_registers_per_request <= 125:
        raise MeterMapError(f"{origin}: max_registers_per_request must be 1..125")
    if not 0 <= model.default_unit_id <= 255:
        raise MeterMapError(f"{origin}: default_unit_id must be 0..255")
    return model


def load_map(path: str | Path, *, key: str | None = None) -> MeterModel:
    """Read a TOML map file; raises `MeterMapError` with the file and field at fault."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise MeterMapError(f"{path}: {error.strerror or error}") from None
    except tomllib.TOMLDecodeError as error:
        raise MeterMapError(f"{path}: not valid TOML: {error}") from None
    return parse_map(data, origin=str(path), key=key)
