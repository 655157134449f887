"""The watcher's side of the wire: one evaluation as the state document (`feed/wire.py`).
Every text is redacted on the way out: a DSN password in an error never leaves the watcher."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from syncmon.config.redaction import redact
from syncmon.core.alerts import AlertTracker
from syncmon.core.rules import AlertRule
from syncmon.core.silences import Silence, SilenceRead, alert_labels, covering
from syncmon.feed.wire import SCHEMA

if TYPE_CHECKING:
    from syncmon.engine.poll import Snapshot


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


def _ack(rule: AlertRule, sets: Iterable[SilenceRead]) -> dict[str, Any] | None:
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


def _alert_json(tracker: AlertTracker, sets: list[SilenceRead]) -> dict[str, Any]:
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
    silences: Sequence[SilenceRead] = (),
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
