"""Untrusted JSON is bounded (SPEC §12): depth, numbers out of range, invalid bytes."""

from __future__ import annotations

import pytest

from syncmon.transport.bounded_json import (
    MAX_DEPTH,
    JsonRejected,
    OutOfRange,
    decode,
    decode_strict,
    first_out_of_range,
    nesting_depth,
)
from syncmon.transport.net import FailureKind, failure_kind


def test_a_2kb_body_nested_1100_levels_is_rejected_not_a_recursion_error() -> None:
    body = b'{"status":"pass","x":' + b"[" * 1100 + b"]" * 1100 + b"}"
    assert len(body) < 2300
    with pytest.raises(JsonRejected, match="nested deeper than 64 levels"):
        decode(body)


def test_the_limit_is_64_levels_exactly() -> None:
    assert decode(b"[" * MAX_DEPTH + b"]" * MAX_DEPTH) is not None
    with pytest.raises(JsonRejected):
        decode(b"[" * (MAX_DEPTH + 1) + b"]" * (MAX_DEPTH + 1))
    with pytest.raises(JsonRejected):
        decode(b'{"a":' * (MAX_DEPTH + 1) + b"1" + b"}" * (MAX_DEPTH + 1))


def test_brackets_inside_strings_do_not_count() -> None:
    text = b'{"a": "' + b"[{" * 5000 + b'\\"[[[", "b": [1]}'
    assert nesting_depth(text) == 2
    assert decode(text)["b"] == [1]


def test_numbers_outside_a_double_are_rejected_per_value() -> None:
    document = decode(b'{"a": 1e400, "b": -1e400, "c": NaN, "d": ' + b"9" * 400 + b', "e": 2.5}')
    assert isinstance(document["a"], OutOfRange) and document["a"].text == "1e400"
    assert all(isinstance(document[k], OutOfRange) for k in "bcd")
    assert document["e"] == 2.5  # the rest of the document is intact
    assert first_out_of_range({"x": [1, {"y": document["d"]}]}) is document["d"]
    assert first_out_of_range({"x": [1, 2.0, "1e400"]}) is None
    assert decode(b"9" * 308) == int("9" * 308)  # still a double's range
    assert isinstance(decode(b"1" * 5000), OutOfRange)  # past Python's int digit limit


def test_strict_decoding_rejects_the_whole_document() -> None:
    with pytest.raises(JsonRejected, match="outside a double's range"):
        decode_strict(b'{"silenceID": 1e999}')


@pytest.mark.parametrize("raw", [b"", b"\xff\xfe\xfd", b'{"a":', b"<html>", b'"\\', b"\x00"])
def test_anything_that_is_not_json_is_rejected_with_a_reason(raw: bytes) -> None:
    with pytest.raises(JsonRejected, match="not JSON"):
        decode(raw)


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (None, FailureKind.TRANSIENT),  # refused, timed out
        (408, FailureKind.TRANSIENT),
        (429, FailureKind.TRANSIENT),
        (500, FailureKind.TRANSIENT),
        (503, FailureKind.TRANSIENT),
        (302, FailureKind.TRANSIENT),
        (400, FailureKind.PERMANENT),
        (401, FailureKind.PERMANENT),
        (404, FailureKind.PERMANENT),
        (422, FailureKind.PERMANENT),
    ],
)
def test_one_retry_rule_for_every_client(status: int | None, kind: FailureKind) -> None:
    assert failure_kind(status) is kind
