"""Model admins for operators, all scoped through fleet.admin.scoping."""

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model

from fleet.admin.forms import ChargerInlineFormSet, MeterForm
from fleet.admin.scoping import (
    TenantScopedAdmin,
    TenantScopedStackedInline,
    TenantScopedTabularInline,
)
from fleet.models import (
    Charger,
    ChargingNetwork,
    Gateway,
    Membership,
    Meter,
    NetworkPowerCap,
    NetworkRecurringCap,
    Organization,
    Role,
    Site,
)
from fleet.services.gateway_tokens import gateway_issue_token, gateway_revoke_token
from fleet.services.power_cap_end import CapNotChanged, power_cap_end
from gateways.protocol.limits import WEEKDAYS
from fleet.services.tenancy import user_is_organization_admin, user_organization_ids


@admin.register(Organization)
class OrganizationAdmin(TenantScopedAdmin):
    """Organisations: members see theirs; only their admins rename them; only superusers create or delete."""

    list_display = ["name", "slug", "created_at"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}

    def has_add_permission(self, request) -> bool:
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None) -> bool:
        return request.user.is_superuser or (obj is not None and user_is_organization_admin(request.user, obj))

    def has_delete_permission(self, request, obj=None) -> bool:
        return request.user.is_superuser


class MemberByUsernameForm(forms.ModelForm):
    """A membership named by the person's user name: an organisation admin sees only their own members, never the user list."""

    username = forms.CharField(max_length=150, help_text="The user name of an existing account (superusers create accounts).")

    class Meta:
        model = Membership
        fields = ["organization", "role"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["username"].initial = self.instance.user.get_username()

    def clean_username(self):
        username = self.cleaned_data["username"]
        user = get_user_model().objects.filter(username=username, is_active=True).first()
        if user is None:
            raise forms.ValidationError("No active account has this user name; a superuser creates accounts.")
        self.instance.user = user
        return username

    def clean(self):
        cleaned = super().clean()
        user, organization = getattr(self.instance, "user", None), cleaned.get("organization")
        if "username" in cleaned and organization is not None:
            others = Membership.objects.filter(user=user, organization=organization).exclude(pk=self.instance.pk)
            if others.exists():
                self.add_error("username", "This person is already a member of the organisation.")
        return cleaned


@admin.register(Membership)
class MembershipAdmin(TenantScopedAdmin):
    """Who belongs to which organisation: members see the list; the organisation's admins and superusers manage it."""

    list_display = ["user", "organization", "role"]
    list_filter = ["role", "organization"]
    search_fields = ["user__username", "user__email", "organization__name"]
    autocomplete_fields = ["user"]

    def get_form(self, request, obj=None, change=False, **kwargs):
        if not request.user.is_superuser:
            kwargs["form"] = MemberByUsernameForm
            kwargs["fields"] = ["username", "organization", "role"]
        return super().get_form(request, obj, change=change, **kwargs)

    def get_autocomplete_fields(self, request):
        return self.autocomplete_fields if request.user.is_superuser else []

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "organization" and not request.user.is_superuser:
            kwargs["queryset"] = Organization.objects.filter(pk__in=user_organization_ids(request.user, (Role.ADMIN,)))
            return db_field.formfield(**kwargs)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_add_permission(self, request) -> bool:
        return request.user.is_superuser or bool(user_organization_ids(request.user, (Role.ADMIN,)))

    def has_change_permission(self, request, obj=None) -> bool:
        if obj is None:
            return self.has_add_permission(request)
        return user_is_organization_admin(request.user, obj.organization)

    def has_delete_permission(self, request, obj=None) -> bool:
        return self.has_change_permission(request, obj)


class ChargingNetworkInline(TenantScopedTabularInline):
    """The networks of a site, linked to their own pages where meter and chargers are edited."""

    model = ChargingNetwork
    fields = ["name", "max_current_per_phase_a", "max_power_w", "fallback_power_w"]
    show_change_link = True
    extra = 0


@admin.register(Site)
class SiteAdmin(TenantScopedAdmin):
    """Sites of the user's organisations."""

    list_display = ["name", "organization", "time_zone", "created_at"]
    list_filter = ["organization", "time_zone"]
    search_fields = ["name", "address"]
    inlines = [ChargingNetworkInline]


@admin.register(Gateway)
class GatewayAdmin(TenantScopedAdmin):
    """Gateways: tokens are issued from here and shown once."""

    list_display = ["name", "site", "token_prefix", "token_state", "last_seen", "software_version"]
    list_filter = ["site__organization", "site"]
    search_fields = ["name", "site__name"]
    readonly_fields = ["token_prefix", "token_revoked_at", "last_seen", "software_version", "created_at"]
    actions = ["issue_token", "revoke_token"]

    @admin.display(description="token")
    def token_state(self, gateway: Gateway) -> str:
        """Whether the gateway can authenticate now."""
        if gateway.has_active_token:
            return "active"
        return "revoked" if gateway.token_hash else "none issued"

    def save_model(self, request, obj, form, change) -> None:
        super().save_model(request, obj, form, change)
        if not change:
            token = gateway_issue_token(obj)
            self.message_user(request, f"Token for {obj}: {token} (shown once; copy it now).", messages.WARNING)

    @admin.action(description="Issue a new token (the old one stops working)")
    def issue_token(self, request, queryset) -> None:
        for gateway in queryset:
            if self.has_change_permission(request, gateway):
                token = gateway_issue_token(gateway)
                self.message_user(request, f"Token for {gateway}: {token} (shown once; copy it now).", messages.WARNING)

    @admin.action(description="Revoke the token")
    def revoke_token(self, request, queryset) -> None:
        for gateway in queryset:
            if self.has_change_permission(request, gateway):
                gateway_revoke_token(gateway)
        self.message_user(request, "Tokens revoked.")


class MeterInline(TenantScopedStackedInline):
    """The network's grid meter (at most one)."""

    model = Meter
    form = MeterForm
    max_num = 1
    extra = 0


class ChargerInline(TenantScopedTabularInline):
    """The network's chargers, checked together against the fallback power."""

    model = Charger
    formset = ChargerInlineFormSet
    fields = ["name", "driver", "host", "port", "unit_id", "charge_point_id", "connector_id", "password", "phase_rotation",
              "phases", "min_current_a", "max_current_a", "priority"]
    extra = 0


class PowerCapInline(TenantScopedTabularInline):
    """A network's external caps; the gateway applies each by its own clock from start to end."""

    model = NetworkPowerCap
    fields = ["source", "power_w", "start", "end", "reason"]
    extra = 0
    ordering = ["-start"]


class RecurringCapForm(forms.ModelForm):
    """A weekly window with its days as tick boxes."""

    days = forms.MultipleChoiceField(choices=[(day, day.capitalize()) for day in WEEKDAYS],
                                     widget=forms.CheckboxSelectMultiple, help_text="Days the window starts on.")

    class Meta:
        model = NetworkRecurringCap
        fields = ["network", "source", "power_w", "days", "start_time", "end_time", "reason"]


class RecurringCapInline(TenantScopedTabularInline):
    """A network's weekly windows (tariff windows), judged by the gateway on the site's wall clock."""

    model = NetworkRecurringCap
    form = RecurringCapForm
    fields = ["source", "power_w", "days", "start_time", "end_time", "reason"]
    extra = 0


@admin.register(ChargingNetwork)
class ChargingNetworkAdmin(TenantScopedAdmin):
    """Charging networks with their meter, chargers and external power caps edited inline."""

    list_display = ["name", "site", "max_current_per_phase_a", "max_power_w", "fallback_power_w", "charger_count"]
    list_filter = ["site__organization", "site"]
    search_fields = ["name", "site__name"]
    inlines = [MeterInline, ChargerInline, PowerCapInline, RecurringCapInline]

    @admin.display(description="chargers")
    def charger_count(self, network: ChargingNetwork) -> int:
        """How many chargers the network has."""
        return network.chargers.count()


@admin.register(NetworkPowerCap)
class NetworkPowerCapAdmin(TenantScopedAdmin):
    """External caps across the user's networks: grid operator dimming, operators' caps, schedules."""

    list_display = ["network", "source", "power_w", "start", "end", "reason"]
    list_filter = ["source", "network__site__organization"]
    search_fields = ["reason", "network__name", "network__site__name"]
    date_hierarchy = "start"
    actions = ["end_now"]

    @admin.action(description="End the selected caps now (the gateway lifts them at its next config poll)")
    def end_now(self, request, queryset) -> None:
        ended, refused = 0, []
        for cap in queryset.select_related("network"):
            if not self.has_change_permission(request, cap):
                refused.append(f"{cap}: your role may only view it")
                continue
            try:
                power_cap_end(cap)
                ended += 1
            except CapNotChanged as refusal:
                refused.append(f"{cap}: {refusal}")
        if ended:
            self.message_user(request, f"Ended {ended} cap(s).")
        for line in refused:
            self.message_user(request, f"Not ended: {line}", messages.WARNING)


@admin.register(NetworkRecurringCap)
class NetworkRecurringCapAdmin(TenantScopedAdmin):
    """Weekly windows across the user's networks, in each site's local time."""

    form = RecurringCapForm
    list_display = ["network", "source", "power_w", "days", "start_time", "end_time", "reason"]
    list_filter = ["source", "network__site__organization"]
    search_fields = ["reason", "network__name", "network__site__name"]


@admin.register(Meter)
class MeterAdmin(TenantScopedAdmin):
    """Grid meters across the user's networks."""

    form = MeterForm
    list_display = ["network", "model", "host", "port", "unit_id", "phase_rotation"]
    list_filter = ["model", "network__site__organization"]
    search_fields = ["host", "network__name", "network__site__name"]


@admin.register(Charger)
class ChargerAdmin(TenantScopedAdmin):
    """Chargers across the user's networks."""

    list_display = ["name", "network", "driver", "host", "phases", "phase_rotation", "min_current_a", "max_current_a", "priority"]
    list_filter = ["driver", "phases", "network__site__organization"]
    search_fields = ["name", "host", "network__name", "network__site__name"]
