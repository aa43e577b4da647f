"""Decoding of the maps taken from manufacturers' own documents: ABB M4M, Gossen ENERGYMID, TQ.

The register images come from `manufacturer_images` (typed by hand from the documents'
tables); each test changes the words a situation calls for (invalid markers, export,
factors) and states what the reading must say.
"""

from __future__ import annotations

import pytest

from meters import get_model
from meters.decode import decode_reading
from meters.errors import MeterDataError

from .conftest import holding, inputs
from .manufacturer_images import energymid_image, m4m_image, tq_image

ENERGYMIDS = ["gossen-metrawatt-em228x", "gossen-metrawatt-em238x"]


# --- ABB M4M: ABB's Mapping Table v.1.3N, manual 2CSG445050D0201 V1.05 ---------------------


def m4m(words: dict[int, int]):
    return decode_reading(get_model("abb-m4m"), holding(words))


def test_m4m_reads_every_mapped_value_at_the_m4m_addresses_not_the_b23_ones() -> None:
    reading = m4m(m4m_image())
    assert reading.voltage_v == pytest.approx((230.1, 229.8, 231.0))
    assert reading.current_a == pytest.approx((12.34, 5.0, 0.07))
    assert reading.power_w == pytest.approx((2839.30, -1150.0, 16.10))  # L2 exports
    assert reading.power_total_w == pytest.approx(1705.40)
    assert reading.frequency_hz == pytest.approx(50.01)
    assert reading.energy_import_wh == pytest.approx(12_345_670.0)
    assert reading.energy_export_wh == pytest.approx(987_650.0)


def test_m4m_negative_total_power_is_export() -> None:
    words = m4m_image()
    words[0x5B1A], words[0x5B1B] = 0xFFFE, 0x1DC0  # -123456 -> -1234.56 W
    assert m4m(words).power_total_w == pytest.approx(-1234.56)


@pytest.mark.parametrize(
    ("address", "marker_words", "field", "index"),
    [
        # ABB manual p. 12: a value the meter lacks reads 7FFF... if signed ...
        (0x5B1E, (0x7FFF, 0xFFFF), "power_w", 1),
        (0x5B1A, (0x7FFF, 0xFFFF), "power_total_w", None),
        # ... and FFFF... if unsigned.
        (0x5B06, (0xFFFF, 0xFFFF), "voltage_v", 2),
        (0x5B32, (0xFFFF,), "frequency_hz", None),
        (0x5000, (0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF), "energy_import_wh", None),
        (0x5004, (0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF), "energy_export_wh", None),
    ],
)
def test_m4m_not_available_markers_decode_as_missing(address, marker_words, field, index) -> None:
    words = m4m_image()
    for offset, word in enumerate(marker_words):
        words[address + offset] = word
    reading = m4m(words)
    value = getattr(reading, field)
    assert (value if index is None else value[index]) is None
    assert reading.current_a == pytest.approx((12.34, 5.0, 0.07))  # the rest still reads


def test_m4m_phases_without_power_leave_only_that_phase_unknown() -> None:
    words = m4m_image()
    words[0x5B1C], words[0x5B1D] = 0x7FFF, 0xFFFF
    assert m4m(words).power_w[1:] == pytest.approx((-1150.0, 16.10))
    assert m4m(words).power_w[0] is None


def test_m4m_missing_current_fails_the_reading_and_names_the_register() -> None:
    words = m4m_image()
    words[0x5B12], words[0x5B13] = 0xFFFF, 0xFFFF  # current L2 not available
    with pytest.raises(MeterDataError, match=r"Current L2 at 0x5b12: invalid marker 0xffffffff"):
        m4m(words)


def test_m4m_all_ones_in_a_signed_register_is_a_value_not_a_marker() -> None:
    words = m4m_image()
    words[0x5B20], words[0x5B21] = 0xFFFF, 0xFFFF  # int32 -1 -> -0.01 W, a real (tiny) export
    assert m4m(words).power_w[2] == pytest.approx(-0.01)


def test_m4m_low_word_first_would_be_implausible() -> None:
    words = m4m_image()
    words[0x5B10], words[0x5B11] = 0x04D2, 0x0000  # 12.34 A with its words swapped: 808 kA
    with pytest.raises(MeterDataError, match="current L1"):
        m4m(words)


# --- Gossen Metrawatt ENERGYMID: interface description 3-349-937-01 ------------------------


@pytest.mark.parametrize("key", ENERGYMIDS)
def test_energymid_instantaneous_values_and_energies(key: str) -> None:
    reading = decode_reading(get_model(key), inputs(energymid_image()))
    assert reading.voltage_v == pytest.approx((230.9, 230.0, 231.0))
    assert reading.frequency_hz == pytest.approx(50.01)
    assert reading.current_a == pytest.approx((12.34, 0.0, 0.5))
    assert reading.power_w == pytest.approx((-12340.0, 0.0, 160.0))  # L1 exports
    assert reading.power_total_w == pytest.approx(-12180.0)
    assert reading.energy_import_wh == pytest.approx(12_345_600.0)  # 123456 x factor 100
    assert reading.energy_export_wh == pytest.approx(789_000.0)  # 7890 x 100


@pytest.mark.parametrize(
    ("factor_words", "import_wh"),
    [
        ((0x0000, 0x0001), 123_456.0),  # direct meter: factor 1
        ((0x0000, 0x03E8), 123_456_000.0),  # transformer meter, factor 1000
        ((0x0001, 0x86A0), 12_345_600_000.0),  # factor 100000: both words of the uint32 count
    ],
)
def test_energymid_energy_is_mantissa_times_the_primary_energy_factor(factor_words, import_wh) -> None:
    words = energymid_image()
    words[308], words[309] = factor_words
    assert decode_reading(get_model("gossen-metrawatt-em238x"), inputs(words)).energy_import_wh == pytest.approx(
        import_wh
    )


def test_energymid_energy_is_taken_from_the_factor_not_the_exponent() -> None:
    words = energymid_image()
    words[310] = 0x0005  # would say x 100000; the factor at 308 is what counts
    assert decode_reading(get_model("gossen-metrawatt-em228x"), inputs(words)).energy_import_wh == pytest.approx(
        12_345_600.0
    )


def test_energymid_zero_factor_leaves_energies_unknown_but_regulation_data_intact() -> None:
    words = energymid_image()
    words[308], words[309] = 0, 0
    reading = decode_reading(get_model("gossen-metrawatt-em228x"), inputs(words))
    assert reading.energy_import_wh is None and reading.energy_export_wh is None
    assert reading.current_a == pytest.approx((12.34, 0.0, 0.5))


def test_energymid_exponent_is_the_signed_low_byte() -> None:
    words = energymid_image()
    words[12] = 0x00FF  # only the low byte carries the exponent (-1)
    reading = decode_reading(get_model("gossen-metrawatt-em228x"), inputs(words))
    assert reading.voltage_v[0] == pytest.approx(230.9)


@pytest.mark.parametrize(("address", "name"), [(100, "Current L1"), (201, "Active power L2"), (5, "Voltage L2-N")])
def test_energymid_undefined_mantissa_0x8000_is_an_error(address: int, name: str) -> None:
    words = energymid_image()
    words[address] = 0x8000
    with pytest.raises(MeterDataError, match=f"{name} at {address:#06x}: invalid marker 0x8000"):
        decode_reading(get_model("gossen-metrawatt-em228x"), inputs(words))


def test_energymid_values_are_input_registers_not_holding_registers() -> None:
    with pytest.raises(MeterDataError, match="was not read"):
        decode_reading(get_model("gossen-metrawatt-em228x"), holding(energymid_image()))


# --- TQ Energy Manager map (EM300 LR/LRW): TQ "Energy Manager - Modbus Slave" rev. 0013 ----


@pytest.mark.parametrize("key", ["tq-em300-lr", "tq-em300-lrw"])
def test_tq_power_is_import_minus_export_and_frequency_is_at_26(key: str) -> None:
    reading = decode_reading(get_model(key), holding(tq_image()))
    assert reading.power_total_w == pytest.approx(-500.0)
    assert reading.power_w == pytest.approx((1234.5, -2000.0, 400.0))
    assert reading.current_a == pytest.approx((16.0, 9.0, 2.0))
    assert reading.voltage_v == pytest.approx((230.123, 230.0, 232.0))
    assert reading.energy_import_wh == pytest.approx(12_345_678.9)
    assert reading.energy_export_wh == pytest.approx(1_234.5)
    assert reading.frequency_hz == pytest.approx(50.018)


@pytest.mark.parametrize(
    ("words", "frequency_hz"),
    [
        ((0x0000, 0xC31E), 49.950),  # 49950 x 0.001 Hz
        ((0x0000, 0xEA60), 60.000),  # 60000: a 60 Hz grid
    ],
)
def test_tq_frequency_is_uint32_in_millihertz(words, frequency_hz) -> None:
    image = tq_image()
    image[0x001A], image[0x001B] = words
    assert decode_reading(get_model("tq-em300-lr"), holding(image)).frequency_hz == pytest.approx(frequency_hz)


def test_tq_frequency_with_its_words_swapped_would_be_implausible() -> None:
    image = tq_image()
    image[0x001A], image[0x001B] = 0xC362, 0x0000  # low word first: 3.28 MHz
    with pytest.raises(MeterDataError, match="frequency"):
        decode_reading(get_model("tq-em300-lr"), holding(image))
