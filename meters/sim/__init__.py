"""Simulated meters over real Modbus TCP, for tests, the demo and the benchmark."""

from meters.sim.layouts import DEFAULT_VALUES, SunSpecShape
from meters.sim.server import Fault, ModbusTcpServer
from meters.sim.simulator import MeterSimulator

__all__ = ["DEFAULT_VALUES", "Fault", "MeterSimulator", "ModbusTcpServer", "SunSpecShape"]
