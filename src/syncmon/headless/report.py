"""The result of `syncmon check` and its three renderings: text, JSON (SPEC §6) and Nagios."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from syncmon.core.alerts import AlertState, CheckVerdict
from syncmon.core.durations import format_duration
from syncmon.core.metrics import TABLE_SOURCES, MetricValue, Unit, format_value
from syncmon.core.rules import AlertRule, Severity
from syncmon.core.text import sanitize
from syncmon.engine import Snapshot
from syncmon.exit_codes import ExitCode
from syncmon.redaction import redact
from syncmon.sources.health import EndpointResult

STATUS_WORD = {
    ExitCode.OK: "ok",
    ExitCode.WARNING: "warning",
    ExitCode.CRITICAL: "critical",
    ExitCode.UNKNOWN: "unknown",
}


@dataclass(frozen=True)
class AlertReport:
    rule: AlertRule
    verdict: CheckVerdict


@dataclass
class CheckReport:
    evaluated_at: datetime
    alerts: list[AlertReport]
    metrics: dict[str, MetricValue]
    endpoints: list[EndpointResult] | None
    errors: list[str] = field(default_factory=list)
    database_failed: bool = False
    live: bool = True

    @property
    def exit_code(self) -> ExitCode:
        firing = [a.rule.severity for a in self.alerts if a.verdict.state is AlertState.FIRING]
        if Severity.CRITICAL in firing:
            return ExitCode.CRITICAL
        if Severity.WARNING in firing:
            return ExitCode.WARNING
        if self.database_failed:
            return ExitCode.UNKNOWN
        return ExitCode.OK

    @property
    def status(self) -> str:
        return STATUS_WORD[self.exit_code]


def build_report(
    rules: tuple[AlertRule, ...], snapshot: Snapshot, verdicts: list[CheckVerdict]
) -> CheckReport:
    return CheckReport(
        evaluated_at=snapshot.evaluated_at,
        alerts=[AlertReport(rule, verdict) for rule, verdict in zip(rules, verdicts, strict=True)],
        metrics=dict(sorted(snapshot.display_metrics.items())),
        endpoints=snapshot.endpoints,
        errors=[redact(e) for e in snapshot.errors],
        database_failed=any(s in snapshot.failed for s in TABLE_SOURCES),
        live=snapshot.live,
    )


def _number(value: float | None) -> float | None:
    if value is None or math.isnan(value) or math.isinf(value):
        return None
    return round(value, 6)


def to_json(report: CheckReport) -> dict[str, Any]:
    return {
        "status": report.status,
        "exit_code": int(report.exit_code),
        "evaluated_at": report.evaluated_at.astimezone().isoformat(timespec="seconds"),
        "alerts": [
            {
                "name": a.rule.name,
                "severity": a.rule.severity.value,
                "state": a.verdict.state.value,
                "condition": a.rule.condition_text,
                "value": _number(a.verdict.observation.value),
                "threshold": _number(a.verdict.observation.threshold),
                "unit": a.verdict.observation.unit.value,
                "samples": a.verdict.observation.samples,
                "labels": dict(a.rule.labels),
                "annotations": dict(a.rule.annotations),
                "note": redact(a.verdict.note) or None,
            }
            for a in report.alerts
        ],
        "metrics": {
            name: {
                "value": _number(m.value),
                "unit": m.unit.value,
                "samples": m.samples,
                "window_seconds": m.window_seconds,
            }
            for name, m in report.metrics.items()
        },
        "endpoints": [
            {
                "name": e.name,
                "url": redact(e.url),
                "status": e.status,
                "latency_ms": _number(e.latency_ms),
                "http_status": e.http_status,
                "error": redact(e.error) if e.error else None,
                "missing_security_headers": list(e.missing_security_headers),
            }
            for e in (report.endpoints or [])
        ],
        "errors": report.errors,
    }


def render_json(report: CheckReport) -> str:
    return json.dumps(to_json(report), indent=2, ensure_ascii=False)


def render_text(report: CheckReport) -> str:
    lines = [
        f"SYNCMON {report.status.upper()} at "
        f"{report.evaluated_at.astimezone().isoformat(timespec='seconds')}"
        + ("" if report.live else " (post-mortem: database as of this moment)")
    ]
    order = {
        AlertState.FIRING: 0,
        AlertState.ERROR: 1,
        AlertState.PENDING: 2,
        AlertState.NODATA: 3,
        AlertState.INACTIVE: 4,
    }
    if report.alerts:
        lines.append("")
        lines.append("Alerts")
        for a in sorted(report.alerts, key=lambda a: order.get(a.verdict.state, 9)):
            obs = a.verdict.observation
            lines.append(
                f"  {a.verdict.state.value.upper():<8} {a.rule.severity.value:<8} "
                f"{sanitize(a.rule.name, single_line=True)}: {a.rule.condition_text} "
                f"(value {format_value(obs.value, obs.unit)}, {obs.samples} samples)"
            )
            if a.verdict.note:
                lines.append(f"           {sanitize(redact(a.verdict.note), single_line=True)}")
    lines.append("")
    window = next(iter(report.metrics.values())).window_seconds if report.metrics else 300
    lines.append(f"Metrics (last {format_duration(window)})")
    for name, m in report.metrics.items():
        lines.append(f"  {name:<28} {format_value(m.value, m.unit):>10}  ({m.samples} samples)")
    if report.endpoints is not None:
        lines.append("")
        lines.append("Endpoints")
        for e in report.endpoints:
            latency = f"{e.latency_ms:.0f}ms" if e.latency_ms is not None else "-"
            code = str(e.http_status) if e.http_status else "-"
            detail = (
                f"  {sanitize(redact(e.error), single_line=True, limit=120)}" if e.error else ""
            )
            lines.append(f"  {e.name:<10} {e.status.upper():<9} {latency:>7} {code:>4}{detail}")
            if e.missing_security_headers:
                lines.append(
                    f"             missing headers: {', '.join(e.missing_security_headers)}"
                )
    elif not report.live:
        lines.append("")
        lines.append("Endpoints: not available with --at (health endpoints have no history)")
    if report.errors:
        lines.append("")
        lines.append("Errors")
        lines.extend(f"  {sanitize(e, single_line=True)}" for e in report.errors)
    return "\n".join(lines)


def _perf_value(m: MetricValue) -> tuple[str, str]:
    if m.value is None:
        return "U", ""
    if m.unit is Unit.RATIO:
        return f"{m.value * 100:.4g}", "%"
    if m.unit is Unit.MS:
        return f"{m.value:.6g}", "ms"
    return f"{m.value:.6g}", ""


def render_nagios(report: CheckReport) -> str:
    firing = [a for a in report.alerts if a.verdict.state is AlertState.FIRING]
    if firing:
        summary = ", ".join(f"{a.rule.name} ({a.rule.severity.value})" for a in firing)
    elif report.database_failed:
        summary = "; ".join(report.errors) or "database unreadable"
    else:
        summary = f"{len(report.alerts)} rules ok"
    thresholds: dict[str, dict[str, str]] = {}
    for a in report.alerts:
        obs = a.verdict.observation
        first = a.rule.condition_text.split()[0]
        level = "crit" if a.rule.severity is Severity.CRITICAL else "warn"
        value = f"{obs.threshold * 100:.4g}" if obs.unit is Unit.RATIO else f"{obs.threshold:g}"
        thresholds.setdefault(first, {}).setdefault(level, value)
    perf = []
    for name, m in report.metrics.items():
        value, uom = _perf_value(m)
        t = thresholds.get(name, {})
        label = name.replace("'", "").replace("=", "_")
        perf.append(f"'{label}'={value}{uom};{t.get('warn', '')};{t.get('crit', '')};;")
    text = f"SYNCMON {report.status.upper()} - {sanitize(redact(summary), single_line=True)}"
    return f"{text.replace('|', '/')} | {' '.join(perf)}"
