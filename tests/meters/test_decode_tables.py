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

from .conftest import f32, f64, holding, inputs


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


# --- Gossen Metrawatt ENERGYMID EM228x/EM238x: int16 mantissa x 10^(low byte of exponent) ---
# Input registers: V L1-N 0x0004..0x0006 with exponent 0x000C, frequency 0x000B (x0.01 Hz),
# current 0x0064..0x0066 with exponent 0x006C, power 0x00C8..0x00CB with exponent 0x00D4.
def energymid_image() -> dict[int, int]:
    return {
        0x0004: 0x0905, 0x0005: 0x08FC, 0x0006: 0x0906,  # 2309, 2300, 2310
        0x000B: 0x1389,                                   # 5001 -> 50.01 Hz
        0x000C: 0xFFFF,                                   # exponent -1
        0x0064: 0x04D2, 0x0065: 0x0000, 0x0066: 0x0032,  # 1234, 0, 50
        0x006C: 0xFFFE,                                   # exponent -2
        0x00C8: 0xFB2E, 0x00C9: 0x0000, 0x00CA: 0x0010,  # -1234, 0, 16
        0x00CB: 0xFB3E,                                   # -1218
        0x00D4: 0x0001,                                   # exponent +1
    }


@pytest.mark.parametrize("key", ["gossen-metrawatt-em228x", "gossen-metrawatt-em238x"])
def test_energymid_mantissa_and_exponent(key: str) -> None:
    reading = decode_reading(get_model(key), inputs(energymid_image()))
    assert reading.voltage_v == pytest.approx((230.9, 230.0, 231.0))
    assert reading.frequency_hz == pytest.approx(50.01)
    assert reading.current_a == pytest.approx((12.34, 0.0, 0.5))
    assert reading.power_w == pytest.approx((-12340.0, 0.0, 160.0))
    assert reading.power_total_w == pytest.approx(-12180.0)
    assert reading.energy_import_wh is None  # energy factor address disputed: not mapped


def test_energymid_exponent_is_the_signed_low_byte() -> None:
    words = energymid_image()
    words[0x000C] = 0x00FF  # only the low byte carries the exponent (-1)
    reading = decode_reading(get_model("gossen-metrawatt-em228x"), inputs(words))
    assert reading.voltage_v[0] == pytest.approx(230.9)


def test_energymid_undefined_mantissa_is_an_error() -> None:
    words = energymid_image()
    words[0x0064] = 0x8000
    with pytest.raises(MeterDataError, match="Current L1"):
        decode_reading(get_model("gossen-metrawatt-em228x"), inputs(words))


# --- TQ Energy Manager map (EM300 LR/LRW): separate unsigned import/export power -------------
# Active power+ 0x0000 / Active power- 0x0002 (uint32, 0.1 W), per phase +0x28 per phase
# block (L1 0x0028/0x002A, L2 0x0050/0x0052, L3 0x0078/0x007A); Current (L1) 0x003C and
# Voltage (L1) 0x003E (uint32, mA / mV), L2 0x0064/0x0066, L3 0x008C/0x008E;
# Active energy+ 0x0200 / Active energy- 0x0204 (uint64, 0.1 Wh).
def tq_image() -> dict[int, int]:
    return {
        0x0000: 0x0000, 0x0001: 0x0000,   # P+ 0
        0x0002: 0x0000, 0x0003: 0x1388,   # P- 500.0 W: exporting
        0x0028: 0x0000, 0x0029: 0x3039,   # P+ L1 1234.5 W
        0x002A: 0x0000, 0x002B: 0x0000,
        0x003C: 0x0000, 0x003D: 0x3E80,   # 16.000 A
        0x003E: 0x0003, 0x003F: 0x82EB,   # 230.123 V
        0x0050: 0x0000, 0x0051: 0x0000,
        0x0052: 0x0000, 0x0053: 0x4E20,   # P- L2 2000.0 W
        0x0064: 0x0000, 0x0065: 0x2328,   # 9.000 A
        0x0066: 0x0003, 0x0067: 0x8270,   # 230.000 V
        0x0078: 0x0000, 0x0079: 0x0FA0,   # P+ L3 400.0 W
        0x007A: 0x0000, 0x007B: 0x0000,
        0x008C: 0x0000, 0x008D: 0x07D0,   # 2.000 A
        0x008E: 0x0003, 0x008F: 0x8A40,   # 232.000 V
        0x0200: 0x0000, 0x0201: 0x0000, 0x0202: 0x075B, 0x0203: 0xCD15,  # 12345678.9 Wh
        0x0204: 0x0000, 0x0205: 0x0000, 0x0206: 0x0000, 0x0207: 0x3039,  # 1234.5 Wh
    }


@pytest.mark.parametrize("key", ["tq-em300-lr", "tq-em300-lrw"])
def test_tq_power_is_import_minus_export(key: str) -> None:
    reading = decode_reading(get_model(key), holding(tq_image()))
    assert reading.power_total_w == pytest.approx(-500.0)
    assert reading.power_w == pytest.approx((1234.5, -2000.0, 400.0))
    assert reading.current_a == pytest.approx((16.0, 9.0, 2.0))
    assert reading.voltage_v == pytest.approx((230.123, 230.0, 232.0))
    assert reading.energy_import_wh == pytest.approx(12_345_678.9)
    assert reading.energy_export_wh == pytest.approx(1_234.5)
    assert reading.frequency_hz is None  # address disputed between sources: not mapped


# --- ABB M4M 20/30: UINT32/INT32 high word first, energies UINT64 in 0.01 kWh ----------------
# heinrich321 m4m30.py / Pugliautomazione c_driver_ab1 / tetherto m4m20: phase voltage L1-L3
# 0x5B02/0x5B04/0x5B06 (0.1 V), current L1-L3 0x5B10/0x5B12/0x5B14 (0.01 A), active power
# total 0x5B1A (signed, 0.01 W), frequency 0x5B32 (16 bit, 0.01 Hz), active energy import
# 0x5000 / export 0x5004 (4 registers, 0.01 kWh).
def m4m_image() -> dict[int, int]:
    return {
        0x5B02: 0x0000, 0x5B03: 0x08FD,   # 230.1 V
        0x5B04: 0x0000, 0x5B05: 0x08FA,   # 229.8 V
        0x5B06: 0x0000, 0x5B07: 0x0906,   # 231.0 V
        0x5B10: 0x0000, 0x5B11: 0x04D2,   # 12.34 A
        0x5B12: 0x0000, 0x5B13: 0x01F4,   # 5.00 A
        0x5B14: 0x0000, 0x5B15: 0x0007,   # 0.07 A
        0x5B1A: 0xFFFE, 0x5B1B: 0x1DC0,   # -1234.56 W (-123456, two's complement)
        0x5B32: 0x1389,                   # 50.01 Hz
        0x5000: 0x0000, 0x5001: 0x0000, 0x5002: 0x0012, 0x5003: 0xD687,  # 12345.67 kWh
        0x5004: 0x0000, 0x5005: 0x0000, 0x5006: 0x0001, 0x5007: 0x81CD,  # 987.65 kWh
    }


def test_m4m_values_at_the_m4m_addresses_not_the_b23_ones() -> None:
    reading = decode_reading(get_model("abb-m4m"), holding(m4m_image()))
    assert reading.voltage_v == pytest.approx((230.1, 229.8, 231.0))
    assert reading.current_a == pytest.approx((12.34, 5.0, 0.07))
    assert reading.power_total_w == pytest.approx(-1234.56)
    assert reading.power_w == (None, None, None)  # one source only: not mapped
    assert reading.frequency_hz == pytest.approx(50.01)
    assert reading.energy_import_wh == pytest.approx(12_345_670.0)
    assert reading.energy_export_wh == pytest.approx(987_650.0)


def test_m4m_low_word_first_would_be_implausible() -> None:
    words = m4m_image()
    words[0x5B02], words[0x5B03] = 0x08FD, 0x0000  # 230.1 V with its words swapped
    with pytest.raises(MeterDataError, match="voltage L1"):
        decode_reading(get_model("abb-m4m"), holding(words))


def test_m4m_not_available_marker_is_rejected() -> None:
    words = m4m_image()
    words[0x5B32] = 0xFFFF  # frequency the meter does not have: 655.35 Hz
    with pytest.raises(MeterDataError, match="frequency"):
        decode_reading(get_model("abb-m4m"), holding(words))
