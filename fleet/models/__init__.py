"""Fleet data: tenants, their sites, gateways, charging networks and the devices in them.

Every tenant-owned model names the path from itself to its Organization in
`tenant_path`; the admin (and the API) scope by that one attribute instead of
repeating the lookup in every view.
"""

from fleet.models.alerts import (
    ChannelKind,
    Delivery,
    DeliveryStatus,
    Incident,
    IncidentKind,
    IncidentStatus,
    IncidentTransition,
    IncidentTransitionKind,
    NotificationChannel,
    Transition,
)
from fleet.models.devices import Charger, Meter
from fleet.models.networks import ChargingNetwork
from fleet.models.sites import Gateway, Site
from fleet.models.state import ChargerState, MeterState, NetworkMode, NetworkState
from fleet.models.telemetry import EventType, TelemetryEvent, TelemetryGap, TelemetrySample
from fleet.models.tenancy import ApiToken, Membership, OperatorProfile, Organization, Role

__all__ = [
    "ApiToken",
    "ChannelKind",
    "Delivery",
    "DeliveryStatus",
    "Incident",
    "IncidentKind",
    "IncidentStatus",
    "IncidentTransition",
    "IncidentTransitionKind",
    "NotificationChannel",
    "Transition",
    "Charger",
    "ChargerState",
    "ChargingNetwork",
    "EventType",
    "Gateway",
    "Membership",
    "Meter",
    "MeterState",
    "NetworkMode",
    "NetworkState",
    "OperatorProfile",
    "Organization",
    "Role",
    "Site",
    "TelemetryEvent",
    "TelemetryGap",
    "TelemetrySample",
]
