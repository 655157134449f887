"""What `syncmon test` prints: a line per case, a diff and every rule's state for a failure;
or one JSON document for CI systems (its shape is documented in the README)."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum
from typing import Any

from syncmon.core.alerts import AlertState
from syncmon.core.durations import format_duration
from syncmon.core.exit_codes import ExitCode
from syncmon.core.metrics import format_value
from syncmon.core.rules import AlertRule
from syncmon.core.text import sanitize
from syncmon.core.timefmt import iso_utc
from syncmon.ruletest.cases import Case, ExpectedAlert
from syncmon.ruletest.compare import MomentResult
from syncmon.ruletest.replay import ORIGIN, RuleState


class CaseStatus(StrEnum):
    """How a test case ended."""

    PASSED = "passed"
    """Every expectation held."""
    FAILED = "failed"
    """An expectation did not hold (exit 1)."""
    ERROR = "error"
    """The case could not be run: its database was unreadable (exit 3)."""


@dataclass
class CaseResult:
    file: str
    case: Case
    rules: tuple[AlertRule, ...]
    seconds: float = 0.0
    moments: list[MomentResult] = field(default_factory=list)
    error: str | None = None  # the case could not be run (its database was unreadable)

    @property
    def status(self) -> CaseStatus:
        if self.error is not None:
            return CaseStatus.ERROR
        return CaseStatus.PASSED if all(m.ok for m in self.moments) else CaseStatus.FAILED

    @property
    def failures(self) -> list[MomentResult]:
        return [m for m in self.moments if not m.ok]


def exit_code(results: Sequence[CaseResult]) -> ExitCode:
    statuses = {r.status for r in results}
    if CaseStatus.ERROR in statuses:
        return ExitCode.UNKNOWN
    return ExitCode.WARNING if CaseStatus.FAILED in statuses else ExitCode.OK


def _offset(value: timedelta | None) -> str:
    return "0s" if value == timedelta(0) else format_duration(value) if value else ""


def _name(text: str) -> str:
    return sanitize(text, single_line=True, limit=120)


# -- text --------------------------------------------------------------------------------


def case_line(result: CaseResult) -> str:
    word = {CaseStatus.PASSED: "passed", CaseStatus.FAILED: "FAILED", CaseStatus.ERROR: "ERROR"}[
        result.status
    ]
    return (
        f"{result.file}:{result.case.line}: {_name(result.case.name)} ... {word} "
        f"({result.seconds:.2f}s)"
    )


def failure_text(result: CaseResult) -> list[str]:
    if result.error is not None:
        return [f"    {result.error}"]
    lines: list[str] = []
    for failure in result.failures:
        moment = failure.moment
        at = _offset(moment.expectation.at)
        answered = ""
        if moment.evaluated_at != moment.expectation.at:
            answered = f", answered by the evaluation at {_offset(moment.evaluated_at)}"
        lines.append(f"    at {at} ({result.file}:{moment.expectation.line}{answered}):")
        lines.append("      expected (-) and actual (+):")
        width = max(len(_name(line.name)) for line in failure.lines)
        for line in failure.lines:
            since = f"  since {_offset(line.since)}" if line.since is not None else ""
            text = f"      {line.sign} {line.state:<7}  {_name(line.name):<{width}}{since}"
            lines.append(text.rstrip())
        lines.append(f"      every rule at {at}:")
        lines += [f"        {text}" for text in _rule_lines(moment.rules, result)]
    return lines


def _rule_lines(rules: Sequence[RuleState], result: CaseResult) -> list[str]:
    conditions = {rule.name: rule.condition_text for rule in result.rules}
    width = max(len(_name(r.name)) for r in rules)
    lines = []
    for rule in rules:
        obs = rule.observation
        condition = rule.condition or conditions.get(rule.name, "")
        text = f"{_name(rule.name):<{width}}  {rule.state:<8}  {condition}"
        if obs is not None:
            text += f": {format_value(obs.value, obs.unit)}"
            if obs.reason:
                text += f" ({sanitize(obs.reason, single_line=True, limit=200)})"
            else:
                text += f", {_count(obs.samples, 'sample')}"
        if rule.since is not None:
            text += f", since {_offset(rule.since)}"
        lines.append(text)
    return lines


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" + ("" if number == 1 else "s")


def summary_lines(results: Sequence[CaseResult], seconds: float, files: int) -> list[str]:
    """The last line is the plain `N passed, N failed` that CI tools read."""
    passed = sum(r.status is CaseStatus.PASSED for r in results)
    failed = len(results) - passed
    return [
        f"{_count(len(results), 'case')} in {_count(files, 'file')}, {seconds:.1f}s "
        f"(t = 0 is {iso_utc(ORIGIN, ms=False, z=True)})",
        f"{passed} passed, {failed} failed",
    ]


# -- JSON --------------------------------------------------------------------------------


def _number(value: float | None) -> float | None:
    if value is None or math.isnan(value) or math.isinf(value):
        return None
    return round(value, 6)


def _seconds(value: timedelta | None) -> float | None:
    return None if value is None else value.total_seconds()


def _alerts(alerts: Sequence[ExpectedAlert | RuleState]) -> list[dict[str, Any]]:
    return [{"name": a.name, "since_seconds": _seconds(a.since)} for a in alerts]


def _failure_json(failure: MomentResult, result: CaseResult) -> dict[str, Any]:
    moment = failure.moment
    expectation = moment.expectation
    conditions = {rule.name: rule.condition_text for rule in result.rules}
    actual = {
        state.value: [r for r in moment.rules if r.state is state]
        for state in (AlertState.FIRING, AlertState.PENDING)
    }
    return {
        "at": _offset(expectation.at),
        "at_seconds": expectation.at.total_seconds(),
        "evaluated_at_seconds": moment.evaluated_at.total_seconds(),
        "line": expectation.line,
        "expected": {
            "firing": _alerts(expectation.firing),
            "pending": _alerts(expectation.pending),
            "nodata": sorted(expectation.nodata) if expectation.nodata is not None else None,
        },
        "actual": {
            "firing": _alerts(actual["firing"]),
            "pending": _alerts(actual["pending"]),
            "nodata": [r.name for r in moment.rules if r.state is AlertState.NODATA],
        },
        "rules": [
            {
                "name": r.name,
                "state": r.state,
                "condition": r.condition or conditions.get(r.name),
                "value": _number(r.observation.value) if r.observation else None,
                "threshold": _number(r.observation.threshold) if r.observation else None,
                "unit": r.observation.unit.value if r.observation else None,
                "samples": r.observation.samples if r.observation else 0,
                "since_seconds": _seconds(r.since),
                "note": r.observation.reason if r.observation else None,
            }
            for r in moment.rules
        ],
    }


def to_json(
    results: Sequence[CaseResult], seconds: float, errors: Sequence[str] = ()
) -> dict[str, Any]:
    code = ExitCode.UNKNOWN if errors else exit_code(results)
    status = {
        ExitCode.OK: "passed",
        ExitCode.WARNING: "failed",
        ExitCode.UNKNOWN: "invalid" if errors else "error",
    }[code]
    return {
        "status": status,
        "exit_code": int(code),
        "origin": iso_utc(ORIGIN, ms=False, z=True),
        "passed": sum(r.status is CaseStatus.PASSED for r in results),
        "failed": sum(r.status is not CaseStatus.PASSED for r in results),
        "seconds": round(seconds, 3),
        "errors": list(errors),
        "cases": [
            {
                "file": r.file,
                "line": r.case.line,
                "name": r.case.name,
                "status": r.status,
                "seconds": round(r.seconds, 3),
                "error": r.error,
                "failures": [_failure_json(f, r) for f in r.failures],
            }
            for r in results
        ],
    }


def render_json(results: Sequence[CaseResult], seconds: float, errors: Sequence[str] = ()) -> str:
    return json.dumps(to_json(results, seconds, errors), indent=2, ensure_ascii=False)
