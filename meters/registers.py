"""The vocabulary of register maps: what a register is, how it is encoded, what it measures.

Maps are data: a catalog entry is a `MeterModel` holding `Register` declarations copied
from the manufacturer's table (address in hex, the datasheet's name, type, word order,
scale, unit). Decoding lives in `meters.decode`, nowhere else.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class RegisterKind(enum.IntEnum):
    """Modbus table a register lives in; the value is the read function code."""

    HOLDING = 3
    INPUT = 4


class DType(enum.Enum):
    """Wire type of a register value; `words` is its length in 16-bit registers."""

    UINT16 = ("uint16", 1)
    INT16 = ("int16", 1)
    UINT32 = ("uint32", 2)
    INT32 = ("int32", 2)
    UINT64 = ("uint64", 4)
    INT64 = ("int64", 4)
    FLOAT32 = ("float32", 2)
    FLOAT64 = ("float64", 4)

    def __init__(self, label: str, words: int) -> None:
        self.label = label
        self.words = words

    @classmethod
    def from_label(cls, label: str) -> DType:
        """Parse 'int32', 'float32', ... (as written in TOML maps)."""
        for member in cls:
            if member.label == label.lower():
                return member
        raise ValueError(f"unknown register type {label!r}")


class WordOrder(enum.Enum):
    """Order of the 16-bit words of a multi-register value (bytes within a word are always big-endian)."""

    HIGH_FIRST = "high-first"
    LOW_FIRST = "low-first"


class Quantity(enum.Enum):
    """What a register contributes to; registers with the same quantity are summed (with their sign)."""

    CURRENT_L1 = ("current_a", 0, "A")
    CURRENT_L2 = ("current_a", 1, "A")
    CURRENT_L3 = ("current_a", 2, "A")
    VOLTAGE_L1 = ("voltage_v", 0, "V")
    VOLTAGE_L2 = ("voltage_v", 1, "V")
    VOLTAGE_L3 = ("voltage_v", 2, "V")
    POWER_L1 = ("power_w", 0, "W")
    POWER_L2 = ("power_w", 1, "W")
    POWER_L3 = ("power_w", 2, "W")
    POWER_TOTAL = ("power_total_w", None, "W")
    ENERGY_IMPORT = ("energy_import_wh", None, "Wh")
    ENERGY_EXPORT = ("energy_export_wh", None, "Wh")
    FREQUENCY = ("frequency_hz", None, "Hz")

    def __init__(self, reading_field: str, phase: int | None, si_unit: str) -> None:
        self.reading_field = reading_field
        self.phase = phase
        self.si_unit = si_unit

    @property
    def label(self) -> str:
        """Stable lower-case name used in TOML maps and the simulator's JSON."""
        return self.name.lower()

    @classmethod
    def from_label(cls, label: str) -> Quantity:
        """Parse 'current_l1', 'power_total', ... (as written in TOML maps)."""
        try:
            return cls[label.upper()]
        except KeyError:
            raise ValueError(
                f"unknown quantity {label!r}; expected one of {', '.join(q.label for q in cls)}"
            ) from None


# Factor from a datasheet unit to the SI unit of the quantity it measures.
UNIT_FACTORS: dict[str, tuple[str, float]] = {
    "A": ("A", 1.0),
    "mA": ("A", 1e-3),
    "V": ("V", 1.0),
    "mV": ("V", 1e-3),
    "W": ("W", 1.0),
    "kW": ("W", 1e3),
    "Wh": ("Wh", 1.0),
    "kWh": ("Wh", 1e3),
    "MWh": ("Wh", 1e6),
    "Hz": ("Hz", 1.0),
    "mHz": ("Hz", 1e-3),
}


@dataclass(frozen=True)
class Register:
    """One value in a meter's register table, declared as the datasheet states it.

    `scale` turns the raw integer (or float) into `unit`; the decoder then converts
    `unit` to the quantity's SI unit. `sign=-1` makes a register count against its
    quantity (the TQ layout's separate export power, for example). `invalid` lists raw
    values the manufacturer documents as "not available"; an `optional` register
    holding one (or otherwise undecodable) reads as None, any other fails the reading.

    Some meters scale a value by another register the device reports alongside it:
    `scale_factor_address` holds a power-of-ten exponent (SunSpec's sunssf, the
    ENERGYMID's instantaneous values; `scale_factor_low_byte` when only the low byte
    carries it), `multiplier_address` a plain factor of type `multiplier_dtype` (the
    ENERGYMID's primary energy factor). Both live in the same table as the register.
    """

    name: str
    address: int
    quantity: Quantity
    dtype: DType
    unit: str
    scale: float = 1.0
    kind: RegisterKind = RegisterKind.HOLDING
    word_order: WordOrder = WordOrder.HIGH_FIRST
    sign: int = 1
    invalid: tuple[int, ...] = ()
    scale_factor_address: int | None = None
    scale_factor_low_byte: bool = False
    multiplier_address: int | None = None
    multiplier_dtype: DType = DType.UINT32
    optional: bool = False

    def __post_init__(self) -> None:
        if self.unit not in UNIT_FACTORS:
            raise ValueError(f"{self.name}: unknown unit {self.unit!r}")
        if UNIT_FACTORS[self.unit][0] != self.quantity.si_unit:
            raise ValueError(f"{self.name}: unit {self.unit} does not measure {self.quantity.label}")
        if not 0 <= self.address <= 0xFFFF or self.address + self.dtype.words - 1 > 0xFFFF:
            raise ValueError(f"{self.name}: address {self.address:#x} out of range")
        if self.sign not in (1, -1):
            raise ValueError(f"{self.name}: sign must be 1 or -1")
        if self.scale_factor_address is not None and self.multiplier_address is not None:
            raise ValueError(f"{self.name}: scaled by an exponent or by a multiplier register, not both")
        if self.multiplier_dtype in (DType.FLOAT32, DType.FLOAT64):
            raise ValueError(f"{self.name}: a multiplier register must be an integer type")
        if self.multiplier_address is not None and not (
            0 <= self.multiplier_address <= 0x10000 - self.multiplier_dtype.words
        ):
            raise ValueError(f"{self.name}: multiplier address {self.multiplier_address:#x} out of range")

    @property
    def end(self) -> int:
        """First address after this register."""
        return self.address + self.dtype.words

    @property
    def si_factor(self) -> float:
        """Factor from raw value to the quantity's SI unit, sign included."""
        return self.scale * UNIT_FACTORS[self.unit][1] * self.sign


@dataclass(frozen=True)
class Source:
    """A document a register map was taken from."""

    title: str
    version: str
    publisher: str
    url: str = ""

    def __str__(self) -> str:
        return f"{self.publisher}: {self.title} ({self.version})"


class Protocol(enum.Enum):
    """How the registers are found: at fixed addresses, or by walking the SunSpec model chain."""

    MODBUS_TCP = "modbus-tcp"
    SUNSPEC = "sunspec"


UNVERIFIED_NO_MAP = "unverified: no public register map"


@dataclass(frozen=True)
class MeterModel:
    """A catalog entry (or a custom map): one meter model and how to read it.

    An entry without registers (and not SunSpec) is listed so it can be chosen, but it
    can only be read with a custom map; `verification` says why. `max_gap_registers`
    is how many undeclared registers a single request may span: 0 unless the
    manufacturer's table shows the gap is readable, because many meters answer
    exception 2 for addresses they do not define. `sunspec_model_id` is the meter model
    the device is documented to serve (the simulator serves it; the reader discovers
    whatever the device actually has).
    """

    key: str
    manufacturer: str
    model: str
    protocol: Protocol
    verification: str
    default_port: int = 502
    default_unit_id: int = 1
    registers: tuple[Register, ...] = ()
    sources: tuple[Source, ...] = ()
    max_current_a: float = 10_000.0
    max_registers_per_request: int = 125
    notes: str = ""
    via: str = ""
    sunspec_base_addresses: tuple[int, ...] = field(default=(40000, 0, 50000))
    max_gap_registers: int = 0
    sunspec_model_id: int | None = None
    ignores_unit_id: bool = False

    @property
    def readable(self) -> bool:
        """True when the entry alone is enough to read the meter (no custom map needed)."""
        return self.protocol is Protocol.SUNSPEC or bool(self.registers)

    @property
    def function_codes(self) -> tuple[int, ...]:
        """Read function codes this map uses (3 holding, 4 input)."""
        if self.protocol is Protocol.SUNSPEC:
            return (3,)
        return tuple(sorted({int(r.kind) for r in self.registers}))
