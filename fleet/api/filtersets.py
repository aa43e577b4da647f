"""Query filters of the operator API (django-filter).

Every filter by a related object offers only the objects the user may see:
another organisation's id is refused as an invalid choice (400), exactly like
an id that does not exist, instead of quietly answering an empty list that
would confirm the id is real.
"""

import django_filters

from fleet.api.fields import UtcDateTimeFilter
from fleet.api.scoping import visible_to_request
from fleet.models import (
    Charger,
    ChargingNetwork,
    EventType,
    Gateway,
    Meter,
    Organization,
    Site,
    TelemetryEvent,
)
from fleet.validators import PHASE_ROTATION_CHOICES, meter_model_keys
from gateways.protocol import CHARGER_DRIVERS


def related(model, field_name: str, help_text: str) -> django_filters.ModelChoiceFilter:
    """A filter by a related tenant-owned object, choices limited to what the user may see."""
    return django_filters.ModelChoiceFilter(field_name=field_name, queryset=visible_to_request(model), help_text=help_text)


class SiteFilterSet(django_filters.FilterSet):
    """Sites by organisation and name."""

    organization = related(Organization, "organization", "Only this organisation's sites.")

    class Meta:
        model = Site
        fields = {"name": ["exact", "icontains"]}


class GatewayFilterSet(django_filters.FilterSet):
    """Gateways by organisation, site and name."""

    organization = related(Organization, "site__organization", "Only this organisation's gateways.")
    site = related(Site, "site", "Only this site's gateways.")

    class Meta:
        model = Gateway
        fields = {"name": ["exact", "icontains"]}


class ChargingNetworkFilterSet(django_filters.FilterSet):
    """Charging networks by organisation, site and name."""

    organization = related(Organization, "site__organization", "Only this organisation's networks.")
    site = related(Site, "site", "Only this site's networks.")

    class Meta:
        model = ChargingNetwork
        fields = {"name": ["exact", "icontains"]}


class MeterFilterSet(django_filters.FilterSet):
    """Meters by site, network and catalog model."""

    site = related(Site, "network__site", "Only this site's meters.")
    network = related(ChargingNetwork, "network", "Only this network's meter.")
    model = django_filters.ChoiceFilter(choices=[(key, key) for key in meter_model_keys()], help_text="Meter model key.")

    class Meta:
        model = Meter
        fields = ["site", "network", "model"]


class ChargerFilterSet(django_filters.FilterSet):
    """Chargers by site, network, driver and phase rotation."""

    site = related(Site, "network__site", "Only this site's chargers.")
    network = related(ChargingNetwork, "network", "Only this network's chargers.")
    driver = django_filters.ChoiceFilter(choices=[(key, key) for key in CHARGER_DRIVERS], help_text="Charger driver.")
    phase_rotation = django_filters.ChoiceFilter(choices=PHASE_ROTATION_CHOICES, help_text="Phase rotation.")

    class Meta:
        model = Charger
        fields = {"name": ["exact", "icontains"]}


class TelemetryEventFilterSet(django_filters.FilterSet):
    """Events by site, network, gateway, type and time range [from, to)."""

    site = related(Site, "gateway__site", "Only events of this site's gateways.")
    network = related(ChargingNetwork, "network", "Only events of this network.")
    gateway = related(Gateway, "gateway", "Only events of this gateway.")
    type = django_filters.MultipleChoiceFilter(choices=EventType.choices, help_text="Event type; repeat for several.")
    # `from` is a Python keyword, so the filter is declared through the class namespace.
    vars()["from"] = UtcDateTimeFilter(
        field_name="ts", lookup_expr="gte", help_text="Events at or after this time (ISO 8601)."
    )
    to = UtcDateTimeFilter(field_name="ts", lookup_expr="lt", help_text="Events before this time (ISO 8601).")

    class Meta:
        model = TelemetryEvent
        fields = ["site", "network", "gateway", "type", "from", "to"]
