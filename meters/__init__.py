"""FuseGuard meters: catalog of house-connection meters, decoding, async Modbus TCP reading.

Imports only pymodbus and the standard library (never Django), so the gateway runs
without the server's dependencies.

Public API
----------
Catalog (``meters.catalog``)
    ``model_keys() -> tuple[str, ...]``  every stable model key, sorted
    ``get_model(key) -> MeterModel``      raises ``UnknownMeterModel`` (a ``KeyError``)
    ``all_models()``                      entries in key order

Reading
    ``MeterClient(model_or_map, host, port=None, unit_id=None, timeout_s=1.0)``
        ``await client.read() -> MeterReading``  one reading, finished within ``timeout_s``
        ``await client.close()``                 also ``async with MeterClient(...)``
    One connection per client (create one client per meter endpoint and keep it);
    requests are serialised by a lock; after transport failures it reconnects with
    back-off (reads during the back-off fail at once with ``MeterTransportError``).

    ``MeterReading``: ``current_a``, ``voltage_v``, ``power_w`` (tuples L1, L2, L3),
    ``power_total_w`` (positive = import from the grid), ``energy_import_wh``,
    ``energy_export_wh``, ``frequency_hz``; ``None`` where the meter has no value;
    ``read_at`` (UTC datetime) and ``monotonic_s`` (``time.monotonic()``), ``age_s()``.
    Phases are as the meter sees them: phase rotation is the gateway's job.

Errors (all ``MeterError``)
    ``MeterTransportError``   refused/lost connection, timeout, non-Modbus frames
    ``MeterModbusException``  the device answered an exception; ``.code`` (1..11)
    ``MeterDataError``        undecodable or implausible values (NaN, "not available"
                              markers, values outside the meter's physical range)
    ``MeterMapError``         a custom map that cannot be used
    ``UnknownMeterModel``     a key not in the catalog

Custom maps
    ``load_map(path, key=None) -> MeterModel`` (TOML; see ``meters.custom_map``)

Simulation (``meters.sim``)
    ``MeterSimulator(model, port=0, unit_id=None, values=None)``: async context manager;
    ``set_values(current_a=[...], ...)``, ``freeze()``, ``await drop_out(True, mode=...)``,
    ``fault(Fault.EXCEPTION, exception_code=2)``, ``.port``, ``.reads_by_function``
    ({function code: reads answered}, to prove which table a client read).

CLI: ``python -m meters list | read MODEL --host H [--json] | simulate MODEL --port P``;
``read`` without ``--json`` prints the commissioning view (``meters.commissioning``).
"""

from meters.catalog import all_models, get_model, model_keys
from meters.client import MeterClient
from meters.custom_map import load_map
from meters.errors import (
    MeterDataError,
    MeterError,
    MeterMapError,
    MeterModbusException,
    MeterTransportError,
    UnknownMeterModel,
)
from meters.reading import MeterReading
from meters.registers import MeterModel

__all__ = [
    "MeterClient",
    "MeterDataError",
    "MeterError",
    "MeterMapError",
    "MeterModbusException",
    "MeterModel",
    "MeterReading",
    "MeterTransportError",
    "UnknownMeterModel",
    "all_models",
    "get_model",
    "load_map",
    "model_keys",
]
