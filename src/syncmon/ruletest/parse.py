"""Reading a `syncmon test` file with `validate`'s habits: safe YAML, positions for every value,
duplicate and unknown keys caught, and every problem reported at once as FILE:LINE:COLUMN."""

from __future__ import annotations

import difflib
import os
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path as FsPath
from typing import Any, NamedTuple

from pydantic import ValidationError

from syncmon.config.files import read_config_file
from syncmon.config.loader import (
    MAX_CONFIG_BYTES,
    Config,
    ConfigInvalid,
    load_config,
    validation_problems,
)
from syncmon.config.yaml_source import LoadedYaml, Path, Problem, load_yaml
from syncmon.core.durations import format_duration
from syncmon.ruletest.case_values import CaseSeries, CaseValues
from syncmon.ruletest.cases import Case, Expectation, ExpectedAlert, RuleTestFile
from syncmon.ruletest.file_model import (
    CaseModel,
    ExpectationModel,
    ExpectedAlertModel,
    RuleTestFileModel,
)

MAX_ROWS_PER_CASE = 1_000_000


def load_test_file(path: str | FsPath) -> RuleTestFile:
    """Parse and check one test file and its rule files; raises ConfigInvalid (all problems)."""
    filename = str(path)
    try:
        data = read_config_file(path, MAX_CONFIG_BYTES + 1)
        if len(data) > MAX_CONFIG_BYTES:
            raise ConfigInvalid([Problem(filename, 1, 1, "the file is larger than 1 MiB")])
        text = data.decode("utf-8")
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
        series = CaseSeries(self, base)
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
        interval = model.interval or evaluation_interval
        expectations = [
            self.expectation((*base, "expect", k), e, rules, interval * length if length else None)
            for k, e in enumerate(model.expect)
        ]
        if len(self.problems) > before:
            return None
        check = CaseValues(self, base, length)
        built = Case(
            name=model.name,
            line=self.loaded.position((*base, "name")).line,
            interval=interval,
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
        self,
        path: Path,
        model: ExpectationModel,
        rules: list[str] | None,
        series_end: timedelta | None,
    ) -> Expectation | None:
        if series_end is not None and model.at > series_end:
            self.problem(
                (*path, "at"),
                f"at: {format_duration(model.at)} is past the end of the case's series "
                f"({format_duration(series_end)}): nothing is written there, so every rule "
                "would be nodata; extend the series (with _ for intervals without rows)",
            )

        def alerts(key: str, given: list[ExpectedAlertModel]) -> tuple[ExpectedAlert, ...]:
            for k, alert in enumerate(given):
                self.rule_name((*path, key, k, "name"), alert.name, rules)
                if alert.since is not None and alert.since > model.at:  # SPEC §15
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
        """A rule's name, or one of its alerts' (`Health Endpoint Down (sync)`, SPEC §15)."""
        rule, sep, values = name.rpartition(" (")
        if rules is None or name in rules or (sep and values.endswith(")") and rule in rules):
            return
        close = difflib.get_close_matches(name, rules, n=1, cutoff=0.6)
        hint = f"; did you mean {close[0]!r}?" if close else f"; rules: {', '.join(rules)}"
        self.problem(path, f"no rule named {name!r} in the rule files{hint}")
