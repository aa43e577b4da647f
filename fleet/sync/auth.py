"""Gateway authentication for the sync API: `Authorization: Bearer <gateway token>`."""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions, permissions

from fleet.models import Gateway
from fleet.services.gateway_tokens import gateway_authenticate


class GatewayPrincipal:
    """The authenticated caller of a sync request: a gateway, not a person."""

    is_authenticated = True
    is_active = True
    is_superuser = False
    is_staff = False

    def __init__(self, gateway: Gateway):
        self.gateway = gateway
        self.pk = None

    def __str__(self) -> str:
        return f"gateway {self.gateway.pk}"


class GatewayTokenAuthentication(authentication.BaseAuthentication):
    """Finds the gateway by its bearer token; an unknown or revoked token is refused."""

    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header:
            return None
        scheme, _, token = header.partition(" ")
        if scheme != self.keyword or not token.strip():
            raise exceptions.AuthenticationFailed("use 'Authorization: Bearer <gateway token>'")
        gateway = gateway_authenticate(token.strip())
        if gateway is None:
            raise exceptions.AuthenticationFailed("unknown or revoked gateway token")
        return GatewayPrincipal(gateway), gateway

    def authenticate_header(self, request) -> str:
        return self.keyword


class IsGateway(permissions.BasePermission):
    """Only gateways may use the sync endpoints."""

    def has_permission(self, request, view) -> bool:
        return isinstance(request.user, GatewayPrincipal)


class GatewayTokenScheme(OpenApiAuthenticationExtension):
    """Describes the gateway token in the OpenAPI document."""

    target_class = GatewayTokenAuthentication
    name = "gatewayToken"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "description": "A gateway's token, shown once when it is issued."}
