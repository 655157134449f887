"""Reading alerts.yaml into rules and sources, reporting every problem at once with its position."""

from __future__ import annotations

import difflib
import re
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path as FsPath
from typing import Any

from pydantic import BaseModel, ValidationError

from syncmon.config.files import read_config_file
from syncmon.config.models import DEFAULT_TARGETS, ConfigModel, RuleModel
from syncmon.config.redaction import MASK, redact, register_secret
from syncmon.config.series_checks import per_endpoint_problems
from syncmon.config.yaml_source import KEY, LoadedYaml, Path, Problem, load_yaml, text_position
from syncmon.core.conditions import Condition, ConditionError, parse_condition
from syncmon.core.durations import format_duration
from syncmon.core.rules import AlertRule, Severity

MAX_CONFIG_BYTES = 1024 * 1024
# Distinct rule windows one poll computes. Each window is a set of aggregates over the same
# scan, so the statement grows with their number: 32 cost 2x one window, 128 cost 16x and
# 512 cost 300x, in planning PostgreSQL does not interrupt (bench/many_windows.py).
MAX_WINDOWS = 32


class ConfigInvalid(Exception):
    """The config has problems; each is printed as `FILE:LINE:COLUMN: message`."""

    def __init__(self, problems: list[Problem]) -> None:
        # a message may quote a value a `${...}` secret was expanded into
        masked = [Problem(redact(p.file), p.line, p.column, redact(p.message)) for p in problems]
        self.problems = sorted(masked, key=lambda p: (p.line, p.column))
        super().__init__("\n".join(str(p) for p in self.problems))


@dataclass(frozen=True)
class Config:
    """A validated config: the raw model plus the rules and targets the core works with."""

    model: ConfigModel
    rules: tuple[AlertRule, ...]
    targets: dict[str, Condition]
    path: str | None


def load_config_text(text: str, filename: str, env: Mapping[str, str] | None = None) -> Config:
    loaded = load_yaml(text, filename, env)
    problems = list(loaded.problems)
    for secret in loaded.secrets:
        register_secret(secret)
    if loaded.data is None and problems:  # a syntax error: nothing more to check
        raise ConfigInvalid(problems)
    data = loaded.data
    if not isinstance(data, dict):
        pos = loaded.position(())
        raise ConfigInvalid(
            [
                Problem(
                    filename,
                    pos.line,
                    pos.column,
                    "the file must be a mapping with keys such as 'alerts:'",
                )
            ]
        )
    model: ConfigModel | None = None
    try:
        model = ConfigModel.model_validate(data)
    except ValidationError as exc:
        problems.extend(validation_problems(exc, loaded, filename))
    problems.extend(_duplicate_names(data, loaded, filename))
    if model is not None:
        problems.extend(_for_within_lookback(model, loaded, filename))
        problems.extend(_too_many_windows(model, loaded, filename))
        problems.extend(per_endpoint_problems(model, data, loaded, filename))
    targets, target_problems = _targets(data, loaded, filename)
    problems.extend(target_problems)
    if problems or model is None:
        kept = _without_echoes(problems, loaded.problems)
        raise ConfigInvalid([_secret_unquoted(p, loaded) for p in kept])
    raw_rules = data.get("alerts") or []
    rules = tuple(_rule(r, str(raw_rules[i]["condition"])) for i, r in enumerate(model.alerts))
    return Config(model, rules, targets, filename)


def load_config(path: str | FsPath, env: Mapping[str, str] | None = None) -> Config:
    """Load and validate a config file; raises ConfigInvalid (or OSError if unreadable)."""
    return load_config_bytes(read_config_file(path, MAX_CONFIG_BYTES + 1), str(path), env)


def load_config_bytes(data: bytes, filename: str, env: Mapping[str, str] | None = None) -> Config:
    """Any byte sequence gives a Config or ConfigInvalid with positions, never another error."""
    if len(data) > MAX_CONFIG_BYTES:
        raise ConfigInvalid(
            [Problem(filename, 1, 1, "the file is larger than 1 MiB; is it a syncmon config?")]
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = data[: exc.start].decode("utf-8")
        line, column = text_position(before, len(before))
        raise ConfigInvalid(
            [
                Problem(
                    filename,
                    line,
                    column,
                    f"not UTF-8 text: byte 0x{data[exc.start]:02x} ({exc.reason})",
                )
            ]
        ) from None
    return load_config_text(text, filename, env)


def _rule(model: RuleModel, condition_text: str) -> AlertRule:
    """The core's rule; its texts masked here, once, so no output can show a `${...}`
    secret expanded into them (redaction.py)."""
    condition: Any = model.condition
    return AlertRule(
        name=redact(model.name),
        condition_text=redact(condition_text.strip()),
        condition=condition,
        severity=Severity(model.severity),
        window=model.window,
        for_=model.for_,
        keep_firing_for=model.keep_firing_for,
        min_samples=model.min_samples,
        labels={k: redact(v) for k, v in model.labels.items()},
        annotations={k: redact(v) for k, v in model.annotations.items()},
    )


_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")


def _secret_unquoted(problem: Problem, loaded: LoadedYaml) -> Problem:
    """A message about a value a `${...}` secret went into quotes no part of it: the
    condition parser would quote `hunter2` out of `hunter2-secret`, which `redact` (whole
    values only) cannot recognise."""
    if problem.line not in loaded.secret_lines:
        return problem
    return replace(problem, message=_QUOTED.sub(lambda _: MASK, problem.message))


def _without_echoes(problems: list[Problem], yaml_problems: list[Problem]) -> list[Problem]:
    """Drop validation errors about a value the YAML layer already reported (a bad tag)."""
    reported = {(p.line, p.column) for p in yaml_problems}
    return [p for p in problems if p in yaml_problems or (p.line, p.column) not in reported]


def _duplicate_names(data: dict[str, Any], loaded: LoadedYaml, filename: str) -> list[Problem]:
    rules = data.get("alerts")
    seen: dict[str, int] = {}
    problems = []
    for index, rule in enumerate(rules if isinstance(rules, list) else []):
        name = rule.get("name") if isinstance(rule, dict) else None
        if not isinstance(name, str):
            continue
        if name in seen:
            pos = loaded.position(("alerts", index, "name"))
            first = loaded.position(("alerts", seen[name], "name"))
            problems.append(
                Problem(
                    filename,
                    pos.line,
                    pos.column,
                    f"duplicate rule name {name!r} (first used at line "
                    f"{first.line}); names must be unique",
                )
            )
        else:
            seen[name] = index
    return problems


def _for_within_lookback(model: ConfigModel, loaded: LoadedYaml, filename: str) -> list[Problem]:
    """`since` is searched over the lookback, so a longer `for` could never be confirmed."""
    lookback = model.evaluation.lookback
    problems = []
    for index, rule in enumerate(model.alerts):
        for_ = rule.for_
        if for_ > lookback:
            pos = loaded.position(("alerts", index, "for"))
            problems.append(
                Problem(
                    filename,
                    pos.line,
                    pos.column,
                    f"for: {format_duration(for_)} is longer than evaluation.lookback "
                    f"({format_duration(lookback)}): the condition could never be confirmed "
                    "for that long; raise evaluation.lookback or shorten for",
                )
            )
    return problems


def _too_many_windows(model: ConfigModel, loaded: LoadedYaml, filename: str) -> list[Problem]:
    """The first rule whose window is one too many, with the nearest window already in use."""
    seen: list[timedelta] = []
    beyond: list[int] = []
    for index, rule in enumerate(model.alerts):
        if rule.window in seen:
            continue
        if len(seen) < MAX_WINDOWS:
            seen.append(rule.window)
        else:
            beyond.append(index)
    if not beyond:
        return []
    first = model.alerts[beyond[0]].window
    nearest = min(seen, key=lambda w: (abs(w - first), w))
    more = {model.alerts[i].window for i in beyond}
    pos = loaded.position(("alerts", beyond[0], "window"))
    return [
        Problem(
            filename,
            pos.line,
            pos.column,
            f"window: {format_duration(first)} is distinct window number {MAX_WINDOWS + 1}; "
            f"a poll computes at most {MAX_WINDOWS} distinct rule windows (the rules use "
            f"{MAX_WINDOWS + len(more)}): reuse a window, e.g. {format_duration(nearest)}",
        )
    ]


def _targets(
    data: dict[str, Any], loaded: LoadedYaml, filename: str
) -> tuple[dict[str, Condition], list[Problem]]:
    """Targets are `metric: "> 99%"`; checked as the condition `metric > 99%`."""
    given = data.get("targets")
    if not isinstance(given, dict):
        given = {}
    given = {k: v for k, v in given.items() if isinstance(v, str)}
    merged = {**DEFAULT_TARGETS, **given}
    targets: dict[str, Condition] = {}
    problems = []
    for metric, text in merged.items():
        source = f"{metric} {text}"
        try:
            targets[metric] = parse_condition(source)
        except ConditionError as exc:
            if metric not in given:
                raise  # a default target that does not parse is a bug, not a user error
            in_key = exc.offset < len(metric)
            path: Path = ("targets", metric, KEY) if in_key else ("targets", metric)
            pos = loaded.position(path)
            offset = exc.offset if in_key else exc.offset - len(metric) - 1 + int(pos.quoted)
            problems.append(
                Problem(
                    filename,
                    pos.line,
                    pos.column + max(0, offset),
                    f"target for {metric}: {exc.message}",
                )
            )
    return targets, problems


def validation_problems(
    exc: ValidationError, loaded: LoadedYaml, filename: str, root: type[BaseModel] = ConfigModel
) -> list[Problem]:
    """pydantic's errors as positioned problems; `root` is the model that was validated."""
    problems = []
    for error in exc.errors(include_url=False):
        loc: tuple[Any, ...] = tuple(error["loc"])
        kind = error["type"]
        ctx = error.get("ctx") or {}
        if loc and loc[-1] == "[key]":
            loc = (*loc[:-1], KEY)
        if kind == "extra_forbidden":
            key = loc[-1]
            valid = _field_names(loc[:-1], root)
            close = difflib.get_close_matches(str(key), valid, n=1, cutoff=0.6)
            hint = (
                f"; did you mean {close[0]!r}?"
                if close
                else (f"; valid keys: {', '.join(valid)}" if valid else "")
            )
            pos = loaded.position((*loc, KEY))
            message = f"unknown key {key!r}{hint}"
        elif kind == "missing":
            pos = loaded.position(loc[:-1])
            message = f"missing required key {loc[-1]!r}"
        else:
            pos = loaded.position(loc)
            column_offset = 0
            if "offset" in ctx:
                column_offset = int(ctx["offset"]) + int(pos.quoted)
            message = _message(error, loc)
            problems.append(Problem(filename, pos.line, pos.column + column_offset, message))
            continue
        problems.append(Problem(filename, pos.line, pos.column, message))
    return problems


def _message(error: Any, loc: tuple[Any, ...]) -> str:
    names = [str(p) for p in loc if p != KEY and not isinstance(p, int)]
    field = (names[-1] if names and names[0] == "alerts" else ".".join(names)) or "value"
    kind = error["type"]
    if kind in ("condition", "duration", "label", "url", "path", "zone", "dsn"):
        return f"{field}: {error['msg']}"
    if kind == "literal_error":
        return f"{field}: {error['msg'].replace('Input should be', 'must be')}"
    if kind.endswith("_type") or kind in ("string_type", "dict_type", "list_type"):
        got = type(error.get("input")).__name__
        got = {"NoneType": "nothing", "dict": "a mapping", "list": "a list"}.get(got, got)
        expected = error["msg"].replace("Input should be", "must be")
        return f"{field}: {expected} (got {got})"
    return f"{field}: {error['msg']}"


def _field_names(loc: tuple[Any, ...], root: type[BaseModel]) -> list[str]:
    """Valid keys of the model found by following `loc` from the top-level model."""
    annotation: Any = root
    for part in loc:
        annotation = _unwrap(annotation)
        if isinstance(part, int):
            args = typing.get_args(annotation)
            annotation = args[0] if args else None
            continue
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            fields = annotation.model_fields
            match = next((f for n, f in fields.items() if part in (n, f.alias)), None)
            annotation = match.annotation if match else None
        elif typing.get_origin(annotation) is dict:  # a key of a map: its value's model
            annotation = typing.get_args(annotation)[1]
        else:
            return []
    annotation = _unwrap(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [f.alias or n for n, f in annotation.model_fields.items()]
    return []


def _unwrap(annotation: Any) -> Any:
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        candidates = [a for a in typing.get_args(annotation) if a is not type(None)]
        return _unwrap(candidates[0]) if candidates else annotation
    return annotation
