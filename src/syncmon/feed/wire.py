"""The watcher's state as JSON (`GET /api/v1/state`, each event of `/api/v1/stream`).

One document says everything a viewer shows: the metrics of every window the watcher
computes, the endpoints, what could not be read, every rule with its definition and its
state machine's position, the Alertmanager silences read back, when it was evaluated and
how often. Viewers trust nothing in it: `decode` checks every field and raises
`StateInvalid` on anything malformed, and text is shown as text (sanitized by the views).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from syncmon.config.redaction import redact
from syncmon.core.alerts import AlertState, AlertTracker, Observation, Verdict
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
from syncmon.core.silences import Silence, alert_labels, covering

if TYPE_CHECKING:
    from syncmon.engine.poll import Snapshot

SCHEMA = "syncmon.state/1"
MAX_ITEMS = 10_000  # any list longer than this is not a watcher's state


class StateInvalid(ValueError):
    """The document is not a watcher's state (a wrong URL, a proxy's page, tampering)."""


@dataclass(frozen=True)
class SilenceSet:
    """One Alertmanager's active silences as the watcher read them (or why it could not)."""

    url: str
    silences: list[Silence] | None
    error: str | None = None


# --- encoding (the watcher) -------------------------------------------------------------------
def _time(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat() if moment is not None else None


def _number(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else value


def _silence_json(silence: Silence) -> dict[str, Any]:
    """Alertmanager's own shape, so `Silence.from_json` reads it back."""
    return {
        "id": silence.id,
        "matchers": [
            {"name": m.name, "value": m.value, "isRegex": m.is_regex, "isEqual": m.is_equal}
            for m in silence.matchers
        ],
        "createdBy": silence.created_by,
        "comment": silence.comment,
        "startsAt": _time(silence.starts_at),
        "endsAt": _time(silence.ends_at),
        "status": {"state": silence.state},
    }


def _ack(rule: AlertRule, sets: Iterable[SilenceSet]) -> dict[str, Any] | None:
    labels = alert_labels(rule)
    found = [s for ss in sets for s in covering(ss.silences or [], labels)]
    if not found:
        return None
    longest = max(found, key=lambda s: s.ends_at)
    return {
        "by": longest.created_by,
        "until": _time(longest.ends_at),
        "comment": longest.comment,
        "silences": [s.id for s in found],
    }


def _alert_json(tracker: AlertTracker, sets: list[SilenceSet]) -> dict[str, Any]:
    rule, obs, since = tracker.rule, tracker.observation, tracker.since_info
    return {
        "name": rule.name,
        "severity": rule.severity.value,
        "condition": rule.condition_text,
        "window_seconds": rule.window.total_seconds(),
        "for_seconds": rule.for_.total_seconds(),
        "keep_firing_for_seconds": rule.keep_firing_for.total_seconds(),
        "min_samples": rule.min_samples,
        "labels": dict(rule.all_labels),  # `endpoint` too: one alert per endpoint
        "series": [[name, value] for name, value in rule.series],  # which alert of the rule
        "annotations": dict(rule.annotations),
        "state": tracker.state.value,
        "state_since": _time(tracker.state_since),
        "since": _time(since.at) if since else None,
        "since_bounded": bool(since and since.bounded),
        "since_seen": bool(since and since.seen),
        "id": tracker.episode_id,
        "false_since": _time(tracker.false_since),
        "error": redact(tracker.error) if tracker.error else None,
        "observation": None
        if obs is None
        else {
            "verdict": obs.verdict.value,
            "value": _number(obs.value),
            "threshold": _number(obs.threshold),
            "unit": obs.unit.value,
            "samples": obs.samples,
            "reason": redact(obs.reason) if obs.reason else None,
        },
        "ack": _ack(rule, sets),
    }


def encode(
    snapshot: Snapshot,
    trackers: Iterable[AlertTracker],
    *,
    interval: timedelta,
    seq: int,
    silences: list[SilenceSet] = (),  # type: ignore[assignment]  # read-only default
) -> dict[str, Any]:
    """The state document of one evaluation."""
    chart = snapshot.chart
    return {
        "schema": SCHEMA,
        "seq": seq,
        "evaluated_at": _time(snapshot.evaluated_at),
        "interval_seconds": interval.total_seconds(),
        "poll_seconds": snapshot.poll_seconds,  # evaluated_at is when the poll began
        "display_window_seconds": int(snapshot.display_window.total_seconds()),
        "metrics": {
            str(window): {
                name: {"value": _number(m.value), "unit": m.unit.value, "samples": m.samples}
                for name, m in values.items()
            }
            for window, values in snapshot.metrics.items()
        },
        "endpoints": None
        if snapshot.endpoints is None
        else [
            {
                "name": e.name,
                "url": redact(e.url),
                "status": e.status.value,
                "latency_ms": _number(e.latency_ms),
                "http_status": e.http_status,
                "error": redact(e.error) if e.error else None,
                "missing_security_headers": list(e.missing_security_headers),
                "polled_at": _time(e.polled_at),
            }
            for e in snapshot.endpoints
        ],
        "errors": {s.value: redact(r) for s, r in snapshot.failed.items()},
        "unavailable": {s.value: redact(r) for s, r in snapshot.unavailable.items()},
        "unconfigured": sorted(s.value for s in snapshot.unconfigured),
        "top_errors": [[redact(text), count] for text, count in snapshot.top_errors],
        "chart": None
        if chart is None
        else {
            "start": _time(chart.start),
            "step_seconds": chart.step.total_seconds(),
            "performance": [asdict(p) if p else None for p in chart.performance],
            "conflicts": [asdict(c) if c else None for c in chart.conflicts],
        },
        "alerts": [_alert_json(t, list(silences)) for t in trackers],
        "alertmanagers": [
            {
                "url": redact(s.url),
                "silences": None if s.silences is None else [_silence_json(x) for x in s.silences],
                "error": redact(s.error) if s.error else None,
            }
            for s in silences
        ],
    }


# --- decoding (the viewers) -------------------------------------------------------------------
@dataclass(frozen=True)
class RuleState:
    """One rule and where its state machine stands in the watcher."""

    rule: AlertRule
    state: AlertState
    state_since: datetime | None
    since: Since | None
    episode: str | None
    false_since: datetime | None
    error: str | None
    observation: Observation | None
    ack: dict[str, Any] | None


@dataclass(frozen=True)
class ChartState:
    start: datetime
    step: timedelta
    performance: list[PerformanceAggregates | None]
    conflicts: list[ConflictAggregates | None]


@dataclass(frozen=True)
class WatcherState:
    seq: int
    evaluated_at: datetime
    interval: timedelta
    display_window: timedelta
    metrics: dict[int, dict[str, MetricValue]]
    endpoints: list[EndpointResult] | None
    failed: dict[Source, str]
    unavailable: dict[Source, str]
    unconfigured: frozenset[Source]
    top_errors: list[tuple[str, int]]
    chart: ChartState | None
    alerts: list[RuleState]
    alertmanagers: list[SilenceSet] = field(default_factory=list)
    poll_seconds: float = 0.0

    @property
    def display_metrics(self) -> dict[str, MetricValue]:
        return self.metrics.get(int(self.display_window.total_seconds()), {})

    def age(self, now: datetime) -> timedelta:
        return now - self.evaluated_at

    def stale(self, now: datetime) -> bool:
        """SPEC §16: a state older than two intervals says nothing about now."""
        return self.age(now) > 2 * self.interval


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
    value = _get(data, key, list, optional)
    if value is not None and len(value) > MAX_ITEMS:
        raise StateInvalid(f"{key}: too long")
    return value  # type: ignore[no-any-return]


def _moment(value: Any, key: str) -> datetime:
    try:
        moment = datetime.fromisoformat(str(value))
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


def _silence_sets(raw: list[Any] | None) -> list[SilenceSet]:
    sets: list[SilenceSet] = []
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
        sets.append(SilenceSet(str(_get(entry, "url", str)), silences, entry.get("error")))
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
