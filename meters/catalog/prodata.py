"""Meters read through a Janitza ProData 2 datalogger, which re-publishes them over Modbus TCP.

The ProData 2 decides the Modbus layout it serves for each connected meter; without a
published layout these entries cannot be read directly and need a custom map
(`python -m meters read KEY --map FILE`).
"""

from meters.registers import UNVERIFIED_NO_MAP, MeterModel, Protocol

_VIA = "Janitza ProData 2"


def _behind_prodata(key: str, manufacturer: str, model: str) -> MeterModel:
    return MeterModel(
        key=key,
        manufacturer=manufacturer,
        model=model,
        protocol=Protocol.MODBUS_TCP,
        verification=UNVERIFIED_NO_MAP,
        via=_VIA,
    )


MODELS = (
    _behind_prodata("prodata2-abb-b23-312-100", "ABB", "B23 312-100"),
    _behind_prodata("prodata2-bcontrol-em300", "B-control", "EM300"),
    _behind_prodata("prodata2-herholdt-ecsem113", "Herholdt", "ECSEM113"),
    _behind_prodata("prodata2-janitza-b23-312-10j", "Janitza", "B23 312-10J"),
    _behind_prodata("prodata2-janitza-ecsem114mid", "Janitza", "ECSEM114MID"),
    _behind_prodata("prodata2-siemens-7kt1260", "Siemens", "7KT1260"),
)
