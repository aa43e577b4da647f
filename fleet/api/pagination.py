"""Pagination of every list in the operator API: `limit` and `offset`, checked rather than guessed.

DRF's own limit/offset pagination falls back to the default page on a bad
value (`limit=-1` quietly means 100) and passes any size to the database
(`limit=99999999999999999999999` overflowed PostgreSQL's bigint: a 500). Here
a value that is not a whole number within its range is a 400 naming the
parameter, and a page holds at most `MAX_PAGE_SIZE` rows.
"""

import re

from rest_framework.exceptions import ValidationError
from rest_framework.pagination import LimitOffsetPagination

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000
"""Largest `limit`: a page of the widest resource stays well under a megabyte and a second of work."""

MAX_OFFSET = 10**15
"""Largest `offset`: more rows than any table here will hold, and `offset + limit` stays within a bigint."""

_WHOLE_NUMBER = re.compile(r"[0-9]{1,50}")


def query_whole_number(request, name: str, *, default: int, minimum: int, maximum: int) -> int:
    """A whole-number query parameter within [minimum, maximum]; absent means `default`, anything else is a 400."""
    raw = request.query_params.get(name)
    if raw is None:
        return default
    if not _WHOLE_NUMBER.fullmatch(raw):
        raise ValidationError({name: [f"Must be a whole number from {minimum} to {maximum}, not {raw[:40]!r}."]})
    value = int(raw)
    if not minimum <= value <= maximum:
        raise ValidationError({name: [f"Must be from {minimum} to {maximum}, not {value}."]})
    return value


class BoundedLimitOffsetPagination(LimitOffsetPagination):
    """`?limit=` rows (default 100, at most 1000) from `?offset=`; out-of-range values are refused, not ignored."""

    default_limit = DEFAULT_PAGE_SIZE
    max_limit = MAX_PAGE_SIZE
    limit_query_description = f"Rows per page, 1 to {MAX_PAGE_SIZE} (default {DEFAULT_PAGE_SIZE})."
    offset_query_description = "Index of the first row to return, from 0 (default 0)."

    def get_limit(self, request) -> int:
        return query_whole_number(request, self.limit_query_param, default=self.default_limit, minimum=1, maximum=self.max_limit)

    def get_offset(self, request) -> int:
        return query_whole_number(request, self.offset_query_param, default=0, minimum=0, maximum=MAX_OFFSET)

    def get_schema_operation_parameters(self, view) -> list[dict]:
        parameters = super().get_schema_operation_parameters(view)
        bounds = {
            self.limit_query_param: {"minimum": 1, "maximum": self.max_limit, "default": self.default_limit},
            self.offset_query_param: {"minimum": 0, "maximum": MAX_OFFSET, "default": 0},
        }
        for parameter in parameters:
            parameter["schema"].update(bounds.get(parameter["name"], {}))
        return parameters
