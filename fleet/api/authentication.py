"""Authentication of fleet tools by the hashed tokens people create on their profile page."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed

from fleet.services.api_tokens import TOKEN_PREFIX, api_token_user


class HashedTokenAuthentication(BaseAuthentication):
    """`Authorization: Token fgu_...`: a token from the profile page, looked up by its hash.

    Tokens without the `fgu_` prefix are left to DRF's TokenAuthentication
    (keys a superuser created in the admin under *Auth Token*), which follows.
    """

    keyword = "Token"

    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if len(parts) != 2 or parts[0].decode(errors="replace") != self.keyword:
            return None
        token = parts[1].decode(errors="replace")
        if not token.startswith(TOKEN_PREFIX):
            return None
        user = api_token_user(token)
        if user is None:
            raise AuthenticationFailed("Invalid token.")
        return user, None

    def authenticate_header(self, request) -> str:
        return self.keyword


class HashedTokenScheme(OpenApiAuthenticationExtension):
    """Describes the personal API token in the OpenAPI document."""

    target_class = HashedTokenAuthentication
    name = "personalToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Token fgu_...`: a token created on the dashboard's settings page, acting with its owner's role.",
        }
