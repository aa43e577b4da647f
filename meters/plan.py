"""Request planning: cover a map's registers with as few reads as the device allows."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from meters.registers import Register, RegisterKind

MODBUS_MAX_READ_REGISTERS = 125  # Modbus application protocol limit for function codes 3 and 4


@dataclass(frozen=True)
class Block:
    """One read request: `count` registers of table `kind` from `address`."""

    kind: RegisterKind
    address: int
    count: int

    @property
    def end(self) -> int:
        """First address after the block."""
        return self.address + self.count


def _spans(registers: Iterable[Register]) -> list[tuple[RegisterKind, int, int]]:
    spans = []
    for register in registers:
        spans.append((register.kind, register.address, register.end))
        if register.scale_factor_address is not None:
            spans.append((register.kind, register.scale_factor_address, register.scale_factor_address + 1))
        if register.multiplier_address is not None:
            end = register.multiplier_address + register.multiplier_dtype.words
            spans.append((register.kind, register.multiplier_address, end))
    return sorted(set(spans), key=lambda span: (int(span[0]), span[1], span[2]))


def plan_blocks(
    registers: Iterable[Register],
    *,
    max_registers: int = MODBUS_MAX_READ_REGISTERS,
    max_gap: int = 0,
) -> tuple[Block, ...]:
    """Merge registers into blocks: overlapping or adjacent always, across gaps up to `max_gap`."""
    limit = min(max_registers, MODBUS_MAX_READ_REGISTERS)
    blocks: list[Block] = []
    for kind, start, end in _spans(registers):
        if end - start > limit:
            raise ValueError(f"register at {start:#06x} is longer than {limit} registers")
        if blocks:
            last = blocks[-1]
            merged_end = max(last.end, end)
            if last.kind is kind and start <= last.end + max_gap and merged_end - last.address <= limit:
                blocks[-1] = Block(kind, last.address, merged_end - last.address)
                continue
        blocks.append(Block(kind, start, end - start))
    return tuple(blocks)
