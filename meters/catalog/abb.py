"""ABB M2M and M4M network analysers.

Neither has a register map here yet: the manufacturer's Modbus manuals (below) exist,
but their tables could not be read, and each meter has only one independent
implementation to compare with, which the catalog rule does not accept. Read them
with a custom map checked against the manual (`python -m meters read abb-m4m --map
FILE`). Trap for whoever writes that map: the M4M does NOT use the ABB B23/B24 layout;
inside the same 0x5Bxx block its quantities sit at other addresses (0x5B14 is a phase
current on the M4M but total power on the B23).
"""

from meters.registers import MeterModel, Protocol, Source

M2M_ETHERNET_MANUAL = Source(
    title="M2M ETHERNET - Ethernet interface user manual (chapter 4, Modbus-TCP protocol, function 03h)",
    version="2CSG445012D0201 Rev. 1.0",
    publisher="ABB",
)
M4M_MODBUS_MANUAL = Source(
    title="Communication protocol - Modbus manual, M4M network analyzers",
    version="2CSG445050D0201 V1.05",
    publisher="ABB",
)

M2M = MeterModel(
    key="abb-m2m",
    manufacturer="ABB",
    model="M2M",
    protocol=Protocol.MODBUS_TCP,
    sources=(M2M_ETHERNET_MANUAL,),
    verification="unverified: no public register map readable (one third-party source only); "
    "use a custom map",
)

M4M = MeterModel(
    key="abb-m4m",
    manufacturer="ABB",
    model="M4M",
    protocol=Protocol.MODBUS_TCP,
    sources=(M4M_MODBUS_MANUAL,),
    verification="unverified: no public register map readable (one third-party source only); "
    "use a custom map",
)

MODELS = (M2M, M4M)
