"""Fleet data: tenants, their sites, gateways, charging networks and the devices in them.

Every tenant-owned model names the path from itself to its Organization in
`tenant_path`; the admin (and the API) scope by that one attribute instead of
repeating the lookup in every view.
"""

from fleet.models.alert_groups import Announced, NotificationGroup, NotificationGroupMember
from fleet.models.alerts import (
    GROUP_LABELS,
    SEVERITY_OF_KIND,
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
from fleet.models.plans import CapacityPlan, PlanStatus
from fleet.models.power_caps import NetworkPowerCap, NetworkRecurringCap, PowerCapSource
from fleet.models.sites import Gateway, Site
from fleet.models.state import ChargerState, MeterState, NetworkMode, NetworkState
from fleet.models.telemetry import EventType, TelemetryEvent, TelemetryGap, TelemetrySample
from fleet.models.telemetry_rollups import TelemetryHistory, TelemetryRollup
from fleet.models.tenancy import ApiToken, Membership, OperatorProfile, Organization, Role

__all__ = [
    "GROUP_LABELS",
    "SEVERITY_OF_KIND",
    "Announced",
    "NotificationGroup",
    "NotificationGroupMember",
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
    "CapacityPlan",
    "Charger",
    "ChargerState",
    "ChargingNetwork",
    "EventType",
    "Gateway",
    "Membership",
    "Meter",
    "MeterState",
    "NetworkMode",
    "NetworkPowerCap",
    "NetworkRecurringCap",
    "NetworkState",
    "OperatorProfile",
    "Organization",
    "PlanStatus",
    "PowerCapSource",
    "Role",
    "Site",
    "TelemetryEvent",
    "TelemetryGap",
    "TelemetryHistory",
    "TelemetryRollup",
    "TelemetrySample",
]
