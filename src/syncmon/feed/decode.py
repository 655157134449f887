"""The viewers' side of the wire: `decode` trusts nothing in a state document. Every field is
checked, and anything malformed (a wrong URL, a proxy's page, tampering) raises
`StateInvalid` instead of reaching the screen."""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from syncmon.core.alerts import AlertState, Observation, Verdict
from syncmon.core.conditions import parse_condition
from syncmon.core.endpoints import EndpointResult
from syncmon.core.episodes import Since
from syncmon.core.metrics import (
    ConflictAggregates,
    EndpointStatus,
    MetricValue,
    PerformanceAggregates,
    Source,
    Unit,
)
from syncmon.core.rules import AlertRule, Severity
from syncmon.core.silences import Silence, SilenceRead
from syncmon.core.timefmt import parse_iso
from syncmon.feed.wire import MAX_ITEMS, SCHEMA, ChartState, RuleState, StateInvalid, WatcherState


def _get(
    data: Mapping[str, Any], key: str, kind: type | tuple[type, ...], optional: bool = False
) -> Any:
    value = data.get(key)
    if value is None and optional:
        return None
    if isinstance(value, bool) and kind in (int, float, (int, float)):
        raise StateInvalid(f"{key}: expected a number")
    if not isinstance(value, kind):
        raise StateInvalid(f"{key}: expected {getattr(kind, '__name__', 'a number')}")
    return value


def _list(data: Mapping[str, Any], key: str, optional: bool = False) -> list[Any] | None:
    value: list[Any] | None = _get(data, key, list, optional)
    if value is not None and len(value) > MAX_ITEMS:
        raise StateInvalid(f"{key}: too long")
    return value


def _moment(value: Any, key: str) -> datetime:
    try:
        moment = parse_iso(str(value))
    except ValueError:
        raise StateInvalid(f"{key}: not a time: {str(value)[:40]!r}") from None
    if moment.tzinfo is None:
        raise StateInvalid(f"{key}: a time without an offset")
    return moment


def _opt_moment(data: Mapping[str, Any], key: str) -> datetime | None:
    value = data.get(key)
    return None if value is None else _moment(value, key)


def _seconds(data: Mapping[str, Any], key: str) -> timedelta:
    value = _get(data, key, (int, float))
    if not math.isfinite(value) or value < 0 or value > 10 * 365 * 86400:
        raise StateInvalid(f"{key}: out of range")
    return timedelta(seconds=value)


def _opt_number(data: Mapping[str, Any], key: str) -> float | None:
    value = _get(data, key, (int, float), optional=True)
    return None if value is None else float(value)


def _strings(data: Mapping[str, Any], key: str) -> dict[str, str]:
    value = _get(data, key, dict, optional=True) or {}
    return {str(k): str(v) for k, v in value.items()}


def _sources(data: Mapping[str, Any], key: str) -> dict[Source, str]:
    found: dict[Source, str] = {}
    for name, reason in _strings(data, key).items():
        try:
            found[Source(name)] = reason
        except ValueError:
            continue  # a newer watcher's source: nothing here depends on it
    return found


def _metrics(data: Mapping[str, Any]) -> dict[int, dict[str, MetricValue]]:
    found: dict[int, dict[str, MetricValue]] = {}
    for window, values in (_get(data, "metrics", dict)).items():
        try:
            seconds = int(window)
        except ValueError:
            raise StateInvalid(f"metrics: window {window[:20]!r} is not seconds") from None
        if not isinstance(values, dict):
            raise StateInvalid("metrics: expected an object per window")
        found[seconds] = {}
        for name, m in values.items():
            if not isinstance(m, dict):
                raise StateInvalid(f"metrics.{name}: expected an object")
            try:
                unit = Unit(_get(m, "unit", str))
            except ValueError:
                raise StateInvalid(f"metrics.{name}: unknown unit") from None
            samples = _get(m, "samples", int)
            found[seconds][str(name)] = MetricValue(
                str(name), _opt_number(m, "value"), unit, samples, seconds
            )
    return found


def _endpoint(e: Any, evaluated_at: datetime) -> EndpointResult:
    """One endpoint; a watcher that did not say when it polled it polled it for the
    evaluation it sent (no later than `evaluated_at`)."""
    if not isinstance(e, dict):
        raise StateInvalid("endpoints: expected objects")
    try:
        status = EndpointStatus(_get(e, "status", str))
    except ValueError:
        raise StateInvalid("endpoints: unknown status") from None
    http_status = _get(e, "http_status", int, optional=True)
    return EndpointResult(
        str(_get(e, "name", str)),
        str(_get(e, "url", str)),
        status,
        _opt_number(e, "latency_ms"),
        http_status,
        _get(e, "error", str, optional=True),
        tuple(str(h) for h in (_list(e, "missing_security_headers", True) or [])),
        _opt_moment(e, "polled_at") or evaluated_at,
    )


def _observation(o: Any) -> Observation | None:
    if o is None:
        return None
    if not isinstance(o, dict):
        raise StateInvalid("observation: expected an object")
    try:
        verdict, unit = Verdict(_get(o, "verdict", str)), Unit(_get(o, "unit", str))
    except ValueError:
        raise StateInvalid("observation: unknown verdict or unit") from None
    return Observation(
        verdict,
        _opt_number(o, "value"),
        _opt_number(o, "threshold") or 0.0,
        unit,
        _get(o, "samples", int),
        _get(o, "reason", str, optional=True),
    )


def _series(value: Any) -> tuple[tuple[str, str], ...]:
    """An alert's label set within its rule: `[["endpoint", "sync"]]`."""
    if not isinstance(value, list) or not all(
        isinstance(pair, list) and len(pair) == 2 and all(isinstance(x, str) for x in pair)
        for pair in value
    ):
        raise StateInvalid("series: expected a list of [name, value] pairs")
    return tuple(sorted((str(k), str(v)) for k, v in value))


def _alert(a: Any) -> RuleState:
    if not isinstance(a, dict):
        raise StateInvalid("alerts: expected objects")
    name = _get(a, "name", str)
    series = _series(a.get("series", []))
    labels = {k: v for k, v in _strings(a, "labels").items() if k not in dict(series)}
    try:
        rule = AlertRule(
            name=name,
            condition_text=_get(a, "condition", str),
            condition=parse_condition(_get(a, "condition", str)),
            severity=Severity(_get(a, "severity", str)),
            window=_seconds(a, "window_seconds"),
            for_=_seconds(a, "for_seconds"),
            keep_firing_for=_seconds(a, "keep_firing_for_seconds"),
            min_samples=_get(a, "min_samples", int, optional=True),
            labels=labels,
            annotations=_strings(a, "annotations"),
            series=series,
        )
        state = AlertState(_get(a, "state", str))
    except ValueError as exc:
        raise StateInvalid(f"alert {name[:60]!r}: {exc}") from None
    since_at = _opt_moment(a, "since")
    since = (
        Since(since_at, bool(a.get("since_bounded")), bool(a.get("since_seen")))
        if since_at is not None
        else None
    )
    ack = a.get("ack")
    return RuleState(
        rule,
        state,
        _opt_moment(a, "state_since"),
        since,
        _get(a, "id", str, optional=True),
        _opt_moment(a, "false_since"),
        _get(a, "error", str, optional=True),
        _observation(a.get("observation")),
        ack if isinstance(ack, dict) else None,
    )


def _aggregates(raw: list[Any] | None, kind: type[Any]) -> list[Any]:
    out: list[Any] = []
    for item in raw or []:
        if item is None:
            out.append(None)
            continue
        if not isinstance(item, dict):
            raise StateInvalid("chart: expected objects")
        try:
            out.append(kind(**item))
        except TypeError:
            raise StateInvalid("chart: unexpected fields") from None
    return out


def _chart(c: Any) -> ChartState | None:
    if c is None:
        return None
    if not isinstance(c, dict):
        raise StateInvalid("chart: expected an object")
    return ChartState(
        _moment(c.get("start"), "chart.start"),
        _seconds(c, "step_seconds"),
        _aggregates(_list(c, "performance", True), PerformanceAggregates),
        _aggregates(_list(c, "conflicts", True), ConflictAggregates),
    )


def _silence_sets(raw: list[Any] | None) -> list[SilenceRead]:
    sets: list[SilenceRead] = []
    for entry in raw or []:
        if not isinstance(entry, dict):
            raise StateInvalid("alertmanagers: expected objects")
        listed = _list(entry, "silences", True)
        silences = None
        if listed is not None:
            silences = []
            for item in listed:
                try:
                    silences.append(Silence.from_json(item))
                except ValueError:
                    continue  # as when reading Alertmanager itself: malformed ones left out
        sets.append(SilenceRead(str(_get(entry, "url", str)), silences, entry.get("error")))
    return sets


def decode(data: Any) -> WatcherState:
    """A `WatcherState` from a parsed document; `StateInvalid` when it is not one."""
    if not isinstance(data, dict) or data.get("schema") != SCHEMA:
        raise StateInvalid(f"not a syncmon watcher's state (expected schema {SCHEMA})")
    interval = _seconds(data, "interval_seconds")
    if interval <= timedelta(0):
        raise StateInvalid("interval_seconds: must be more than 0")
    top = []
    for item in _list(data, "top_errors", True) or []:
        if not (isinstance(item, list) and len(item) == 2 and isinstance(item[1], int)):
            raise StateInvalid("top_errors: expected [text, count] pairs")
        top.append((str(item[0]), item[1]))
    endpoints = _list(data, "endpoints", True)
    evaluated_at = _moment(data.get("evaluated_at"), "evaluated_at")
    return WatcherState(
        seq=_get(data, "seq", int),
        evaluated_at=evaluated_at,
        interval=interval,
        display_window=_seconds(data, "display_window_seconds"),
        metrics=_metrics(data),
        endpoints=None if endpoints is None else [_endpoint(e, evaluated_at) for e in endpoints],
        failed=_sources(data, "errors"),
        unavailable=_sources(data, "unavailable"),
        unconfigured=frozenset(
            s for s in Source if s.value in (_list(data, "unconfigured", True) or [])
        ),
        top_errors=top,
        chart=_chart(data.get("chart")),
        alerts=[_alert(a) for a in _list(data, "alerts") or []],
        alertmanagers=_silence_sets(_list(data, "alertmanagers", True)),
        poll_seconds=min(max(_opt_number(data, "poll_seconds") or 0.0, 0.0), 3600.0),
    )
