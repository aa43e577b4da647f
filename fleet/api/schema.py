"""OpenAPI details of the operator API that drf-spectacular cannot infer."""

from drf_spectacular.openapi import AutoSchema


class ResourceTaggedSchema(AutoSchema):
    """Tags each operation with its resource ("sites", "charging-networks"...) instead of the common "v1".

    Swagger UI groups operations by tag, so operators find an endpoint under
    its resource rather than in one long "v1" list.
    """

    def get_tags(self) -> list[str]:
        parts = [part for part in self._tokenize_path() if part != "v1"]
        return parts[:1] or super().get_tags()
