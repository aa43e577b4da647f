"""Decoding specified by the manufacturers' tables: register words written here by hand.

Each image below is typed from the document the catalog entry cites (addresses in hex,
words computed from the documented type, word order and scale), never generated from
the catalog, so a wrong catalog entry cannot pass by symmetry.
"""

from __future__ import annotations

import pytest

from meters import get_model, sunspec
from meters.decode import decode_reading
from meters.errors import MeterDataError

from .conftest import f32, f64, holding


# --- Fronius Smart Meter TS 65A via GEN24, float model 213 at 40069 (0x9C45) -------------
# Smart_Meter_Register_Map_Float: AphA 40073, PhVphA 40081, Hz 40095, W 40097,
# TotWhExp 40129, TotWhImp 40137 (0-based).
def fronius_float_image() -> dict[int, int]:
    return {
        0x9C45: 213, 0x9C46: 124,
        0x9C49: f32(12.5)[0], 0x9C4A: f32(12.5)[1],        # AphA
        0x9C4B: f32(8.25)[0], 0x9C4C: f32(8.25)[1],        # AphB
        0x9C4D: f32(3.0)[0], 0x9C4E: f32(3.0)[1],          # AphC
        0x9C51: 0x4366, 0x9C52: 0x0000,                     # PhVphA 230.0
        0x9C53: f32(229.5)[0], 0x9C54: f32(229.5)[1],      # PhVphB
        0x9C55: f32(231.0)[0], 0x9C56: f32(231.0)[1],      # PhVphC
        0x9C5F: 0x4248, 0x9C60: 0x0000,                     # Hz 50.0
        0x9C61: 0xC57A, 0x9C62: 0x0000,                     # W -4000.0 (export)
        0x9C63: f32(-1000.0)[0], 0x9C64: f32(-1000.0)[1],  # WphA
        0x9C65: f32(-1500.0)[0], 0x9C66: f32(-1500.0)[1],  # WphB
        0x9C67: f32(-1500.0)[0], 0x9C68: f32(-1500.0)[1],  # WphC
        0x9C81: 0x4A0F, 0x9C82: 0x20A0,                     # TotWhExp 2345000.0
        0x9C89: 0x4B3C, 0x9C8A: 0x6100,                     # TotWhImp 12345600.0
    }


def test_fronius_float_model_213_at_documented_addresses() -> None:
    model = get_model("fronius-ts65a-gen24")
    registers = sunspec.meter_registers(213, 0x9C45)
    reading = decode_reading(model, holding(fronius_float_image()), registers)
    assert reading.current_a == (12.5, 8.25, 3.0)
    assert reading.voltage_v == (230.0, 229.5, 231.0)
    assert reading.frequency_hz == 50.0
    assert reading.power_total_w == -4000.0  # negative: feeding into the grid
    assert reading.power_w == (-1000.0, -1500.0, -1500.0)
    assert reading.energy_import_wh == 12_345_600.0
    assert reading.energy_export_wh == 2_345_000.0


def test_fronius_float_nan_current_is_an_error_not_a_reading() -> None:
    words = fronius_float_image()
    words[0x9C49], words[0x9C4A] = 0x7FC0, 0x0000  # SunSpec float32 "not implemented"
    with pytest.raises(MeterDataError, match="AphA"):
        decode_reading(get_model("fronius-ts65a-gen24"), holding(words), sunspec.meter_registers(213, 0x9C45))


def test_fronius_float_missing_optional_phase_power_reads_as_unknown() -> None:
    words = fronius_float_image()
    words[0x9C63], words[0x9C64] = 0x7FC0, 0x0000  # WphA not implemented (optional point)
    reading = decode_reading(get_model("fronius-ts65a-gen24"), holding(words), sunspec.meter_registers(213, 0x9C45))
    assert reading.power_w[0] is None
    assert reading.power_w[1] == -1500.0


# --- KOSTAL KSEM, int+SF model 203 at 40070 (0x9C86), firmware >= 2.6 ----------------------
# KOSTAL interface description / evcc issue 18373: AphA 0x9C89, A_SF 0x9C8C, PhVphA 0x9C8E,
# V_SF 0x9C95, Hz 0x9C96, Hz_SF 0x9C97, W 0x9C98, WphA 0x9C99, W_SF 0x9C9C,
# TotWhExp 0x9CAC, TotWhImp 0x9CB4, TotWh_SF 0x9CBC.
def ksem_int_image() -> dict[int, int]:
    return {
        0x9C86: 203, 0x9C87: 105,
        0x9C89: 1234, 0x9C8A: 567, 0x9C8B: 0x0000, 0x9C8C: 0xFFFE,   # 12.34 A, 5.67 A, 0 A; A_SF -2
        0x9C8E: 2301, 0x9C8F: 2299, 0x9C90: 2310, 0x9C95: 0xFFFF,    # V x0.1
        0x9C96: 5001, 0x9C97: 0xFFFE,                                # 50.01 Hz
        0x9C98: 0xFA24,                                              # W -1500
        0x9C99: 0x8000, 0x9C9A: 0x8000, 0x9C9B: 0x8000,              # WphA..C not implemented
        0x9C9C: 0x0000,                                              # W_SF 0
        0x9CAC: 0x0001, 0x9CAD: 0xE240,                              # TotWhExp 123456
        0x9CB4: 0x0012, 0x9CB5: 0xD687,                              # TotWhImp 1234567
        0x9CBC: 0x0001,                                              # TotWh_SF +1
    }


def test_ksem_int_sf_model_203_after_firmware_2_6() -> None:
    registers = sunspec.meter_registers(203, 0x9C86)
    reading = decode_reading(get_model("kostal-ksem"), holding(ksem_int_image()), registers)
    assert reading.current_a == pytest.approx((12.34, 5.67, 0.0))
    assert reading.voltage_v == pytest.approx((230.1, 229.9, 231.0))
    assert reading.frequency_hz == pytest.approx(50.01)
    assert reading.power_total_w == -1500.0
    assert reading.power_w == (None, None, None)
    assert reading.energy_export_wh == 1_234_560.0
    assert reading.energy_import_wh == 12_345_670.0


@pytest.mark.parametrize(
    ("address", "word", "problem"),
    [
        (0x9C89, 0x8000, "AphA"),  # int16 not implemented on a mandatory point
        (0x9C8C, 0x8000, "AphA"),  # current scale factor not implemented
        (0x9C98, 0x8000, "W "),
        (0x9C8C, 0x000B, "scale factor 11"),  # sunssf outside -10..10
    ],
)
def test_ksem_markers_on_mandatory_points_are_errors(address: int, word: int, problem: str) -> None:
    words = ksem_int_image()
    words[address] = word
    with pytest.raises(MeterDataError, match=problem):
        decode_reading(get_model("kostal-ksem"), holding(words), sunspec.meter_registers(203, 0x9C86))


def test_acc32_zero_energy_means_not_accumulated() -> None:
    words = ksem_int_image()
    words[0x9CAC], words[0x9CAD] = 0, 0  # a house without PV has never exported
    reading = decode_reading(get_model("kostal-ksem"), holding(words), sunspec.meter_registers(203, 0x9C86))
    assert reading.energy_export_wh is None
    assert reading.current_a[0] == pytest.approx(12.34)


# --- Carlo Gavazzi EM24 Ethernet: INT32, LOW word first --------------------------------------
# EM24_E1 protocol: V L1-N 0x0000 (x0.1 V), A L1 0x000C (x0.001 A), W L1 0x0012 (x0.1 W),
# W sys 0x0028, Hz 0x0033 (int16 x0.1), kWh(+) TOT 0x0034, kWh(-) TOT 0x004E (x0.1 kWh).
def em24_image() -> dict[int, int]:
    return {
        0x0000: 0x08FC, 0x0001: 0x0000,   # 230.0 V  (2300 = 0x000008FC, low word first)
        0x0002: 0x08F7, 0x0003: 0x0000,   # 229.5 V
        0x0004: 0x0906, 0x0005: 0x0000,   # 231.0 V
        0x000C: 0x3039, 0x000D: 0x0000,   # 12.345 A
        0x000E: 0x1A0A, 0x000F: 0x0000,   # 6.666 A
        0x0010: 0x01F4, 0x0011: 0x0000,   # 0.5 A
        0x0012: 0x6C98, 0x0013: 0x0000,   # 2780.0 W
        0x0014: 0x3A98, 0x0015: 0x0000,   # 1500.0 W
        0x0016: 0xFC18, 0x0017: 0xFFFF,   # -100.0 W (signed, low word first)
        0x0028: 0xCFC7, 0x0029: 0xFFFF,   # -1234.5 W
        0x0033: 0x01F4,                   # 50.0 Hz
        0x0034: 0xD687, 0x0035: 0x0012,   # 123456.7 kWh
        0x004E: 0x3039, 0x004F: 0x0000,   # 1234.5 kWh
    }


def test_em24_int32_values_are_low_word_first() -> None:
    reading = decode_reading(get_model("carlo-gavazzi-em24"), holding(em24_image()))
    assert reading.voltage_v == pytest.approx((230.0, 229.5, 231.0))
    assert reading.current_a == pytest.approx((12.345, 6.666, 0.5))
    assert reading.power_w == pytest.approx((2780.0, 1500.0, -100.0))
    assert reading.power_total_w == pytest.approx(-1234.5)
    assert reading.frequency_hz == pytest.approx(50.0)
    assert reading.energy_import_wh == pytest.approx(123_456_700.0)
    assert reading.energy_export_wh == pytest.approx(1_234_500.0)


def test_em24_read_high_word_first_would_be_implausible() -> None:
    """The word-order trap: swapping the words of V L1-N gives 150 MV, which must not pass."""
    words = em24_image()
    words[0x0000], words[0x0001] = 0x0000, 0x08FC
    with pytest.raises(MeterDataError, match="voltage L1"):
        decode_reading(get_model("carlo-gavazzi-em24"), holding(words))


@pytest.mark.parametrize(
    ("address", "word", "problem"),
    [
        (0x0033, 0x0000, "frequency 0 Hz"),  # outside 40..70 Hz
        (0x0033, 0x0FA0, "frequency 400 Hz"),
        (0x000D, 0x0100, "current L1"),  # 16.8 kA: beyond any CT
    ],
)
def test_em24_values_outside_the_physical_range_are_errors(address: int, word: int, problem: str) -> None:
    words = em24_image()
    words[address] = word
    with pytest.raises(MeterDataError, match=problem):
        decode_reading(get_model("carlo-gavazzi-em24"), holding(words))


def test_missing_register_in_the_image_is_a_data_error() -> None:
    words = em24_image()
    del words[0x0035]
    with pytest.raises(MeterDataError, match="0x0035"):
        decode_reading(get_model("carlo-gavazzi-em24"), holding(words))


def test_float32_hand_encoding_matches_the_ieee_layout() -> None:
    """Guards the test helper itself: 230.0 is 0x43660000 in IEEE-754."""
    assert f32(230.0) == (0x4366, 0x0000)
    assert f32(-4000.0) == (0xC57A, 0x0000)


# --- Siemens SENTRON PAC2200: float32 values, float64 energy per tariff ----------------------
# PAC2200 / PAC4200 manuals: offsets 1/3/5 voltage L-N, 13/15/17 current, 25/27/29 active
# power, 55 frequency, 65 total active power (float, high word first); 801/805 import
# tariff 1/2, 809/813 export tariff 1/2 (Double Wh).
def pac2200_image() -> dict[int, int]:
    words = {
        0x0001: 0x4366, 0x0002: 0x0000,  # 230.0 V
        0x0003: 0x4365, 0x0004: 0x8000,  # 229.5 V
        0x0005: 0x4367, 0x0006: 0x0000,  # 231.0 V
        0x000D: 0x4148, 0x000E: 0x0000,  # 12.5 A
        0x000F: 0x4104, 0x0010: 0x0000,  # 8.25 A
        0x0011: 0x4040, 0x0012: 0x0000,  # 3.0 A
        0x0019: 0x452F, 0x001A: 0x0000,  # 2800.0 W
        0x001B: 0x44E7, 0x001C: 0x4000,  # 1850.0 W
        0x001D: 0xC422, 0x001E: 0x8000,  # -650.0 W
        0x0037: 0x4248, 0x0038: 0x0000,  # 50.0 Hz (offset 55)
        0x0041: 0x4574, 0x0042: 0x0000,  # 3904.0 W total (offset 65)
    }
    for address, value in {0x0321: 1_000_000.5, 0x0325: 250_000.25, 0x0329: 4_000.0, 0x032D: 0.0}.items():
        words.update(dict(zip(range(address, address + 4), f64(value))))
    return words


def test_pac2200_sums_float64_tariff_energies() -> None:
    reading = decode_reading(get_model("siemens-7km2200"), holding(pac2200_image()))
    assert reading.voltage_v == (230.0, 229.5, 231.0)
    assert reading.current_a == (12.5, 8.25, 3.0)
    assert reading.power_w == (2800.0, 1850.0, -650.0)
    assert reading.energy_import_wh == 1_250_000.75  # tariff 1 + tariff 2
    assert reading.energy_export_wh == 4_000.0
    assert reading.power_total_w == 3904.0
    assert reading.frequency_hz == 50.0


def test_pac2200_energy_as_float32_would_not_decode_the_same() -> None:
    """The float64 trap: the first two words of 1e6 as a float32 are far from 1e6 Wh."""
    import struct

    high_pair = struct.unpack(">f", struct.pack(">HH", *f64(1_000_000.5)[:2]))[0]
    assert abs(high_pair - 1_000_000.5) > 1e5

