"""The ways reading a meter can fail, as distinct types the gateway can act on."""

from __future__ import annotations


class MeterError(Exception):
    """Base of every failure to obtain a trustworthy reading from a meter."""


class UnknownMeterModel(MeterError, KeyError):
    """A model key that is not in the catalog."""

    def __str__(self) -> str:
        # KeyError.__str__ quotes its argument; we want the plain sentence.
        return str(self.args[0]) if self.args else "unknown meter model"


class MeterMapError(MeterError, ValueError):
    """A register map (catalog entry or custom TOML file) that cannot be used as written."""


class MeterTransportError(MeterError):
    """No usable answer: refused or lost connection, timeout, or a frame that is not Modbus."""


class MeterModbusException(MeterError):
    """The device answered with a Modbus exception; `code` is the exception code (1..11)."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


class MeterDataError(MeterError):
    """The device answered, but the values cannot be decoded or are not physically plausible."""
