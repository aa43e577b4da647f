"""Writes name only fields the resource has: an unknown key is a 400, not silently dropped.

DRF ignores keys a serializer does not declare, so `fallback_power` (for
`fallback_power_w`) answered 200 and changed nothing: a limit the operator
believes set was never applied. The rule, the same for every writable
endpoint: a key that is one of the resource's fields is accepted, read-only
ones (`id`, `created_at`...) included and ignored, so the body of a GET can be
sent back in a PUT or PATCH; any other key is refused, under its own name,
with the likely intended field when one is close.
"""

from difflib import get_close_matches

from rest_framework import serializers

FORM_ONLY_KEYS = frozenset({"csrfmiddlewaretoken"})
"""Keys the browsable API's HTML forms add to every post; not data."""

MAX_KEYS_EXPLAINED = 20
"""A body of a megabyte could hold 100,000 made-up keys; the answer names the first ones, not all."""


class KnownFieldsOnlyMixin:
    """Refuses write data with keys that are not fields of the serializer, naming each one."""

    def to_internal_value(self, data):
        unknown = self._unknown_keys(data)
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as error:
            if unknown and isinstance(error.detail, dict):
                raise serializers.ValidationError({**error.detail, **unknown}) from None
            raise
        if unknown:
            raise serializers.ValidationError(unknown)
        return value

    def _unknown_keys(self, data) -> dict[str, list[str]]:
        """Each unknown key with the message that explains it."""
        if not hasattr(data, "keys"):
            return {}  # not an object: DRF's own "Expected a dictionary" error says so
        known = set(self.fields)
        unknown = [str(key) for key in data.keys() if key not in known and key not in FORM_ONLY_KEYS]
        writable = [name for name, field in self.fields.items() if not field.read_only]
        return {key: [_unknown_message(key, writable)] for key in unknown[:MAX_KEYS_EXPLAINED]}


def _unknown_message(key: str, writable: list[str]) -> str:
    guess = get_close_matches(key, writable, n=1, cutoff=0.6)
    if guess:
        return f'Unknown field; did you mean "{guess[0]}"?'
    return f"Unknown field; the writable fields are: {', '.join(writable)}."
