"""Charger drivers: one class per wire protocol, looked up by the keys in `gateways.protocol.CHARGER_DRIVERS`."""
