"""Custom TOML maps: any meter the catalog cannot read, described with the catalog's fields."""

from __future__ import annotations

from pathlib import Path

import pytest

from meters import MeterClient, MeterMapError, load_map
from meters.decode import decode_reading
from meters.plan import plan_blocks

from .conftest import holding, inputs

ABB_B23_MAP = Path(__file__).resolve().parents[2] / "meters" / "maps" / "abb-b23.toml"

MINIMAL = """
manufacturer = "Example"
model = "Meter"
[[register]]
name = "Current L1"
address = 0x0006
quantity = "current_l1"
type = "float32"
unit = "A"
function_code = 4
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "map.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_shipped_abb_b23_map_decodes_the_b_series_layout() -> None:
    """Words as the ABB B-series manual lays them out; 0x00000036 total power is 0.54 W (raw trace)."""
    model = load_map(ABB_B23_MAP, key="prodata2-abb-b23-312-100")
    words = {
        0x5B00: 0x0000, 0x5B01: 0x08FC,  # 230.0 V
        0x5B02: 0x0000, 0x5B03: 0x08F7,  # 229.5 V
        0x5B04: 0x0000, 0x5B05: 0x0906,  # 231.0 V
        0x5B0C: 0x0000, 0x5B0D: 0x04E2,  # 12.50 A
        0x5B0E: 0x0000, 0x5B0F: 0x0000,
        0x5B10: 0x0000, 0x5B11: 0x0064,  # 1.00 A
        0x5B14: 0x0000, 0x5B15: 0x0036,  # 0.54 W
        0x5B16: 0x7FFF, 0x5B17: 0xFFFF,  # L1 power "invalid" (signed maximum): optional
        0x5B18: 0x0000, 0x5B19: 0x0000,
        0x5B1A: 0xFFFF, 0x5B1B: 0xFF9C,  # -1.00 W
        0x5B2C: 0x1388,                  # 50.00 Hz
        0x5000: 0x0000, 0x5001: 0x0000, 0x5002: 0x0001, 0x5003: 0xE240,  # 1234.56 kWh
        0x5004: 0xFFFF, 0x5005: 0xFFFF, 0x5006: 0xFFFF, 0x5007: 0xFFFF,  # export invalid
    }
    reading = decode_reading(model, holding(words))
    assert reading.model == "prodata2-abb-b23-312-100"
    assert reading.voltage_v == pytest.approx((230.0, 229.5, 231.0))
    assert reading.current_a == pytest.approx((12.5, 0.0, 1.0))
    assert reading.power_total_w == pytest.approx(0.54)
    assert reading.power_w[0] is None
    assert reading.power_w[2] == pytest.approx(-1.0)
    assert reading.frequency_hz == pytest.approx(50.0)
    assert reading.energy_import_wh == pytest.approx(1_234_560.0)
    assert reading.energy_export_wh is None


@pytest.mark.asyncio
async def test_custom_map_reads_over_tcp_with_input_registers(tmp_path: Path) -> None:
    from meters.sim import MeterSimulator

    model = load_map(write(tmp_path, MINIMAL), key="my-meter")
    async with MeterSimulator(model) as sim:
        sim.set_values(current_a=[7.25, None, None])
        async with MeterClient(model, "127.0.0.1", sim.port, timeout_s=2) as client:
            reading = await client.read()
    assert reading.model == "my-meter"
    assert reading.current_a == (7.25, None, None)
    assert reading.power_total_w is None


def test_no_request_of_a_wide_map_exceeds_125_registers(tmp_path: Path) -> None:
    registers = "".join(
        f"""
[[register]]
name = "Current L{phase}"
address = {address:#06x}
quantity = "current_l{phase}"
type = "float32"
unit = "A"
"""
        for phase, address in ((1, 0x0000), (2, 0x0070), (3, 0x0100))
    )
    model = load_map(write(tmp_path, 'max_gap_registers = 500\n' + registers))
    blocks = plan_blocks(model.registers, max_gap=model.max_gap_registers)
    assert [(b.address, b.count) for b in blocks] == [(0x0000, 0x72), (0x0100, 2)]
    assert all(b.count <= 125 for b in blocks)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('colour = "red"\n' + MINIMAL, "unknown fields"),
        (MINIMAL.replace('unit = "A"', 'unit = "V"'), "does not measure current_l1"),
        (MINIMAL.replace('"float32"', '"float16"'), "unknown register type"),
        (MINIMAL.replace('"current_l1"', '"current_l4"'), "unknown quantity"),
        (MINIMAL.replace("function_code = 4", "function_code = 5"), "function_code must be 3 or 4"),
        (MINIMAL.replace("address = 0x0006", ""), "missing"),
        (MINIMAL.replace("address = 0x0006", "address = 0x10000"), "out of range"),
        ('manufacturer = "x"\n', "needs at least one"),
        ("this is = not toml [", "not valid TOML"),
        ('protocol = "bacnet"\n' + MINIMAL, "protocol must be"),
    ],
)
def test_broken_maps_are_rejected_with_the_reason(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(MeterMapError, match=message):
        load_map(write(tmp_path, text))


def test_missing_map_file_is_a_map_error(tmp_path: Path) -> None:
    with pytest.raises(MeterMapError, match="No such file"):
        load_map(tmp_path / "absent.toml")


def test_sunspec_map_needs_no_registers(tmp_path: Path) -> None:
    model = load_map(write(tmp_path, 'protocol = "sunspec"\ndefault_unit_id = 3\n'))
    assert model.readable
    assert model.default_unit_id == 3


ENERGY_WITH_FACTOR = """
manufacturer = "Gossen Metrawatt"
model = "ENERGYMID, as a custom map"
ignores_unit_id = true
max_gap_registers = 8
[[register]]
name = "Current L1"
address = 100
quantity = "current_l1"
type = "int16"
unit = "A"
function_code = 4
invalid = [0x8000]
scale_factor_address = 108
scale_factor_low_byte = true
[[register]]
name = "Active energy import"
address = 300
quantity = "energy_import"
type = "uint32"
unit = "Wh"
function_code = 4
multiplier_address = 308
multiplier_type = "uint32"
"""


def test_a_custom_map_scales_by_exponent_and_multiplier_registers_like_the_catalog(tmp_path: Path) -> None:
    model = load_map(write(tmp_path, ENERGY_WITH_FACTOR))
    assert model.ignores_unit_id
    words = {100: 0x04D2, 108: 0xFFFE, 300: 0x0001, 301: 0xE240, 308: 0x0000, 309: 0x000A}
    reading = decode_reading(model, inputs(words))
    assert reading.current_a[0] == pytest.approx(12.34)  # 1234 x 10^-2
    assert reading.energy_import_wh == pytest.approx(1_234_560.0)  # 123456 x 10


def test_a_custom_map_multiplier_must_be_an_integer_type(tmp_path: Path) -> None:
    text = ENERGY_WITH_FACTOR.replace('multiplier_type = "uint32"', 'multiplier_type = "float32"')
    with pytest.raises(MeterMapError, match="Active energy import.*integer type"):
        load_map(write(tmp_path, text))
