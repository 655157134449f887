"""Reading a `syncmon test` file with `validate`'s habits: safe YAML, positions for every value,
duplicate and unknown keys caught, and every problem reported at once as FILE:LINE:COLUMN."""

from __future__ import annotations

import difflib
import math
import os
from collections.abc import Callable, Sequence
from datetime import timedelta
from pathlib import Path as FsPath
from typing import Any, NamedTuple, TypeVar

from pydantic import ValidationError

from syncmon.config.loader import Config, ConfigInvalid, load_config, validation_problems
from syncmon.config.yaml_source import LoadedYaml, Path, Problem, load_yaml
from syncmon.ruletest.cases import (
    ENDPOINT_STATUSES,
    Case,
    ConflictInput,
    EndpointInput,
    Expectation,
    ExpectedAlert,
    HealthInput,
    PerformanceInput,
    RuleTestFile,
)
from syncmon.ruletest.file_model import (
    CaseModel,
    ConflictModel,
    ExpectationModel,
    ExpectedAlertModel,
    HealthModel,
    PerformanceModel,
    RuleTestFileModel,
)
from syncmon.ruletest.series import Sample, SeriesError, expand_numbers, expand_words

MAX_ROWS_PER_CASE = 1_000_000
MAX_INT4 = 2**31 - 1
DEFAULT_ERROR_MESSAGE = "failed (syncmon test)"
T = TypeVar("T")


def load_test_file(path: str | FsPath) -> RuleTestFile:
    """Parse and check one test file and its rule files; raises ConfigInvalid (all problems)."""
    filename = str(path)
    try:
        text = FsPath(path).read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigInvalid([Problem(filename, 1, 1, f"not UTF-8 text: {exc.reason}")]) from None
    except OSError as exc:
        raise ConfigInvalid([Problem(filename, 1, 1, f"cannot read: {exc.strerror}")]) from None
    loaded = load_yaml(text, filename, env={})  # a test never depends on the environment
    if loaded.data is None and loaded.problems:
        raise ConfigInvalid(loaded.problems)
    reader = _Reader(loaded, filename)
    if not isinstance(loaded.data, dict):
        reader.problem((), "the file must be a mapping with rule_files:, tests: …")
        raise ConfigInvalid(reader.problems)
    model: RuleTestFileModel | _Salvaged | None
    try:
        model = RuleTestFileModel.model_validate(loaded.data)
    except ValidationError as exc:
        reader.problems += validation_problems(exc, loaded, filename, RuleTestFileModel)
        model = _salvage(loaded.data)  # the well-formed parts still get every other check
        if model is None:
            raise ConfigInvalid(reader.problems) from None
    config = reader.rule_files(model.rule_files, FsPath(filename).parent)
    names = [rule.name for rule in config.rules] if config else None
    cases = [
        reader.case(i, case, model.evaluation_interval, names)
        for i, case in enumerate(model.tests)
        if case is not None
    ]
    if reader.problems or config is None:
        raise ConfigInvalid(reader.problems)
    return RuleTestFile(
        filename, config, model.evaluation_interval, tuple(c for c in cases if c is not None)
    )


class _Salvaged(NamedTuple):
    rule_files: list[str]
    evaluation_interval: timedelta
    tests: list[CaseModel | None]


def _salvage(data: dict[str, Any]) -> _Salvaged | None:
    """The header and the cases that are valid on their own, from a file that is not."""
    fields = RuleTestFileModel.model_fields
    try:
        header = RuleTestFileModel.model_validate(
            {**{k: v for k, v in data.items() if k in fields}, "tests": [_EMPTY_CASE]}
        )
    except ValidationError:
        return None
    cases: list[CaseModel | None] = []
    tests = data.get("tests")
    for raw in tests if isinstance(tests, list) else []:
        try:
            cases.append(CaseModel.model_validate(raw))
        except ValidationError:
            cases.append(None)
    return _Salvaged(header.rule_files, header.evaluation_interval, cases)


_EMPTY_CASE = {"name": "-", "expect": [{"at": "0s"}]}


class _Reader:
    def __init__(self, loaded: LoadedYaml, filename: str) -> None:
        self.loaded = loaded
        self.filename = filename
        self.problems: list[Problem] = list(loaded.problems)

    def problem(self, path: Path, message: str, offset: int | None = None) -> None:
        """A problem at `path`'s value, or at the term `offset` characters into it."""
        pos = self.loaded.position(path)
        column = pos.column if offset is None else pos.column + int(pos.quoted) + offset
        self.problems.append(Problem(self.filename, pos.line, column, message))

    # -- rule files ------------------------------------------------------------------------

    def rule_files(self, names: Sequence[str], base: FsPath) -> Config | None:
        configs: list[Config] = []
        for index, name in enumerate(names):
            path = os.path.normpath(base / name)
            try:
                configs.append(load_config(path))
            except ConfigInvalid as exc:
                self.problems += exc.problems
            except OSError as exc:
                self.problem(
                    ("rule_files", index), f"rule file {path}: cannot read: {exc.strerror}"
                )
        if len(configs) < len(names):
            return None
        seen: dict[str, str] = {}
        for index, config in enumerate(configs):
            for rule in config.rules:
                if rule.name in seen:
                    self.problem(
                        ("rule_files", index),
                        f"rule {rule.name!r} is also in {seen[rule.name]}: names must be unique",
                    )
                seen.setdefault(rule.name, str(config.path))
            pattern = config.model.sources.database.plaid_operation_pattern
            first = configs[0].model.sources.database.plaid_operation_pattern
            if pattern != first:
                self.problem(
                    ("rule_files", index),
                    f"plaid_operation_pattern {pattern!r} differs from {first!r} in "
                    f"{configs[0].path}: one test runs one pattern",
                )
        if not seen:
            self.problem(("rule_files",), "the rule files hold no rules to test")
        first_config = configs[0]
        rules = tuple(rule for config in configs for rule in config.rules)
        return Config(first_config.model, rules, first_config.targets, first_config.path)

    # -- cases -----------------------------------------------------------------------------

    def case(
        self, index: int, model: CaseModel, evaluation_interval: timedelta, rules: list[str] | None
    ) -> Case | None:
        before = len(self.problems)
        base: Path = ("tests", index)
        series = _CaseSeries(self, base)
        inputs = model.input
        perf = [
            (
                item,
                series.numbers(("sync_performance_metrics", j, "count"), item.count),
                series.numbers(("sync_performance_metrics", j, "failures"), item.failures),
                series.numbers(("sync_performance_metrics", j, "duration_ms"), item.duration_ms),
            )
            for j, item in enumerate(inputs.sync_performance_metrics)
        ]
        conflicts = [
            (
                item,
                series.numbers(("conflict_resolution_history", j, "count"), item.count),
                series.numbers(
                    ("conflict_resolution_history", j, "auto_resolved"), item.auto_resolved
                ),
            )
            for j, item in enumerate(inputs.conflict_resolution_history)
        ]
        health = [
            (
                item,
                series.numbers(("sync_health_metrics", j, "value"), item.value),
                series.numbers(("sync_health_metrics", j, "count"), item.count),
            )
            for j, item in enumerate(inputs.sync_health_metrics)
        ]
        endpoints = [
            (
                name,
                series.words(("endpoints", name, "status"), spec.status),
                series.numbers(("endpoints", name, "latency_ms"), spec.latency_ms),
                series.numbers(
                    ("endpoints", name, "missing_security_headers"), spec.missing_security_headers
                ),
            )
            for name, spec in model.endpoints.items()
        ]
        length = series.check_lengths()
        expectations = [
            self.expectation((*base, "expect", k), e, rules) for k, e in enumerate(model.expect)
        ]
        if len(self.problems) > before:
            return None
        check = _Values(self, base, length)
        built = Case(
            name=model.name,
            line=self.loaded.position((*base, "name")).line,
            interval=model.interval or evaluation_interval,
            intervals=length,
            performance=tuple(check.performance(j, *p) for j, p in enumerate(perf)),
            conflicts=tuple(check.conflicts(j, *c) for j, c in enumerate(conflicts)),
            health=tuple(check.health(j, *h) for j, h in enumerate(health)),
            endpoints=tuple(check.endpoint(*e) for e in endpoints),
            expectations=tuple(e for e in expectations if e is not None),
        )
        if len(self.problems) > before:
            return None
        if built.rows > MAX_ROWS_PER_CASE:
            self.problem(
                (*base, "name"), f"{built.rows} rows: a case may write {MAX_ROWS_PER_CASE} at most"
            )
            return None
        return built

    def expectation(
        self, path: Path, model: ExpectationModel, rules: list[str] | None
    ) -> Expectation | None:
        def alerts(key: str, given: list[ExpectedAlertModel]) -> tuple[ExpectedAlert, ...]:
            for k, alert in enumerate(given):
                self.rule_name((*path, key, k, "name"), alert.name, rules)
                if alert.since is not None and alert.since > model.at:
                    self.problem(
                        (*path, key, k, "since"), "since: later than `at`, so it cannot be true"
                    )
            return tuple(ExpectedAlert(a.name, a.since) for a in given)

        firing, pending = alerts("firing", model.firing), alerts("pending", model.pending)
        for k, name in enumerate(model.nodata or []):
            self.rule_name((*path, "nodata", k), name, rules)
        both = {a.name for a in firing} & {a.name for a in pending}
        for name in sorted(both):
            self.problem(path, f"{name!r} is expected both firing and pending")
        nodata = frozenset(model.nodata) if model.nodata is not None else None
        line = self.loaded.position((*path, "at")).line
        return Expectation(model.at, firing, pending, nodata, line)

    def rule_name(self, path: Path, name: str, rules: list[str] | None) -> None:
        if rules is None or name in rules:
            return
        close = difflib.get_close_matches(name, rules, n=1, cutoff=0.6)
        hint = f"; did you mean {close[0]!r}?" if close else f"; rules: {', '.join(rules)}"
        self.problem(path, f"no rule named {name!r} in the rule files{hint}")


class _CaseSeries:
    """Expands a case's series, remembering each one's path so lengths can be compared."""

    def __init__(self, reader: _Reader, base: Path) -> None:
        self.reader = reader
        self.base = base
        self.lengths: list[tuple[Path, int]] = []

    def _expand(
        self, where: Path, text: str | None, expand: Callable[[str], list[Sample[T]]]
    ) -> list[Sample[T]] | None:
        if text is None:
            return None
        path = self.path(where)
        try:
            samples = expand(text)
        except SeriesError as exc:
            self.reader.problem(path, f"{where[-1]}: {exc.message}", exc.offset)
            return None
        self.lengths.append((path, len(samples)))
        return samples

    def path(self, where: Path) -> Path:
        """`where` is relative to the case's `input:`, or starts with `endpoints`."""
        if where[0] == "endpoints":
            return (*self.base, *where)
        return (*self.base, "input", *where)

    def numbers(self, where: Path, text: str | None) -> list[Sample[float]] | None:
        return self._expand(where, text, expand_numbers)

    def words(self, where: Path, text: str) -> list[Sample[str]] | None:
        return self._expand(where, text, lambda t: expand_words(t, ENDPOINT_STATUSES))

    def check_lengths(self) -> int:
        """Every series of a case covers the same intervals; a short one is an error."""
        if not self.lengths:
            return 0
        longest_path, longest = max(self.lengths, key=lambda item: item[1])
        line = self.reader.loaded.position(longest_path).line
        for path, length in self.lengths:
            if length != longest:
                self.reader.problem(
                    path,
                    f"{path[-1]}: {length} values, but the series at line {line} has "
                    f"{longest}: every series of a case covers the same intervals "
                    "(promtool's notation: 30x59 is 60 values)",
                )
        return longest


class _Values:
    """Value checks once every series has the case's length."""

    def __init__(self, reader: _Reader, base: Path, length: int) -> None:
        self.reader = reader
        self.base = base
        self.length = length

    def whole(
        self,
        path: Path,
        samples: list[Sample[float]] | None,
        default: int = 0,
        maximum: int = MAX_INT4,
    ) -> tuple[int, ...]:
        if samples is None:
            return (default,) * self.length
        out: list[int] = []
        for sample in samples:
            value = sample.value
            if value is None:
                out.append(0)
            elif value < 0 or value != math.floor(value) or value > maximum:
                self.reader.problem(
                    path,
                    f"{path[-1]}: {value:g} is not a whole number from 0 to {maximum}",
                    sample.offset,
                )
                out.append(0)
            else:
                out.append(int(value))
        return tuple(out)

    def at_most(
        self, path: Path, samples: list[Sample[float]] | None, part: tuple[int, ...], whole: str
    ) -> tuple[int, ...]:
        """A part (failures, auto_resolved) never exceeds the rows of its interval."""
        parts = self.whole(path, samples)
        for i, (value, rows) in enumerate(zip(parts, part, strict=True)):
            if value > rows and samples is not None:
                self.reader.problem(
                    path,
                    f"{path[-1]}: {value} in interval {i}, which has only {rows} rows ({whole})",
                    samples[i].offset,
                )
                break
        return parts

    def performance(
        self,
        j: int,
        item: PerformanceModel,
        counts: list[Sample[float]] | None,
        failures: list[Sample[float]] | None,
        durations: list[Sample[float]] | None,
    ) -> PerformanceInput:
        path = (*self.base, "input", "sync_performance_metrics", j)
        rows = self.whole((*path, "count"), counts)
        self.no_gaps_with_rows((*path, "duration_ms"), durations, rows)
        return PerformanceInput(
            operation_type=item.operation_type,
            counts=rows,
            failures=self.at_most((*path, "failures"), failures, rows, "count"),
            durations=self.whole((*path, "duration_ms"), durations),
            error_message=item.error_message or DEFAULT_ERROR_MESSAGE,
        )

    def conflicts(
        self,
        j: int,
        item: ConflictModel,
        counts: list[Sample[float]] | None,
        auto: list[Sample[float]] | None,
    ) -> ConflictInput:
        path = (*self.base, "input", "conflict_resolution_history", j)
        rows = self.whole((*path, "count"), counts)
        return ConflictInput(
            item.resolution_type, rows, self.at_most((*path, "auto_resolved"), auto, rows, "count")
        )

    def health(
        self,
        j: int,
        item: HealthModel,
        values: list[Sample[float]] | None,
        counts: list[Sample[float]] | None,
    ) -> HealthInput:
        path = (*self.base, "input", "sync_health_metrics", j)
        readings = tuple(s.value for s in values or [])
        if counts is None:
            rows = tuple(0 if v is None else 1 for v in readings)
        else:
            rows = self.whole((*path, "count"), counts)
            self.no_gaps_with_rows((*path, "value"), values, rows)
        return HealthInput(item.metric_type, rows, readings)

    def endpoint(
        self,
        name: str,
        statuses: list[Sample[str]] | None,
        latencies: list[Sample[float]] | None,
        missing: list[Sample[float]] | None,
    ) -> EndpointInput:
        path = (*self.base, "endpoints", name)
        for sample in latencies or []:
            if sample.value is not None and sample.value < 0:
                self.reader.problem(
                    (*path, "latency_ms"), "latency_ms: must be 0 or more", sample.offset
                )
                break
        return EndpointInput(
            name,
            tuple(s.value for s in statuses or []),
            tuple(s.value for s in latencies) if latencies else (None,) * self.length,
            self.whole((*path, "missing_security_headers"), missing, maximum=4),
        )

    def no_gaps_with_rows(
        self, path: Path, samples: list[Sample[float]] | None, rows: tuple[int, ...]
    ) -> None:
        for sample, count in zip(samples or [], rows, strict=False):
            if sample.value is None and count > 0:
                self.reader.problem(
                    path, f"{path[-1]}: _ in an interval that has {count} rows", sample.offset
                )
                return
