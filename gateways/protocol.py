"""The wire schema shared by the gateway agent and the fleet server.

Plain data and validation only, no I/O: both sides import it, so it must stay
free of Django and of the agent's runtime.
"""

CHARGER_DRIVERS: tuple[str, ...] = ("keba-udp", "keba-modbus", "simulated")
"""Keys of the charger drivers the agent ships; the agent's driver registry maps each to its class."""
