"""The stdout line of `watch` (SPEC §7) and its human twin for stderr."""

from __future__ import annotations

import json
import math
from datetime import datetime
from typing import Any

from syncmon.config.redaction import redact, redact_json
from syncmon.core.alerts import AlertEvent, EventKind, Observation
from syncmon.core.episodes import since_text
from syncmon.core.metrics import format_value
from syncmon.core.text import sanitize
from syncmon.core.timefmt import iso_utc


def json_number(value: float | None) -> float | None:
    """Base units, rounded like `check --format json`; NaN/inf are not JSON."""
    if value is None or math.isnan(value) or math.isinf(value):
        return None
    return round(value, 6)


def timestamp(moment: datetime) -> str:
    return iso_utc(moment)


def event_record(event: AlertEvent) -> dict[str, Any]:
    """The fields of SPEC §7 and §4.1–4.2, through `redact_json` like every structured
    output (rule texts are masked when loaded). Receivers deduplicate by `id`: delivery is
    at least once."""
    rule, obs, since = event.rule, event.observation, event.since
    record = {
        "ts": timestamp(event.at),
        "event": event.kind.value,
        "rule": rule.name,
        "severity": rule.severity.value,
        "value": json_number(obs.value),
        "threshold": json_number(obs.threshold),
        "condition": rule.condition_text,
        "labels": dict(rule.all_labels),  # `endpoint` too
        "annotations": dict(rule.annotations),
        "id": event.episode,
        "since": timestamp(since.at) if since else None,
        "since_bounded": bool(since and since.bounded),
        "since_seen": bool(since and since.seen),
        "restored": event.restored,
    }
    return dict(redact_json(record))


def event_line(event: AlertEvent) -> str:
    return json.dumps(event_record(event), ensure_ascii=False, separators=(",", ":"))


def observation_value(obs: Observation | None) -> str:
    return "no data" if obs is None else format_value(obs.value, obs.unit)


def event_summary(event: AlertEvent) -> str:
    """One log line: state, rule, condition, value, and the reason for error/nodata."""
    obs = event.observation
    text = (
        f"{event.kind.upper()}{' (restored)' if event.restored else ''} "
        f"{event.rule.key} ({event.rule.severity.value}): "
        f"{event.rule.condition_text}, value {observation_value(obs)}, "
        f"{obs.samples} samples"
    )
    if event.since is not None:
        text += f", since {since_text(event.since, event.at)}, id {event.episode}"
    if obs.reason and event.kind in (EventKind.ERROR, EventKind.NODATA):
        text += f" — {obs.reason}"
    return sanitize(redact(text), single_line=True)
