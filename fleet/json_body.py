"""Request bodies read with a size limit and JSON decoded with a nesting limit: the parsing of both APIs.

Python's `json` recurses once per nesting level, so a body of 100,000 opening
brackets ends in a RecursionError (a 500), and DRF's parsers read whatever
Content-Length announces. Here a body is read only up to the endpoint's byte
limit (beyond it: 413), its nesting depth is measured without recursion before
it is decoded (beyond `MAX_JSON_DEPTH`: 400), and NaN and Infinity, which are
not JSON, are refused. The operator API uses `JsonBodyParser` and
`BoundedFormParser`; the gateway sync API calls `json_body_read` with its own
byte limit.

Decoding is orjson's (about three times the stdlib's speed: a telemetry batch
is a megabyte), with the stdlib decoder as the reference: any body orjson
refuses, or that holds an integer orjson would read differently, is decoded
the stdlib way, so what is accepted and every error message are as before.

Django's `DATA_UPLOAD_MAX_MEMORY_SIZE` (2.5 MB) does not apply here: it is
checked only when `request.body` is read, and DRF hands the parsers the unread
stream. It stays in force for the admin's forms.
"""

from __future__ import annotations

import json
import re
from itertools import accumulate
from typing import Any

import orjson
from django.conf import settings
from django.http import QueryDict
from rest_framework import status
from rest_framework.exceptions import APIException, ParseError
from rest_framework.parsers import BaseParser, FormParser

MAX_JSON_DEPTH = 32
"""Deepest nesting of arrays and objects accepted. The deepest legitimate body, a telemetry batch, has 6
levels (batch, items, item, chargers, charger, current_a); the operator API's bodies have 1 or 2."""

_ALL_BUT_QUOTES_AND_BRACKETS = bytes(byte for byte in range(256) if byte not in b'"[]{}')
_ONE_KIND_OF_BRACKET = bytes.maketrans(b"{}", b"[]")  # depth does not care which kind; the decoder checks pairing
_STRING = re.compile(rb'"[^"]*"')
_DEPTH_STEP = [0] * 256
_DEPTH_STEP[ord("[")] = 1
_DEPTH_STEP[ord("]")] = -1

_LONG_DIGIT_RUN = b"0" * 19
"""orjson reads integers beyond 64 bits (19 digits can already be one, below -2^63) as floats, the stdlib exactly."""
_DIGITS_AS_ZERO = bytes(ord("0") if chr(byte).isdigit() and byte < 128 else ord(" ") for byte in range(256))


class JsonBodyInvalid(ValueError):
    """The body is not JSON we accept: not UTF-8, malformed, or nested too deeply; the message says which."""


class BodyTooLarge(ValueError):
    """The body (JSON or form) is larger than the endpoint accepts."""


class PayloadTooLarge(APIException):
    """DRF's answer to a body over the limit: 413."""

    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "payload_too_large"


def declared_length(parser_context: dict | None) -> int | None:
    """The Content-Length the client announced, if any (DRF puts the request into the parser context)."""
    request = (parser_context or {}).get("request")
    raw = request.META.get("CONTENT_LENGTH") if request is not None else None
    try:
        return int(raw) if raw else None
    except ValueError:
        return None


def body_read(stream, *, content_length: int | None, max_bytes: int) -> bytes:
    """Read the whole body, refusing it before reading when it announces more than `max_bytes`."""
    if content_length is not None and content_length > max_bytes:
        raise BodyTooLarge(f"The request body is {content_length} bytes; at most {max_bytes} are accepted.")
    body = stream.read(max_bytes + 1) if stream is not None else b""
    if len(body) > max_bytes:
        raise BodyTooLarge(f"The request body is larger than {max_bytes} bytes, the most accepted.")
    return body


def json_nesting_depth(body: bytes) -> int:
    """How deeply arrays and objects nest in a UTF-8 JSON text, found without recursion.

    Escaped backslashes and quotes are dropped first (left to right, as JSON
    pairs them), so every remaining quote opens or closes a string; then all
    but quotes and brackets, then the strings. What is left are the brackets
    the decoder sees: up to its first syntax error it tokenises the same way, so
    it never nests deeper than the depth found here. Every step is a bytes
    operation in C: a few milliseconds for a 7 MB telemetry batch, against some
    300 ms to decode it.
    """
    unescaped = body.replace(b"\\\\", b"").replace(b'\\"', b"") if b"\\" in body else body
    # Empty strings are most strings once their text is gone; dropping `""` first spares the regex most matches
    # (a `""` that closes one string and opens the next merges the two, which changes nothing outside them).
    quotes_and_brackets = unescaped.translate(_ONE_KIND_OF_BRACKET, _ALL_BUT_QUOTES_AND_BRACKETS).replace(b'""', b"")
    brackets = _STRING.sub(b"", quotes_and_brackets)
    # Each pass drops the innermost pairs, one level of a balanced sequence; a bracket left after as many
    # passes as we accept means too deep or unbalanced, and the running sum then gives the exact depth.
    peeled = brackets
    for depth in range(MAX_JSON_DEPTH + 1):
        if not peeled:
            return depth
        peeled = peeled.replace(b"[]", b"")
    return max(accumulate(map(_DEPTH_STEP.__getitem__, brackets)), default=0)


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not a JSON value")


def json_decode(body: bytes, *, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """Decode a UTF-8 JSON document whose nesting is at most `max_depth` levels.

    orjson decodes what it accepts exactly as the stdlib does (strict UTF-8,
    last of duplicate keys, the same floats), except integers beyond 64 bits,
    so a body with a run of 19 digits anywhere, or one orjson refuses (NaN,
    lone surrogates the stdlib lets through for the validators to name, bad
    UTF-8, malformed text), goes the stdlib way with its precise message.
    """
    if json_nesting_depth(body) <= max_depth and _LONG_DIGIT_RUN not in body.translate(_DIGITS_AS_ZERO):
        try:
            return orjson.loads(body)
        except orjson.JSONDecodeError:
            pass
    return json_decode_reference(body, max_depth=max_depth)


def json_decode_reference(body: bytes, *, max_depth: int) -> Any:
    """The reference decoding: UTF-8 first, then the depth, then the stdlib's decoder without NaN and Infinity."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as problem:
        raise JsonBodyInvalid(f"is not UTF-8 text: {problem}") from None
    depth = json_nesting_depth(body)  # UTF-8 never uses quote or bracket bytes inside other characters
    if depth > max_depth:
        raise JsonBodyInvalid(f"nests arrays and objects {depth} levels deep; at most {max_depth} are accepted")
    try:
        return json.loads(text, parse_constant=_refuse_constant)
    except ValueError as problem:  # JSONDecodeError, NaN/Infinity, integers beyond Python's digit limit
        raise JsonBodyInvalid(f"is not valid JSON: {problem}") from None


def json_body_read(stream, *, content_length: int | None, max_bytes: int, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """Read and decode a JSON body within both limits; raises `BodyTooLarge` or `JsonBodyInvalid`."""
    return json_decode(body_read(stream, content_length=content_length, max_bytes=max_bytes), max_depth=max_depth)


class JsonBodyParser(BaseParser):
    """The operator API's JSON parser: at most `API_MAX_BODY_BYTES`, at most `MAX_JSON_DEPTH` levels."""

    media_type = "application/json"

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return json_body_read(stream, content_length=declared_length(parser_context), max_bytes=settings.API_MAX_BODY_BYTES)
        except BodyTooLarge as problem:
            raise PayloadTooLarge(str(problem)) from None
        except JsonBodyInvalid as problem:
            raise ParseError(f"The request body {problem}") from None


class BoundedFormParser(FormParser):
    """URL-encoded forms (the browsable API's HTML forms) within `API_MAX_BODY_BYTES`.

    DRF's own form parser reads the whole body whatever its size; the number
    of fields stays bounded by Django's `DATA_UPLOAD_MAX_NUMBER_FIELDS`.
    """

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            body = body_read(stream, content_length=declared_length(parser_context), max_bytes=settings.API_MAX_BODY_BYTES)
        except BodyTooLarge as problem:
            raise PayloadTooLarge(str(problem)) from None
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        return QueryDict(body, encoding=encoding)

