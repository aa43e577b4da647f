"""Meters read through a Janitza ProData 2 datalogger over Modbus TCP.

How the ProData 2 presents the meters on its RS-485 side over Modbus TCP (transparent
pass-through with the RS-485 address as unit id, or its own address list) is in
Janitza's "Modbus-address list" (Dok. 1.049.016.4), which was not readable; no open
implementation reads meters through a ProData 2. So these entries carry no map and are
read with a custom map (`python -m meters read KEY --host H --map FILE`).
`meters/maps/abb-b23.toml` holds the ABB B23 native map (two sources agree), usable if
the ProData 2 proves transparent.
"""

from meters.registers import UNVERIFIED_NO_MAP, MeterModel, Protocol, Source

_VIA = "Janitza ProData 2"

PRODATA2_ADDRESS_LIST = Source(
    title="Datenlogger ProData 2 - Modbus-address list (only its contents page was readable)",
    version="Dok. Nr. 1.049.016.4",
    publisher="Janitza electronics",
)


def _behind_prodata(key: str, manufacturer: str, model: str, notes: str = "") -> MeterModel:
    return MeterModel(
        key=key,
        manufacturer=manufacturer,
        model=model,
        protocol=Protocol.MODBUS_TCP,
        verification=UNVERIFIED_NO_MAP,
        via=_VIA,
        sources=(PRODATA2_ADDRESS_LIST,),
        notes=notes,
    )


MODELS = (
    _behind_prodata(
        "prodata2-abb-b23-312-100", "ABB", "B23 312-100",
        notes="Try meters/maps/abb-b23.toml if the ProData 2 passes requests through.",
    ),
    _behind_prodata(
        "prodata2-bcontrol-em300", "B-control", "EM300",
        notes="An EM300 on the network can be read directly as tq-em300-lr.",
    ),
    _behind_prodata("prodata2-herholdt-ecsem113", "Herholdt", "ECSEM113"),
    _behind_prodata("prodata2-janitza-b23-312-10j", "Janitza", "B23 312-10J"),
    _behind_prodata("prodata2-janitza-ecsem114mid", "Janitza", "ECSEM114MID"),
    _behind_prodata("prodata2-siemens-7kt1260", "Siemens", "7KT1260"),
)
