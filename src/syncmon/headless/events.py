"""The stdout line of `watch` (SPEC §7) and its human twin for stderr."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from typing import Any

from syncmon.core.alerts import AlertEvent, Observation
from syncmon.core.metrics import format_value
from syncmon.core.text import sanitize
from syncmon.redaction import redact


def json_number(value: float | None) -> float | None:
    """Base units, rounded like `check --format json`; NaN/inf are not JSON."""
    if value is None or math.isnan(value) or math.isinf(value):
        return None
    return round(value, 6)


def timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")


def event_record(event: AlertEvent) -> dict[str, Any]:
    """Exactly the fields of SPEC §7; config text is redacted in case it holds a `${...}`."""
    rule, obs = event.rule, event.observation
    return {
        "ts": timestamp(event.at),
        "event": event.kind,
        "rule": redact(rule.name),
        "severity": rule.severity.value,
        "value": json_number(obs.value),
        "threshold": json_number(obs.threshold),
        "condition": redact(rule.condition_text),
        "labels": {k: redact(str(v)) for k, v in rule.labels.items()},
        "annotations": {k: redact(str(v)) for k, v in rule.annotations.items()},
    }


def event_line(event: AlertEvent) -> str:
    return json.dumps(event_record(event), ensure_ascii=False, separators=(",", ":"))


def observation_value(obs: Observation | None) -> str:
    return "no data" if obs is None else format_value(obs.value, obs.unit)


def event_summary(event: AlertEvent) -> str:
    """One log line: state, rule, condition, value, and the reason for error/nodata."""
    obs = event.observation
    text = (
        f"{event.kind.upper()} {event.rule.name} ({event.rule.severity.value}): "
        f"{event.rule.condition_text}, value {observation_value(obs)}, "
        f"{obs.samples} samples"
    )
    if obs.reason and event.kind in ("error", "nodata"):
        text += f" — {obs.reason}"
    return sanitize(redact(text), single_line=True)
