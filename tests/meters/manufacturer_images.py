"""Register images typed by hand from the manufacturers' own tables (shared/reference/register-facts.md).

Each word is computed here from the documented address, type, word order and scale,
never generated from the catalog, so a wrong catalog entry cannot pass by symmetry.
Keys are protocol addresses (zero-based, as the documents list them); the table they
belong to (holding: function code 3, input: function code 4) is the test's to say.
"""

from __future__ import annotations


# --- ABB M4M 20/30 ----------------------------------------------------------------------
# ABB "M4M Modbus map - v.1.3N", Mapping Table; manual 2CSG445050D0201 V1.05 p. 12: most
# significant word first. Voltages uint32 0.1 V, currents uint32 0.01 A, powers int32
# 0.01 W, frequency uint16 0.01 Hz, energies uint64 0.01 kWh. Function code 3 (p. 8).
def m4m_image() -> dict[int, int]:
    return {
        0x5B02: 0x0000, 0x5B03: 0x08FD,   # phase voltage L1 2301 -> 230.1 V
        0x5B04: 0x0000, 0x5B05: 0x08FA,   # L2 2298 -> 229.8 V
        0x5B06: 0x0000, 0x5B07: 0x0906,   # L3 2310 -> 231.0 V
        0x5B10: 0x0000, 0x5B11: 0x04D2,   # current L1 1234 -> 12.34 A
        0x5B12: 0x0000, 0x5B13: 0x01F4,   # L2 500 -> 5.00 A
        0x5B14: 0x0000, 0x5B15: 0x0007,   # L3 7 -> 0.07 A
        0x5B1A: 0x0002, 0x5B1B: 0x9A2C,   # active power total 170540 -> 1705.40 W
        0x5B1C: 0x0004, 0x5B1D: 0x551A,   # L1 283930 -> 2839.30 W
        0x5B1E: 0xFFFE, 0x5B1F: 0x3EC8,   # L2 -115000 (two's complement) -> -1150.00 W: export
        0x5B20: 0x0000, 0x5B21: 0x064A,   # L3 1610 -> 16.10 W
        0x5B32: 0x1389,                   # frequency 5001 -> 50.01 Hz
        0x5000: 0x0000, 0x5001: 0x0000, 0x5002: 0x0012, 0x5003: 0xD687,  # import 1234567 -> 12345.67 kWh
        0x5004: 0x0000, 0x5005: 0x0000, 0x5006: 0x0001, 0x5007: 0x81CD,  # export 98765 -> 987.65 kWh
    }


def m4m_device_image() -> dict[int, int]:
    """`m4m_image` as the device serves it: unused addresses of 0x5B02..0x5B32 read 0xFFFF (p. 12)."""
    words = {address: 0xFFFF for address in range(0x5B02, 0x5B33)}
    words.update(m4m_image())
    return words


# --- Gossen Metrawatt ENERGYMID EM228X / EM238X -------------------------------------------
# Interface description 3-349-937-01, section 3.10, input registers (function code 4,
# 3.4 p. 23), zero-based decimal addresses (3.8 p. 26). Type 1: int16 mantissa x
# 10^exponent (0x8000 undefined); type 2: uint32 mantissa x primary energy factor (308).
def energymid_image() -> dict[int, int]:
    return {
        4: 0x0905, 5: 0x08FC, 6: 0x0906,  # voltage mantissas 2309, 2300, 2310
        11: 0x1389,                        # frequency 5001 -> 50.01 Hz (type 3)
        12: 0xFFFF,                        # voltage exponent -1
        100: 0x04D2, 101: 0x0000, 102: 0x0032,  # current mantissas 1234, 0, 50
        108: 0xFFFE,                       # current exponent -2
        200: 0xFB2E, 201: 0x0000, 202: 0x0010,  # power mantissas -1234, 0, 16
        203: 0xFB3E,                       # total power mantissa -1218
        212: 0x0001,                       # power exponent +1
        300: 0x0001, 301: 0xE240,          # import mantissa 123456
        302: 0x0000, 303: 0x1ED2,          # export mantissa 7890
        308: 0x0000, 309: 0x0064,          # primary energy factor 100
        310: 0x0002,                       # energy exponent 2 (10^2: the same factor)
        311: 0x0001,                       # energy type 1: primary
    }


def energymid_device_image() -> dict[int, int]:
    """`energymid_image` with the undocumented addresses inside each group present (read as 0)."""
    words = {a: 0 for block in ((4, 13), (100, 109), (200, 213), (300, 312)) for a in range(*block)}
    words.update(energymid_image())
    return words


# --- TQ Energy Manager (EM300 LR / LRW) -------------------------------------------------
# TQ "Energy Manager - Modbus Slave" rev. 0013, table 3 (pp. 8-10) and table 4 (p. 11),
# holding registers (function code 3), most significant word first (p. 6). Active
# power+ / - uint32 0.1 W (total 0/2, L1 40/42, L2 80/82, L3 120/122), current uint32
# 0.001 A (60, 100, 140), voltage uint32 0.001 V (62, 102, 142), supply frequency
# uint32 0.001 Hz (26), active energy+ / - uint64 0.1 Wh (512 / 516).
def tq_image() -> dict[int, int]:
    return {
        0x0000: 0x0000, 0x0001: 0x0000,   # P+ 0
        0x0002: 0x0000, 0x0003: 0x1388,   # P- 5000 -> 500.0 W: exporting
        0x001A: 0x0000, 0x001B: 0xC362,   # frequency 50018 -> 50.018 Hz
        0x0028: 0x0000, 0x0029: 0x3039,   # P+ L1 12345 -> 1234.5 W
        0x002A: 0x0000, 0x002B: 0x0000,
        0x003C: 0x0000, 0x003D: 0x3E80,   # current L1 16000 -> 16.000 A
        0x003E: 0x0003, 0x003F: 0x82EB,   # voltage L1 230123 -> 230.123 V
        0x0050: 0x0000, 0x0051: 0x0000,
        0x0052: 0x0000, 0x0053: 0x4E20,   # P- L2 20000 -> 2000.0 W
        0x0064: 0x0000, 0x0065: 0x2328,   # 9000 -> 9.000 A
        0x0066: 0x0003, 0x0067: 0x8270,   # 230000 -> 230.000 V
        0x0078: 0x0000, 0x0079: 0x0FA0,   # P+ L3 4000 -> 400.0 W
        0x007A: 0x0000, 0x007B: 0x0000,
        0x008C: 0x0000, 0x008D: 0x07D0,   # 2000 -> 2.000 A
        0x008E: 0x0003, 0x008F: 0x8A40,   # 232000 -> 232.000 V
        0x0200: 0x0000, 0x0201: 0x0000, 0x0202: 0x075B, 0x0203: 0xCD15,  # 123456789 -> 12345678.9 Wh
        0x0204: 0x0000, 0x0205: 0x0000, 0x0206: 0x0000, 0x0207: 0x3039,  # 12345 -> 1234.5 Wh
    }
