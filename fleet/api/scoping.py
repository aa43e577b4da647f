"""Which rows of a tenant-owned model a request may see or point at: the API's one scoping rule.

Every viewset, serializer relation and filter choice goes through
`scope_for_request`, so the API confines users exactly as the admin does
(`fleet.admin.scoping`): members see their organisations' data, editors
(operators and admins) may attach objects only to organisations they edit,
superusers see everything, and a request without a user sees nothing.
"""

from django.db.models import QuerySet

from fleet.models.tenancy import EDITING_ROLES
from fleet.services.tenancy import scope_to_organizations, user_organization_ids


def is_tenant_owned(model) -> bool:
    """Whether the model names a path to its organisation (see `fleet.models`)."""
    return isinstance(getattr(model, "tenant_path", None), str)


def scope_for_request(queryset: QuerySet, request, *, editing: bool = False) -> QuerySet:
    """Keep the rows the request's user may see, or with `editing`, may change or attach other objects to."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return queryset.none()
    if user.is_superuser:
        return queryset
    return scope_to_organizations(queryset, _organization_ids(request, editing))


def _organization_ids(request, editing: bool) -> set[int]:
    """The user's organisations, looked up once per request (a list view asks for every filter's choices)."""
    cache = request.__dict__.setdefault("_fuseguard_organization_ids", {})
    if editing not in cache:
        cache[editing] = user_organization_ids(request.user, EDITING_ROLES if editing else None)
    return cache[editing]


def visible_to_request(model):
    """A django-filter queryset callable: the model's rows the filtering user may see."""

    def queryset(request) -> QuerySet:
        return scope_for_request(model._default_manager.all(), request)

    return queryset
