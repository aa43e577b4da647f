"""The wire schema shared by the gateway agent and the fleet server.

Plain dataclasses and validation, no I/O: the agent parses its TOML file and
the server's JSON with the same code, and the server builds the JSON from its
models with the same field names, so there is one shape of site config
everywhere. Free of Django and of the agent's runtime.
"""

from gateways.protocol.config import (
    ChargerConfig,
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
from gateways.protocol.drivers import CHARGER_DRIVER_TABLE, CHARGER_DRIVERS, DRIVERS_WITHOUT_HOST, ChargerDriverSpec
from gateways.protocol.telemetry import (
    EVENT_TYPE_LABELS,
    EVENT_TYPES,
    ChargerSample,
    TelemetryAck,
    TelemetryBatch,
    TelemetryError,
    TelemetryEvent,
    TelemetrySample,
)
from gateways.protocol.telemetry_parse import parse_batch, parse_batch_records

__all__ = [
    "CHARGER_DRIVER_TABLE",
    "CHARGER_DRIVERS",
    "DRIVERS_WITHOUT_HOST",
    "EVENT_TYPES",
    "EVENT_TYPE_LABELS",
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
    "parse_batch_records",
    "parse_site_config",
    "validate_charger",
    "validate_gateway",
    "validate_meter",
    "validate_network_limits",
]
