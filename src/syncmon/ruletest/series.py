"""promtool's expanding series notation, exactly, for numbers and for words.

`a+bxn` is the n+1 values a, a+b, …, a+n·b (`a-bxn` steps down); `axn` is `a+0xn`; `_` is
an interval with no value and `_xn` is n of them (a gap cannot step, so n, not n+1);
terms are separated by spaces. Words (`up`, `downx4`) repeat the same way. Every value
remembers the offset of the term it came from, so a later check can point at the term.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

MAX_VALUES = 100_000  # a guard against `1x999999999`: 69 days of one-minute intervals

_NUMBER = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?"
_UNSIGNED = r"(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?"
_NUMBER_TERM = re.compile(rf"^(?P<a>{_NUMBER})(?:(?:(?P<op>[+-])(?P<b>{_UNSIGNED}))?x(?P<n>\d+))?$")
_GAP_TERM = re.compile(r"^_(?:x(?P<n>\d+))?$")
_WORD_TERM = re.compile(r"^(?P<word>[A-Za-z]+?)(?:x(?P<n>\d+))?$")
_TERMS = re.compile(r"\S+")

T = TypeVar("T")


class SeriesError(ValueError):
    """A malformed series; `offset` is the 0-based position of the bad term in the text."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset


@dataclass(frozen=True)
class Sample(Generic[T]):
    """One interval's value (`None` for `_`) and where in the text it was written."""

    value: T | None
    offset: int


def expand_numbers(text: str) -> list[Sample[float]]:
    """Expand a numeric series such as `"0x29 6x29"` or `"900+10x59 _x5"`."""

    def term_values(term: str, so_far: int, offset: int) -> list[float]:
        parsed = _NUMBER_TERM.match(term)
        if parsed is None:
            raise SeriesError(_bad_term(term, "a number such as 30, 900+10x59 or _"), offset)
        a = float(parsed.group("a"))
        expanded = [a]
        if parsed.group("n") is not None:
            step = float(parsed.group("b") or 0.0)
            step = -step if parsed.group("op") == "-" else step
            count = _repeat(parsed.group("n"), so_far, offset)
            expanded = [a + i * step for i in range(count + 1)]
        if not math.isfinite(expanded[-1]):
            raise SeriesError(f"{term[:40]!r} goes outside a double's range", offset)
        return expanded

    return _expand(text, term_values)


def expand_words(text: str, words: Collection[str]) -> list[Sample[str]]:
    """Expand a series of words such as `"upx29 downx29"`; `words` are the allowed ones."""

    def term_values(term: str, so_far: int, offset: int) -> list[str]:
        parsed = _WORD_TERM.match(term)
        if parsed is None or parsed.group("word") not in words:
            allowed = " | ".join(sorted(words))
            raise SeriesError(_bad_term(term, f"{allowed} or _, e.g. upx29"), offset)
        count = 0
        if parsed.group("n") is not None:
            count = _repeat(parsed.group("n"), so_far, offset)
        return [parsed.group("word")] * (count + 1)

    return _expand(text, term_values)


def _expand(text: str, term_values: Callable[[str, int, int], list[T]]) -> list[Sample[T]]:
    """The terms of `text` in order: gaps (`_`, `_xn`) here, anything else by `term_values`."""
    samples: list[Sample[T]] = []
    for match in _terms(text):
        term, offset = match.group(), match.start()
        gap = _GAP_TERM.match(term)
        if gap:
            samples += _gaps(gap.group("n"), offset)
        else:
            samples += [Sample(v, offset) for v in term_values(term, len(samples), offset)]
        _check_size(samples, offset)
    return samples


def values(samples: Sequence[Sample[T]]) -> list[T | None]:
    return [s.value for s in samples]


def _terms(text: str) -> list[re.Match[str]]:
    terms = list(_TERMS.finditer(text))
    if not terms:
        raise SeriesError("the series is empty: give one value per interval, e.g. 30x59", 0)
    return terms


def _gaps(count_text: str | None, offset: int) -> list[Sample[T]]:
    count = 1 if count_text is None else int(count_text)
    if count > MAX_VALUES:
        raise SeriesError(f"more than {MAX_VALUES} intervals in one series", offset)
    return [Sample(None, offset)] * count


def _repeat(count_text: str, so_far: int, offset: int) -> int:
    count = int(count_text)
    if so_far + count + 1 > MAX_VALUES:
        raise SeriesError(f"more than {MAX_VALUES} intervals in one series", offset)
    return count


def _check_size(samples: Sequence[Sample[T]], offset: int) -> None:
    if len(samples) > MAX_VALUES:
        raise SeriesError(f"more than {MAX_VALUES} intervals in one series", offset)


def _bad_term(term: str, expected: str) -> str:
    if term == "stale":
        return (
            "'stale' (Prometheus' staleness marker) has no meaning for rows: "
            "use _ for an interval with nothing in it"
        )
    return f"cannot read {term[:40]!r}: expected {expected}"
