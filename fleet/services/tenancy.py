"""Who may see and change which organisation's data."""

from django.db.models import Model, QuerySet

from fleet.models import Membership, Organization
from fleet.models.tenancy import EDITING_ROLES, Role


def user_organization_ids(user, roles: tuple[str, ...] | None = None) -> set[int]:
    """Ids of the organisations the user belongs to, optionally only those where they hold one of `roles`."""
    if not user.is_authenticated or not user.is_active:
        return set()
    memberships = Membership.objects.filter(user=user)
    if roles is not None:
        memberships = memberships.filter(role__in=roles)
    return set(memberships.values_list("organization_id", flat=True))


def organization_of(obj: Model) -> Organization | None:
    """Follow the model's `tenant_path` from an instance to its organisation."""
    path = type(obj).tenant_path
    current = obj
    for step in filter(None, path.split("__")):
        current = getattr(current, step, None)
        if current is None:
            return None
    return current


def scope_to_organizations(queryset: QuerySet, organization_ids: set[int]) -> QuerySet:
    """Keep only the rows of a tenant-owned model that belong to the given organisations."""
    path = queryset.model.tenant_path
    lookup = f"{path}__in" if path else "pk__in"
    return queryset.filter(**{lookup: organization_ids})


def user_may_edit(user, obj: Model | None) -> bool:
    """Whether the user may change `obj` (or, with None, add objects to at least one organisation)."""
    if user.is_superuser:
        return True
    editable = user_organization_ids(user, EDITING_ROLES)
    if obj is None:
        return bool(editable)
    organization = organization_of(obj)
    return organization is not None and organization.pk in editable


def user_is_organization_admin(user, organization: Organization) -> bool:
    """Whether the user administers this organisation (its name and its members)."""
    return user.is_superuser or organization.pk in user_organization_ids(user, (Role.ADMIN,))
