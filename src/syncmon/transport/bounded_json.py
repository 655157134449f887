"""JSON from untrusted bytes (health bodies, the conflicts API, Alertmanager): bounded.

Python's `json` recurses once per nesting level, so a 2 KB body nested 1,100 deep raises
RecursionError wherever it is parsed. `decode` measures the depth first, without recursion
and at C speed (strings blanked by one regex, every byte but brackets dropped), and refuses
anything deeper than `MAX_DEPTH` before `json` sees it.

Numbers outside a double's range (`1e400`, a 400-digit integer, `NaN`, `Infinity`) do not
fail the document: each becomes an `OutOfRange` marker, so a caller rejects just the value
(or the one conflict) holding it and keeps the rest.
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass
from itertools import accumulate
from typing import Any

MAX_DEPTH = 64

_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_BRACKETS = b"[]{}"
_NOT_BRACKETS = bytes(b for b in range(256) if b not in _BRACKETS)
_STEP = [0] * 256
_STEP[ord("[")] = _STEP[ord("{")] = 1
_STEP[ord("]")] = _STEP[ord("}")] = -1
# The longest integer a double can hold has 309 digits; only longer ones need a closer look.
_SAFE_DIGITS = 308


class JsonRejected(ValueError):
    """Bytes that are not JSON, or JSON we refuse to read (too deep); the message says which."""


@dataclass(frozen=True)
class OutOfRange:
    """Stands in for a number no double can hold; `text` is how it was written (shortened)."""

    text: str

    def __str__(self) -> str:
        return f"{self.text} (out of range)"


def nesting_depth(data: bytes) -> int:
    """The deepest nesting of arrays and objects in `data`, brackets inside strings ignored."""
    if data.count(b"[") + data.count(b"{") == 0:
        return 0
    brackets = _STRING.sub(b'""', data).translate(None, _NOT_BRACKETS)
    return max(accumulate(map(_STEP.__getitem__, brackets)), default=0)


def decode(data: bytes | str, *, max_depth: int = MAX_DEPTH) -> Any:
    """Parse JSON, raising JsonRejected for invalid text or nesting deeper than `max_depth`.

    Out-of-range numbers come back as `OutOfRange` markers (see `first_out_of_range`).
    """
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    # Cheap bound first: fewer openers than the limit cannot nest deeper than it.
    if raw.count(b"[") + raw.count(b"{") > max_depth and nesting_depth(raw) > max_depth:
        raise JsonRejected(f"nested deeper than {max_depth} levels")
    try:
        return json.loads(
            data,
            parse_float=_float,
            parse_int=_int,
            parse_constant=_constant,
        )
    except RecursionError:  # unreachable after the depth check; kept as a last guard
        raise JsonRejected(f"nested deeper than {max_depth} levels") from None
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise JsonRejected(f"not JSON ({_short(exc)})") from None


def decode_strict(data: bytes | str, *, max_depth: int = MAX_DEPTH) -> Any:
    """Like `decode`, but a number out of range rejects the whole document."""
    document = decode(data, max_depth=max_depth)
    bad = first_out_of_range(document)
    if bad is not None:
        raise JsonRejected(f"number {bad.text} is outside a double's range")
    return document


def first_out_of_range(value: Any) -> OutOfRange | None:
    """The first `OutOfRange` marker inside `value`, searched without recursion."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, OutOfRange):
            return item
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return None


def _float(text: str) -> float | OutOfRange:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        return OutOfRange(_clip(text))
    return value


def _int(text: str) -> int | OutOfRange:
    if len(text) <= _SAFE_DIGITS:
        return int(text)
    try:
        value = int(text)  # past sys.int_info's digit limit this raises ValueError
        if abs(value) > sys.float_info.max:
            return OutOfRange(_clip(text))
    except ValueError:
        return OutOfRange(_clip(text))
    return value


def _constant(text: str) -> OutOfRange:
    return OutOfRange(text)  # NaN, Infinity, -Infinity: not JSON numbers at all


def _clip(text: str) -> str:
    return text if len(text) <= 24 else f"{text[:12]}…{text[-6:]}"


def _short(exc: ValueError) -> str:
    if isinstance(exc, json.JSONDecodeError):
        return f"{exc.msg}: line {exc.lineno}, column {exc.colno}"
    if isinstance(exc, UnicodeDecodeError):
        return f"invalid {exc.encoding} at byte {exc.start}"
    return str(exc)[:100]
