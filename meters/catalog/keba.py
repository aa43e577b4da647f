"""KEBA KeContact E10 house-connection meter: a SunSpec device (meter model 203 or 213).

KEBA's own manual for the E10 was not readable, so the entry relies on the SunSpec
standard for the register layout (found by walking the chain, which is how every
SunSpec device must be read anyway) and on one implementation for the unit id.
"""

from meters.registers import MeterModel, Protocol, Source
from meters.sunspec import SUNSPEC_SOURCE

E10_MANUAL = Source(
    title="KeContact E10 Energy meter - Installation manual (Modbus section not read)",
    version="V 1.00, 2023",
    publisher="KEBA",
)
EVCC_E10 = Source(
    title="evcc meter template keba-kecontact.yaml: SunSpec model 203/213, Modbus TCP, unit id 1",
    version="commit 3446f542",
    publisher="evcc-io/evcc",
)

KECONTACT_E10 = MeterModel(
    key="keba-kecontact-e10",
    manufacturer="KEBA",
    model="KeContact E10",
    protocol=Protocol.SUNSPEC,
    default_port=502,
    default_unit_id=1,
    sunspec_model_id=203,
    sources=(SUNSPEC_SOURCE, E10_MANUAL, EVCC_E10),
    verification="partly verified: SunSpec meter models per the SunSpec Alliance; that the E10 "
    "speaks SunSpec at unit 1 from one implementation (evcc) and the KEBA meter list",
)

MODELS = (KECONTACT_E10,)
