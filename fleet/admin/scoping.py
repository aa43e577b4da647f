"""The one place where the admin confines a user to their organisations.

Every admin and inline in FuseGuard derives from these classes. They filter
querysets by the model's `tenant_path`, offer only the user's own objects in
foreign-key choices (so a form cannot point at another tenant's site), and
derive permissions from membership roles instead of Django's per-model
permissions: viewers look, operators and admins change.
"""

from django.contrib import admin
from django.db.models import Model

from fleet.services.tenancy import (
    scope_to_organizations,
    user_may_edit,
    user_organization_ids,
)
from fleet.models.tenancy import EDITING_ROLES


class TenantScopedMixin:
    """Scoping and role-based permissions shared by model admins and inlines."""

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        return scope_to_organizations(queryset, user_organization_ids(request.user))

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        related_model = db_field.remote_field.model
        if hasattr(related_model, "tenant_path") and not request.user.is_superuser:
            editable = user_organization_ids(request.user, EDITING_ROLES)
            kwargs["queryset"] = scope_to_organizations(related_model._default_manager.all(), editable)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_module_permission(self, request) -> bool:
        return request.user.is_superuser or bool(user_organization_ids(request.user))

    def has_view_permission(self, request, obj: Model | None = None) -> bool:
        if request.user.is_superuser:
            return True
        if obj is None:
            return bool(user_organization_ids(request.user))
        return scope_to_organizations(type(obj)._default_manager.filter(pk=obj.pk), user_organization_ids(request.user)).exists()

    def has_add_permission(self, request, obj: Model | None = None) -> bool:
        # For inlines Django passes the parent object; for model admins, none.
        return user_may_edit(request.user, obj)

    def has_change_permission(self, request, obj: Model | None = None) -> bool:
        return user_may_edit(request.user, obj)

    def has_delete_permission(self, request, obj: Model | None = None) -> bool:
        return user_may_edit(request.user, obj)


class TenantScopedAdmin(TenantScopedMixin, admin.ModelAdmin):
    """Base for every tenant-owned model's admin."""

    def has_add_permission(self, request) -> bool:  # ModelAdmin's signature has no obj
        return user_may_edit(request.user, None)


class TenantScopedTabularInline(TenantScopedMixin, admin.TabularInline):
    """Base for tabular inlines of tenant-owned models."""


class TenantScopedStackedInline(TenantScopedMixin, admin.StackedInline):
    """Base for stacked inlines of tenant-owned models."""
