"""The KEBA P30 x-series / P40 Modbus TCP registers FuseGuard uses, as data with their sources.

Sources (facts only):
- [KEBA-P40-1.02] KEBA, "KeContact P40, P40 Pro - Modbus TCP Programmers Guide" V1.02,
  document no. 135655 (04.2025): 3.8.1 (p. 19) register 1600 failsafe current setting,
  UINT32, read, mA; 3.8.2 (p. 19) 1602 failsafe timeout setting, UINT32, read, s;
  4.7.1 (p. 23) 5016 failsafe current, UINT16, write, 0 = suspend charging when the
  connection is lost, else 6000..32000 mA; 4.7.2 (p. 23) 5018 failsafe timeout, UINT16,
  write, 0 = failsafe off, else 5..600 s. Section 4.7: the failsafe is active while the
  timeout is > 0; the station restarts its timer on every Modbus TCP command it receives;
  when the timer runs out it applies the failsafe current; the next command ends the
  failsafe state.
- [KEBA-1.02] KEBA, "KeContact P30 Charging Station Modbus TCP Programmers Guide" V1.02:
  register list (1000 charging state, 1004 cable state, 1008/1010/1012 phase currents
  in mA, 1100 max charging current; writable 5004 set charging current, UINT16,
  write-only, 6000..63000 mA; 5014 enable/disable charging station).
- [KEBA-1.07] the same guide V1.07 (12.2025), as summarised by the mbmap library's map
  `maps/keba/kecontact-p30.mbmap.json` (nobrega8/mbmap-library): unit ID must be 255;
  only function codes 3 (read) and 6 (write); no block reads, each value on its own,
  at most 2 registers (one 32-bit unsigned value); word order not stated in the guide.
- [OpenEMS] OpenEMS `io.openems.edge.evse.chargepoint.keba` (EvseKebaModbusImpl, which
  ships KEBA's kecontactp40modbustcp_pgen.pdf): every read an FC 3 of one unsigned
  double word at 1000, 1004, 1008, 1010, 1012, 1100, 1600 (failsafe current setting),
  1602 (failsafe timeout setting); writes FC 6 of one 16-bit word at 5004, 5014. Its
  comment quotes KEBA: "The interval for reading registers is 0,5 seconds. The interval
  for writing registers is 5 seconds."
- [evcc] evcc `charger/keba-modbus.go`: 1000, 1004, 1008 (+2 per phase), 1602 failsafe
  timeout, 5004, 5014 written with FC 6 (WriteSingleRegister); 5018 failsafe timeout
  written as a 16-bit value; 32-bit values decoded big-endian (high word first).

Word order high word first: [evcc] and [OpenEMS] agree; [KEBA-1.07] does not state it.

"Confirmed" below means: in a KEBA document we could read, or in two independent
implementations.
- Confirmed: 1000, 1004, 1008, 1010, 1012, 1100, 5004, 5014; FC 3/6; unit 255.
- Confirmed by [KEBA-P40-1.02] (and the implementations named): 1600, 1602, 5016, 5018.
  The driver still reads 1600/1602 back after writing 5016/5018, so a station that does
  not take them shows as `ChargerRejected`, never as a silently wrong failsafe.
"""

from __future__ import annotations

from dataclasses import dataclass

UNIT_ID = 255  # [KEBA-1.07]
FUNCTION_READ = 3  # [KEBA-1.07], [OpenEMS]
FUNCTION_WRITE = 6  # [KEBA-1.07], [OpenEMS], [evcc]
READ_INTERVAL_S = 0.5  # [OpenEMS] quoting KEBA; per register, see KebaModbusDriver
WRITE_INTERVAL_S = 5.0  # [OpenEMS] quoting KEBA


@dataclass(frozen=True)
class Register:
    """One value: its address, whether it is read (32-bit, FC 3) or written (16-bit, FC 6), and who says so."""

    name: str
    address: int
    writable: bool
    unit: str
    sources: str
    confirmed: bool = True


CHARGING_STATE = Register("charging state", 1000, False, "", "KEBA-1.02, OpenEMS, evcc")
CABLE_STATE = Register("cable state", 1004, False, "", "KEBA-1.02, OpenEMS, evcc")
CURRENT_L1 = Register("charging current phase 1", 1008, False, "mA", "KEBA-1.02, OpenEMS, evcc")
CURRENT_L2 = Register("charging current phase 2", 1010, False, "mA", "KEBA-1.02, OpenEMS, evcc")
CURRENT_L3 = Register("charging current phase 3", 1012, False, "mA", "KEBA-1.02, OpenEMS, evcc")
MAX_CHARGING_CURRENT = Register("max charging current", 1100, False, "mA", "KEBA-1.02, OpenEMS")
FAILSAFE_CURRENT = Register("failsafe current setting", 1600, False, "mA", "KEBA-P40-1.02 3.8.1 p. 19, OpenEMS")
FAILSAFE_TIMEOUT = Register("failsafe timeout setting", 1602, False, "s", "KEBA-P40-1.02 3.8.2 p. 19, OpenEMS, evcc")
SET_CHARGING_CURRENT = Register("set charging current", 5004, True, "mA", "KEBA-1.02, OpenEMS, evcc")
SET_ENABLE = Register("enable/disable charging station", 5014, True, "", "KEBA-1.02, OpenEMS, evcc")
SET_FAILSAFE_CURRENT = Register("set failsafe current", 5016, True, "mA", "KEBA-P40-1.02 4.7.1 p. 23")
SET_FAILSAFE_TIMEOUT = Register("set failsafe timeout", 5018, True, "s", "KEBA-P40-1.02 4.7.2 p. 23, evcc")

FAILSAFE_CURRENT_MIN_MA = 6000  # [KEBA-P40-1.02] 4.7.1: 0 (suspend) or 6000..32000 mA
FAILSAFE_CURRENT_MAX_MA = 32000
FAILSAFE_TIMEOUT_MIN_S = 5  # [KEBA-P40-1.02] 4.7.2: 0 (off) or 5..600 s
FAILSAFE_TIMEOUT_MAX_S = 600

PHASE_CURRENTS = (CURRENT_L1, CURRENT_L2, CURRENT_L3)

# 1004 cable state [KEBA-1.02, evcc]: 0 no cable, 1 cable in station, 3 ... locked,
# 5 cable in station and vehicle, 7 ... locked: the same codes as UDP "Plug".
# 1000 charging state [KEBA-1.02, evcc]: 0..5, the same codes as UDP "State".
