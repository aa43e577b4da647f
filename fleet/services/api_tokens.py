"""People's API tokens for fleet tools: issued on the profile page, shown once, stored as SHA-256 hashes.

Like the gateway tokens (`gateway_tokens`), each carries 256 bits of
randomness, so a fast hash suffices and a request is one indexed lookup.
"""

from __future__ import annotations

import hashlib
import secrets

from django.utils import timezone

from fleet.models import ApiToken

TOKEN_PREFIX = "fgu_"
_PREFIX_SHOWN_CHARS = 10
LAST_USED_RESOLUTION_S = 60
"""`last_used_at` is written at most once a minute per token, so a busy tool does not write on every request."""


def token_hash(token: str) -> str:
    """The stored form of a token."""
    return hashlib.sha256(token.encode()).hexdigest()


def api_token_issue(user, name: str) -> tuple[ApiToken, str]:
    """Create a token named `name` for `user`; return the row and the token in clear (the only time it exists)."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken.objects.create(user=user, name=name, token_hash=token_hash(token), token_prefix=token[:_PREFIX_SHOWN_CHARS])
    return row, token


def api_token_revoke(user, token_id: int) -> bool:
    """Delete one of the user's own tokens; False when they have no such token."""
    deleted, _ = ApiToken.objects.filter(user=user, pk=token_id).delete()
    return bool(deleted)


def api_token_user(token: str):
    """The active user a presented token belongs to, or None; notes when the token was last used."""
    row = ApiToken.objects.select_related("user").filter(token_hash=token_hash(token)).first()
    if row is None or not row.user.is_active:
        return None
    now = timezone.now()
    if row.last_used_at is None or (now - row.last_used_at).total_seconds() > LAST_USED_RESOLUTION_S:
        ApiToken.objects.filter(pk=row.pk).update(last_used_at=now)
    return row.user
