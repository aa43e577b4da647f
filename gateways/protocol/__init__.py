"""The wire schema shared by the gateway agent and the fleet server.

Plain dataclasses and validation, no I/O: the agent parses its TOML file and
the server's JSON with the same code, and the server builds the JSON from its
models with the same field names, so there is one shape of site config
everywhere. Free of Django and of the agent's runtime.
"""

from gateways.protocol.config import (
    CHARGER_DRIVER_TABLE,
    CHARGER_DRIVERS,
    DRIVERS_WITHOUT_HOST,
    ChargerConfig,
    ChargerDriverSpec,
    ConfigError,
    GatewayConfig,
    MeterConfig,
    NetworkConfig,
    SiteConfig,
    parse_site_config,
    validate_charger,
    validate_gateway,
    validate_meter,
    validate_network_limits,
)
from gateways.protocol.telemetry import (
    EVENT_TYPES,
    TelemetryAck,
    TelemetryBatch,
    TelemetryError,
    TelemetryEvent,
    TelemetrySample,
    ChargerSample,
    parse_batch,
)

__all__ = [
    "CHARGER_DRIVER_TABLE",
    "CHARGER_DRIVERS",
    "DRIVERS_WITHOUT_HOST",
    "EVENT_TYPES",
    "ChargerConfig",
    "ChargerDriverSpec",
    "ChargerSample",
    "ConfigError",
    "GatewayConfig",
    "MeterConfig",
    "NetworkConfig",
    "SiteConfig",
    "TelemetryAck",
    "TelemetryBatch",
    "TelemetryError",
    "TelemetryEvent",
    "TelemetrySample",
    "parse_batch",
    "parse_site_config",
    "validate_charger",
    "validate_gateway",
    "validate_meter",
    "validate_network_limits",
]
