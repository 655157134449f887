"""The condition language: `METRIC OP NUMBER[UNIT]` joined by `and` / `or`.

`and` binds tighter than `or`, as in every language an engineer already knows. Thresholds
are converted to the metric's base unit at parse time (5% -> 0.05, 5s -> 5000 ms), so
evaluation never deals with units. They are rationals built from the text (`35%` is 35/100,
`2.01s` is 2010 ms), so a value equal to its threshold is on the side the operator wrote
(SPEC §15): an exact value (a `Fraction`) is compared exactly; a float (a mean of health
readings or latencies, inexact at its source) with the threshold's nearest float.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from fractions import Fraction

from syncmon.core.metrics import MetricDef, Unit, UnknownMetricError, lookup_metric

Number = Fraction | float
"""A metric value: exact (`Fraction`) when computed from counts, else a float."""

_ORDER: dict[str, Callable[[Number, Number], bool]] = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
}
OPERATORS = (*_ORDER, "==", "!=")


def compare(value: Number, op: str, threshold: Fraction) -> bool:
    """`value OP threshold`: exactly for a Fraction; a float against the nearest float, with
    `==`/`!=` tolerant of the rounding a float mean carries."""
    if isinstance(value, Fraction):
        if op == "==":
            return value == threshold
        if op == "!=":
            return value != threshold
        return _ORDER[op](value, threshold)
    near = float(threshold)
    if op in ("==", "!="):
        close = math.isclose(value, near, rel_tol=1e-9, abs_tol=1e-12)
        return close if op == "==" else not close
    return _ORDER[op](value, near)


_UNIT_SCALE = {"%": Fraction(1, 100), "ms": Fraction(1), "s": Fraction(1000), "m": Fraction(60_000)}
# Thresholds in the metric's base unit, as documented in the README ("Decisions"). Outside
# them a rule could never fire (5000%), or always would; `1e400` used to become infinity.
THRESHOLD_RANGES: dict[Unit, tuple[float, float, str]] = {
    Unit.RATIO: (0.0, 1.0, "a ratio is between 0% and 100%"),
    Unit.MS: (0.0, 7 * 86_400_000.0, "a duration is between 0ms and 7 days (10080m)"),
    Unit.COUNT: (0.0, 1e6, "a count is between 0 and 1000000"),
    Unit.PER_MIN: (0.0, 1e9, "a rate per minute is between 0 and 1000000000"),
    Unit.NUMBER: (-1e15, 1e15, "a reading is between -1e15 and 1e15"),
}
_UNITS_FOR = {
    Unit.RATIO: ("%",),
    Unit.MS: ("ms", "s", "m"),
    Unit.COUNT: (),
    Unit.PER_MIN: (),
    Unit.NUMBER: (),
}

_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<number>-?(?:\d+(?:\.\d*)?|\.\d+))(?P<unit>[A-Za-z]+|%)?
  | (?P<op>>=|<=|==|!=|>|<|=)
  | (?P<word>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_.\-]+)?)
  | (?P<other>.)
    """,
    re.VERBOSE,
)


# The condition's syntax as one regular expression (ECMA 262 too), for `syncmon schema`:
# editors flag a malformed condition as it is typed. Units and metric names are checked by
# `parse_condition` (and `syncmon validate`), not here.
_COMPARISON = (
    r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_.\-]+)?\s*(?:>=|<=|==|!=|>|<)\s*"
    r"-?(?:\d+(?:\.\d*)?|\.\d+)(?:%|ms|s|m)?"
)
CONDITION_PATTERN = rf"^\s*{_COMPARISON}(?:\s+(?:[aA][nN][dD]|[oO][rR])\s+{_COMPARISON})*\s*$"
TARGET_PATTERN = r"^\s*(?:>=|<=|==|!=|>|<)\s*-?(?:\d+(?:\.\d*)?|\.\d+)(?:%|ms|s|m)?\s*$"


class ConditionError(ValueError):
    """A malformed condition; `offset` is the 0-based column in the condition text."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset


@dataclass(frozen=True)
class Comparison:
    metric: MetricDef
    op: str
    exact: Fraction
    """The threshold in the metric's base unit, exactly as written."""
    text: str

    @property
    def threshold(self) -> float:
        """The threshold as a float, for display and JSON."""
        return float(self.exact)

    def holds(self, value: Number) -> bool:
        return compare(value, self.op, self.exact)

    def holds_within(self, low: Number, high: Number) -> bool | None:
        """Whether it holds for every value in [low, high] (True), for none (False), or
        cannot be told (None): for a value known only within bounds."""
        t = self.exact
        if self.op in ("==", "!="):
            if low == high == t:
                equal: bool | None = True
            elif t < low or t > high:
                equal = False
            else:
                equal = None
            return equal if equal is None or self.op == "==" else not equal
        at_low, at_high = self.holds(low), self.holds(high)
        return at_low if at_low == at_high else None


@dataclass(frozen=True)
class AllOf:
    parts: tuple[Condition, ...]


@dataclass(frozen=True)
class AnyOf:
    parts: tuple[Condition, ...]


Condition = Comparison | AllOf | AnyOf


@dataclass(frozen=True)
class _Token:
    kind: str
    text: str
    offset: int
    unit: str | None = None
    unit_offset: int = 0


def _tokenize(text: str) -> Iterator[_Token]:
    for match in _TOKEN.finditer(text):
        kind = match.lastgroup
        if kind == "unit":  # the unit group closes last when present
            kind = "number"
        if kind == "space":
            continue
        if kind == "number":
            yield _Token(
                "number",
                match.group("number"),
                match.start(),
                match.group("unit"),
                match.start("unit") if match.group("unit") else 0,
            )
        elif kind == "word" and match.group().lower() in ("and", "or"):
            yield _Token(match.group().lower(), match.group(), match.start())
        else:
            yield _Token(kind or "other", match.group(), match.start())


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = list(_tokenize(text))
        self.pos = 0

    def peek(self) -> _Token | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> _Token | None:
        token = self.peek()
        self.pos += 1
        return token

    def end_offset(self) -> int:
        return len(self.text.rstrip())

    def parse(self) -> Condition:
        if not self.tokens:
            raise ConditionError(
                "empty condition: expected METRIC OP NUMBER, e.g. sync_failure_rate > 5%", 0
            )
        condition = self.parse_or()
        extra = self.peek()
        if extra is not None:
            raise ConditionError(
                f"unexpected {extra.text!r}: join comparisons with 'and' or 'or'", extra.offset
            )
        return condition

    def parse_or(self) -> Condition:
        parts = [self.parse_and()]
        while (token := self.peek()) is not None and token.kind == "or":
            self.take()
            parts.append(self.parse_and())
        return parts[0] if len(parts) == 1 else AnyOf(tuple(parts))

    def parse_and(self) -> Condition:
        parts = [self.parse_comparison()]
        while (token := self.peek()) is not None and token.kind == "and":
            self.take()
            parts.append(self.parse_comparison())
        return parts[0] if len(parts) == 1 else AllOf(tuple(parts))

    def parse_comparison(self) -> Comparison:
        start = self.peek()
        word = self.take()
        if word is None:
            raise ConditionError("expected a metric name after 'and'/'or'", self.end_offset())
        if word.kind != "word":
            raise ConditionError(f"expected a metric name, found {word.text!r}", word.offset)
        try:
            metric = lookup_metric(word.text)
        except UnknownMetricError as exc:
            raise ConditionError(str(exc), word.offset) from None
        op = self.take()
        if op is None:
            raise ConditionError(
                f"expected an operator (> >= < <= == !=) after {word.text!r}", self.end_offset()
            )
        if op.kind != "op" or op.text not in OPERATORS:
            hint = " (use == for equality)" if op.text == "=" else ""
            raise ConditionError(
                f"expected an operator (> >= < <= == !=), found {op.text!r}{hint}", op.offset
            )
        number = self.take()
        if number is None:
            raise ConditionError(f"expected a number after {op.text!r}", self.end_offset())
        if number.kind != "number":
            raise ConditionError(f"expected a number, found {number.text!r}", number.offset)
        threshold = self._threshold(metric, number)
        assert start is not None
        end = number.offset + len(number.text) + len(number.unit or "")
        return Comparison(metric, op.text, threshold, self.text[start.offset : end])

    def _threshold(self, metric: MetricDef, token: _Token) -> Fraction:
        value = self._scaled(metric, token)
        low, high, rule = THRESHOLD_RANGES[metric.unit]
        if not low <= value <= high:  # also false for infinity
            written = token.text if len(token.text) <= 20 else f"{token.text[:12]}…"
            raise ConditionError(
                f"threshold {written}{token.unit or ''} is out of range for {metric.name}: {rule}",
                token.offset,
            )
        return value

    def _scaled(self, metric: MetricDef, token: _Token) -> Fraction:
        allowed = _UNITS_FOR[metric.unit]
        value = _decimal(token.text)
        if token.unit is None:
            if allowed:
                example = {"%": "5%", "ms": "500ms"}[allowed[0]]
                raise ConditionError(
                    f"{metric.name} is a {_unit_word(metric.unit)}: the threshold needs a unit "
                    f"({', '.join(allowed)}), e.g. {example}",
                    token.offset + len(token.text),
                )
            return value
        if token.unit not in allowed:
            expected = f"use {' or '.join(allowed)}" if allowed else "write a plain number"
            raise ConditionError(
                f"unit {token.unit!r} does not fit {metric.name}, a {_unit_word(metric.unit)}: "
                f"{expected}",
                token.unit_offset,
            )
        return value * _UNIT_SCALE[token.unit]


def _decimal(text: str) -> Fraction:
    """The decimal as written, not its nearest float; past Python's digit limit for exact
    parsing, its float (infinity for a huge one, so the range check refuses it)."""
    try:
        return Fraction(text)
    except ValueError:
        approx = float(text)
        return Fraction(approx) if math.isfinite(approx) else Fraction(10**400)


def _unit_word(unit: Unit) -> str:
    return {
        Unit.RATIO: "ratio",
        Unit.MS: "duration",
        Unit.COUNT: "count",
        Unit.PER_MIN: "rate per minute",
        Unit.NUMBER: "number",
    }[unit]


def parse_condition(text: str) -> Condition:
    """Parse and unit-check a condition, raising ConditionError with the offending column."""
    return _Parser(text).parse()


def comparisons(condition: Condition) -> list[Comparison]:
    """The comparisons of a condition, left to right."""
    if isinstance(condition, Comparison):
        return [condition]
    return [c for part in condition.parts for c in comparisons(part)]


def evaluate(condition: Condition, values: Mapping[str, Number]) -> bool:
    """Evaluate with every metric the condition names present in `values` (base units)."""
    if isinstance(condition, Comparison):
        return condition.holds(values[condition.metric.name])
    if isinstance(condition, AllOf):
        return all(evaluate(part, values) for part in condition.parts)
    return any(evaluate(part, values) for part in condition.parts)


def evaluate_within(
    condition: Condition,
    values: Mapping[str, Number],
    bounds: Mapping[str, tuple[Number, Number]],
) -> bool | None:
    """Three-valued (Kleene) evaluation where some metrics are known only within bounds
    (the since search's p95 from a histogram): None when the bounds cannot tell."""
    if isinstance(condition, Comparison):
        name = condition.metric.name
        if name in bounds:
            return condition.holds_within(*bounds[name])
        return condition.holds(values[name])
    results = [evaluate_within(part, values, bounds) for part in condition.parts]
    decisive = isinstance(condition, AnyOf)  # True settles `or`, False settles `and`
    if decisive in results:
        return decisive
    return None if None in results else not decisive
