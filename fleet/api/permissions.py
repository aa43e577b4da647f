"""Role permissions of the operator API: viewers read, operators and admins also write."""

from rest_framework.permissions import SAFE_METHODS, BasePermission

from fleet.services.tenancy import user_may_edit


class TenantRolePermission(BasePermission):
    """Reads for every member, writes only where the user holds an editing role.

    Which objects a user can reach at all is the queryset's business (the base
    viewset scopes it), so another tenant's object is a 404, never a 403: the
    answer must not reveal that the id exists.
    """

    message = "Your role in this organisation may only view, not change."

    def has_permission(self, request, view) -> bool:
        if not (request.user and request.user.is_authenticated):
            return False
        return request.method in SAFE_METHODS or user_may_edit(request.user, None)

    def has_object_permission(self, request, view, obj) -> bool:
        return request.method in SAFE_METHODS or user_may_edit(request.user, obj)
