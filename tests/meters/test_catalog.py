"""The catalog as data: every entry complete, cited, and free of overlapping registers."""

from __future__ import annotations

import pytest

from meters import all_models, get_model, model_keys
from meters.catalog import UnknownMeterModel
from meters.plan import Block, plan_blocks
from meters.registers import DType, Protocol, Quantity, Register, RegisterKind

MODELS = all_models()


def test_unknown_key_raises_a_key_error_naming_the_key() -> None:
    with pytest.raises(KeyError) as caught:
        get_model("abb-m5m")
    assert isinstance(caught.value, UnknownMeterModel)
    assert "abb-m5m" in str(caught.value)


def test_keys_are_sorted_and_stable_strings() -> None:
    keys = model_keys()
    assert keys == tuple(sorted(keys))
    assert all(key == key.lower() and " " not in key for key in keys)
    assert len([k for k in keys if k.startswith("prodata2-")]) == 6


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.key)
def test_every_entry_is_complete(model) -> None:
    assert model.manufacturer and model.model and model.verification
    assert 1 <= model.default_port <= 65535
    assert 0 <= model.default_unit_id <= 255
    assert model.sources, "every entry names the documents it was (or could not be) built from"
    assert all(source.title and source.version for source in model.sources)
    if model.readable:
        assert not model.verification.startswith("unverified")
    else:
        assert model.verification.startswith("unverified")


@pytest.mark.parametrize("model", [m for m in MODELS if m.registers], ids=lambda m: m.key)
def test_registers_do_not_overlap_and_currents_are_mapped(model) -> None:
    taken: dict[tuple[RegisterKind, int], str] = {}
    for register in model.registers:
        for address in range(register.address, register.end):
            assert (register.kind, address) not in taken, f"{register.name} overlaps {taken[(register.kind, address)]}"
            taken[(register.kind, address)] = register.name
    quantities = {r.quantity for r in model.registers}
    assert {Quantity.CURRENT_L1, Quantity.CURRENT_L2, Quantity.CURRENT_L3} <= quantities


def test_sunspec_entries_carry_the_documented_unit_ids() -> None:
    assert get_model("fronius-ts65a-gen24").default_unit_id == 200
    assert get_model("kostal-ksem").default_unit_id == 71
    assert {m.key for m in MODELS if m.protocol is Protocol.SUNSPEC} == {
        "fronius-ts65a-gen24", "keba-kecontact-e10", "kostal-ksem",
    }


def _reg(address: int, dtype: DType = DType.UINT16, kind: RegisterKind = RegisterKind.HOLDING) -> Register:
    return Register(f"r{address:x}", address=address, quantity=Quantity.CURRENT_L1, dtype=dtype, unit="A", kind=kind)


@pytest.mark.parametrize(
    ("registers", "max_gap", "blocks"),
    [
        # adjacent registers merge
        ([_reg(0), _reg(1, DType.UINT32)], 0, [Block(RegisterKind.HOLDING, 0, 3)]),
        # a gap is spanned only when the map allows it
        ([_reg(0), _reg(5)], 0, [Block(RegisterKind.HOLDING, 0, 1), Block(RegisterKind.HOLDING, 5, 1)]),
        ([_reg(0), _reg(5)], 4, [Block(RegisterKind.HOLDING, 0, 6)]),
        # holding and input registers never share a request
        ([_reg(0), _reg(1, kind=RegisterKind.INPUT)], 10,
         [Block(RegisterKind.HOLDING, 0, 1), Block(RegisterKind.INPUT, 1, 1)]),
        # never more than 125 registers, however generous the gap
        ([_reg(0), _reg(124, DType.UINT32)], 200,
         [Block(RegisterKind.HOLDING, 0, 1), Block(RegisterKind.HOLDING, 124, 2)]),
        ([_reg(0), _reg(123, DType.UINT32)], 200, [Block(RegisterKind.HOLDING, 0, 125)]),
    ],
)
def test_request_planning(registers, max_gap, blocks) -> None:
    assert list(plan_blocks(registers, max_gap=max_gap)) == blocks


def _energy(address: int, multiplier_address: int) -> Register:
    return Register(
        f"e{address}", address=address, quantity=Quantity.ENERGY_IMPORT, dtype=DType.UINT32, unit="Wh",
        kind=RegisterKind.INPUT, multiplier_address=multiplier_address,
    )


@pytest.mark.parametrize(
    ("max_gap", "blocks"),
    [
        # the multiplier register is read with its values, in the same table ...
        (8, [Block(RegisterKind.INPUT, 300, 10)]),
        # ... and on its own when the gap may not be spanned
        (0, [Block(RegisterKind.INPUT, 300, 4), Block(RegisterKind.INPUT, 308, 2)]),
    ],
)
def test_planning_reads_a_multiplier_register(max_gap, blocks) -> None:
    assert list(plan_blocks([_energy(300, 308), _energy(302, 308)], max_gap=max_gap)) == blocks


def test_a_register_is_scaled_by_an_exponent_or_a_multiplier_not_both() -> None:
    with pytest.raises(ValueError, match="not both"):
        Register(
            "x", address=300, quantity=Quantity.ENERGY_IMPORT, dtype=DType.UINT32, unit="Wh",
            scale_factor_address=310, multiplier_address=308,
        )


@pytest.mark.parametrize(
    ("key", "publisher", "document_number", "function_code"),
    [
        ("abb-m4m", "ABB", "2CSG445050D0201", 3),
        ("gossen-metrawatt-em228x", "Gossen Metrawatt", "3-349-937-01", 4),
        ("gossen-metrawatt-em238x", "Gossen Metrawatt", "3-349-937-01", 4),
        ("tq-em300-lr", "TQ-Systems", "revision 0013", 3),
    ],
)
def test_maps_verified_by_a_manufacturer_document_cite_its_number_and_pages(
    key, publisher, document_number, function_code
) -> None:
    model = get_model(key)
    assert model.verification.startswith("verified (manufacturer map)")
    (cited,) = [s for s in model.sources if document_number in s.version]
    assert cited.publisher == publisher
    assert "p. " in cited.title or "pp. " in cited.title
    assert model.function_codes == (function_code,)
