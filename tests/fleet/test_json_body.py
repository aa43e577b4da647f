"""The nesting depth of a JSON text is found without recursion and agrees with the document's real depth."""

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fleet.json_body import (
    MAX_JSON_DEPTH,
    BodyTooLarge,
    JsonBodyInvalid,
    json_decode_reference,
    body_read,
    json_decode,
    json_nesting_depth,
)

# Strings full of what could fool a scanner: brackets, quotes, backslashes, non-ASCII.
tricky_text = st.text(alphabet=st.sampled_from('[]{}"\\\\ab é€😀\n'), max_size=8)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | tricky_text,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(tricky_text, children, max_size=4),
    max_leaves=40,
)


def real_depth(value) -> int:
    if isinstance(value, list):
        return 1 + max(map(real_depth, value), default=0)
    if isinstance(value, dict):
        return 1 + max(map(real_depth, value.values()), default=0)
    return 0


@settings(max_examples=500, deadline=None)
@given(value=json_values, ensure_ascii=st.booleans(), indent=st.sampled_from([None, 1]))
def test_the_depth_found_is_the_documents_depth(value, ensure_ascii, indent):
    text = json.dumps(value, ensure_ascii=ensure_ascii, indent=indent).encode()
    assert json_nesting_depth(text) == real_depth(value)


@pytest.mark.parametrize(
    "text, at_least",
    [
        # malformed: the count is at least as deep as the decoder would get before failing
        (b"[[[", 3), (b"[[[[]]]]]]][[", 4), (b"[{[{", 4), (b'["\\\\"[[', 3), (b'["\\"[[', 1), (b'"unterminated [[[', 0),
    ],
)
def test_malformed_texts_are_never_counted_shallower_than_the_decoder_goes(text, at_least):
    assert json_nesting_depth(text) >= at_least


def test_depth_at_the_limit_decodes_and_one_more_is_refused():
    assert json_decode(b"[" * MAX_JSON_DEPTH + b"]" * MAX_JSON_DEPTH) is not None
    with pytest.raises(JsonBodyInvalid, match=f"{MAX_JSON_DEPTH + 1} levels deep"):
        json_decode(b"[" * (MAX_JSON_DEPTH + 1) + b"]" * (MAX_JSON_DEPTH + 1))


class Stream:
    """A request body that records how much was read from it."""

    def __init__(self, body: bytes):
        self.body, self.read_bytes = body, 0

    def read(self, size: int) -> bytes:
        chunk = self.body[:size]
        self.read_bytes += len(chunk)
        return chunk


def test_a_body_is_read_no_further_than_one_byte_past_the_limit():
    stream = Stream(b"x" * 10_000)
    with pytest.raises(BodyTooLarge):
        body_read(stream, content_length=None, max_bytes=100)
    assert stream.read_bytes == 101


def test_an_announced_length_over_the_limit_is_refused_unread():
    stream = Stream(b"{}")
    with pytest.raises(BodyTooLarge, match="10000 bytes; at most 100"):
        body_read(stream, content_length=10_000, max_bytes=100)
    assert stream.read_bytes == 0


def decoded_or_error(decode, body: bytes) -> str:
    """What a decoder makes of a body, as text: the value's repr (so -0.0, 1 and 1.0 differ), or the error message."""
    try:
        return repr(decode(body))
    except JsonBodyInvalid as problem:
        return f"refused: {problem}"


# Texts near JSON: valid documents with a character changed, dropped or added, and the corners where decoders
# differ (NaN, huge integers and exponents, lone surrogates, bad UTF-8, a byte order mark, duplicate keys).
CORNERS = [b"NaN", b"-Infinity", b"18446744073709551616", b"-9223372036854775809", b"9223372036854775808", b"1e400",
           b"-0", b"-0.0", b'"\\ud800"', b'"\\udc00\\ud800"', b"\xff", b"\xed\xa0\x80", b"\xef\xbb\xbf", b'{"a":1,"a":2}',
           b"1.0000000000000000000001", b"0.1e-400", b'"\x01"', b'"\\u0000"', b"01", b"[1,]", b"", b" "]


@st.composite
def near_json(draw) -> bytes:
    text = json.dumps(draw(json_values), ensure_ascii=draw(st.booleans())).encode()
    for _ in range(draw(st.integers(0, 2))):
        at = draw(st.integers(0, len(text)))
        change = draw(st.sampled_from(CORNERS) | st.binary(max_size=2))
        text = text[:at] + change + text[at + draw(st.integers(0, 1)):]
    return text


@settings(max_examples=1000, deadline=None)
@given(body=near_json())
def test_the_fast_decoder_accepts_refuses_and_reads_exactly_as_the_stdlib_does(body):
    assert decoded_or_error(json_decode, body) == decoded_or_error(stdlib_decode, body)


def stdlib_decode(body: bytes):
    """The decoding as it was before orjson: the reference the fast path must match."""
    return json_decode_reference(body, max_depth=MAX_JSON_DEPTH)
