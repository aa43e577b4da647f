"""The meter catalog: the one definition of meter model keys and their register maps.

`fleet` validates `Meter.model` against `model_keys()`; the gateway and the CLI look
entries up with `get_model(key)`. Each family module holds its entries as data.
"""

from __future__ import annotations

from meters.errors import UnknownMeterModel
from meters.registers import MeterModel

from . import abb, carlo_gavazzi, fronius, gossen_metrawatt, keba, kostal, prodata, siemens, tq

_FAMILIES = (keba, abb, carlo_gavazzi, fronius, gossen_metrawatt, kostal, siemens, tq, prodata)


def _build_registry() -> dict[str, MeterModel]:
    registry: dict[str, MeterModel] = {}
    for family in _FAMILIES:
        for entry in family.MODELS:
            if entry.key in registry:
                raise RuntimeError(f"duplicate meter model key {entry.key!r}")
            registry[entry.key] = entry
    return registry


_REGISTRY = _build_registry()


def model_keys() -> tuple[str, ...]:
    """All stable model keys, sorted (the choices a site's meter may name)."""
    return tuple(sorted(_REGISTRY))


def get_model(key: str) -> MeterModel:
    """The catalog entry for `key`; raises `UnknownMeterModel` (a KeyError) if there is none."""
    try:
        return _REGISTRY[key]
    except KeyError:
        raise UnknownMeterModel(
            f"unknown meter model {key!r}; known models: {', '.join(model_keys())}"
        ) from None


def all_models() -> tuple[MeterModel, ...]:
    """Every catalog entry, in key order."""
    return tuple(_REGISTRY[k] for k in model_keys())


__all__ = ["UnknownMeterModel", "all_models", "get_model", "model_keys"]
