"""The result of `syncmon check` and its three renderings: text, JSON (SPEC §6) and Nagios."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from syncmon.config.redaction import redact, redact_json
from syncmon.core.alerts import AlertState, CheckVerdict
from syncmon.core.durations import format_duration
from syncmon.core.endpoints import EndpointResult
from syncmon.core.episodes import since_age, since_clock, since_text
from syncmon.core.exit_codes import ExitCode
from syncmon.core.metrics import (
    TABLE_SOURCES,
    MetricValue,
    Source,
    Unit,
    format_value,
)
from syncmon.core.rules import AlertRule, Severity
from syncmon.core.text import plural, sanitize
from syncmon.core.timefmt import iso_local

if TYPE_CHECKING:  # `check --from` renders without loading the engine (it must start fast)
    from syncmon.config.settings import Settings
    from syncmon.engine.poll import Snapshot

STATUS_WORD = {
    ExitCode.OK: "ok",
    ExitCode.WARNING: "warning",
    ExitCode.CRITICAL: "critical",
    ExitCode.UNKNOWN: "unknown",
}


@dataclass(frozen=True)
class Origin:
    """Where a `check --from` answer came from, and how old the watcher's state was."""

    url: str
    age_seconds: float
    interval_seconds: float

    @property
    def stale(self) -> bool:
        """SPEC §16: older than two intervals, the state says nothing about now."""
        return self.age_seconds > 2 * self.interval_seconds

    def text(self) -> str:
        return (
            f"from watcher {redact(self.url)}: state {self.age_seconds:.0f}s old "
            f"(evaluated every {self.interval_seconds:g}s)"
        )


@dataclass(frozen=True)
class AlertReport:
    rule: AlertRule
    verdict: CheckVerdict


# The order states are listed and counted in: what needs eyes first.
STATE_ORDER = (
    AlertState.FIRING,
    AlertState.PENDING,
    AlertState.ERROR,
    AlertState.NODATA,
    AlertState.INACTIVE,
)
STATE_WORD = {AlertState.INACTIVE: "ok"}


@dataclass
class CheckReport:
    evaluated_at: datetime
    alerts: list[AlertReport]
    metrics: dict[str, MetricValue]
    endpoints: Sequence[EndpointResult] | None  # polled, or as a watcher served them
    errors: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)  # why nothing can be called ok
    live: bool = True
    origin: Origin | None = None  # `check --from`: the watcher that answered

    def __repr__(self) -> str:
        """Short: asyncio.run's teardown reprs the finished task, result included (reprlib
        cuts the text only after building it), which cost seconds for 10,000 alerts."""
        return f"CheckReport({self.status}, {len(self.alerts)} alerts)"

    @property
    def exit_code(self) -> ExitCode:
        """2 critical firing, else 1 warning firing or an unconfirmed pending (a rule with
        `for` one check cannot confirm: a soft problem, never a page, SPEC §15), else 3 when
        anything is unknown, else 0: a rule that fires on a readable table pages even when
        another table is unreadable.
        A watcher's state older than two intervals is UNKNOWN whatever it says (SPEC §16)."""
        if self.origin is not None and self.origin.stale:
            return ExitCode.UNKNOWN
        firing = [a.rule.severity for a in self.alerts if a.verdict.state is AlertState.FIRING]
        if Severity.CRITICAL in firing:
            return ExitCode.CRITICAL
        if Severity.WARNING in firing or self.unconfirmed:
            return ExitCode.WARNING
        if self.unknown:
            return ExitCode.UNKNOWN
        return ExitCode.OK

    @property
    def unconfirmed(self) -> list[AlertReport]:
        """Pending alerts of critical or warning rules that one check cannot confirm."""
        return [
            a
            for a in self.alerts
            if a.verdict.unconfirmed
            and a.verdict.state is AlertState.PENDING
            and a.rule.severity is not Severity.INFO
        ]

    @property
    def status(self) -> str:
        return STATUS_WORD[self.exit_code]

    def state_counts(self) -> str:
        """`1 firing, 3 ok, 1 nodata`: every state named, never "ok" for what is not."""
        counts = {state: 0 for state in STATE_ORDER}
        for a in self.alerts:
            counts[a.verdict.state] = counts.get(a.verdict.state, 0) + 1
        parts = [f"{n} {STATE_WORD.get(state, state.value)}" for state, n in counts.items() if n]
        return ", ".join(parts) or "no rules"


def build_report(
    settings: Settings, snapshot: Snapshot, verdicts: list[tuple[AlertRule, CheckVerdict]]
) -> CheckReport:
    """`verdicts`: one per alert, its rule bound to its label set (`check_verdicts`)."""
    rules = settings.rules
    alerts = [AlertReport(alert, verdict) for alert, verdict in verdicts]
    needed = {source for rule in rules for source in rule.sources}
    # A source nobody configured and no rule needs is not an error, only not there.
    errors = [
        redact(message)
        for source, message in snapshot.failed.items()
        if source in needed or source not in snapshot.unconfigured
    ]
    return CheckReport(
        evaluated_at=snapshot.evaluated_at,
        alerts=alerts,
        metrics=dict(sorted(snapshot.display_metrics.items())),
        endpoints=snapshot.endpoints,
        errors=list(dict.fromkeys(errors)),
        unknown=unknown_reasons(
            str(settings.config.path or "the configuration"),
            snapshot.failed,
            snapshot.unconfigured,
            alerts,
        ),
        live=snapshot.live,
    )


def unknown_reasons(
    where: str,
    failed: Mapping[Source, str],
    unconfigured: set[Source] | frozenset[Source],
    alerts: list[AlertReport],
) -> list[str]:
    """Why this check cannot say "ok" (SPEC §12): each reason names what to fix."""
    reasons: list[str] = []
    if not alerts:
        reasons.append(f"no rules in {where}")
    needed = {source for a in alerts for source in a.rule.sources}
    for source in sorted(needed & unconfigured):
        users = len({a.rule.name for a in alerts if source in a.rule.sources})  # rules
        reasons.append(
            f"{plural(users, 'rule')} need{'s' if users == 1 else ''} {source.value}, "
            f"but there is {failed[source]}"
        )
    unreadable = [redact(failed[s]) for s in TABLE_SOURCES if s in failed and s not in unconfigured]
    reasons.extend(dict.fromkeys(unreadable))
    errors = [a for a in alerts if a.verdict.state is AlertState.ERROR]
    if errors and not reasons:
        reasons.append(f"{plural(len(errors), 'rule')} could not be evaluated")
    if alerts and all(a.verdict.state is AlertState.NODATA for a in alerts):
        reasons.append("every rule is nodata: too few samples to say anything")
    return reasons


def _number(value: float | None) -> float | None:
    if value is None or math.isnan(value) or math.isinf(value):
        return None
    return round(value, 6)


def _local_time(moment: datetime) -> str:
    return iso_local(moment)


def _alert_json(a: AlertReport) -> dict[str, Any]:
    v, obs = a.verdict, a.verdict.observation
    return {
        "name": a.rule.name,
        "severity": a.rule.severity.value,
        "state": v.state.value,
        "condition": a.rule.condition_text,
        "value": _number(obs.value),
        "threshold": _number(obs.threshold),
        "unit": obs.unit.value,
        "samples": obs.samples,
        "labels": dict(a.rule.all_labels),  # with `endpoint` for a rule over endpoints
        "annotations": dict(a.rule.annotations),
        "note": redact(v.note) or None,
        "since": _local_time(v.since.at) if v.since else None,
        "since_bounded": bool(v.since and v.since.bounded),
        "since_seen": bool(v.since and v.since.seen),
        "id": v.episode,
    }


def to_json(report: CheckReport) -> dict[str, Any]:
    errors = [*report.unknown, *(e for e in report.errors if e not in report.unknown)]
    document: dict[str, Any] = {
        "status": report.status,
        "exit_code": int(report.exit_code),
        "evaluated_at": _local_time(report.evaluated_at),
        "alerts": [_alert_json(a) for a in report.alerts],
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
        "errors": errors,
    }
    if report.origin is not None:  # `check --from`: which watcher, and how old its state
        document["watcher"] = {
            "url": redact(report.origin.url),
            "age_seconds": round(report.origin.age_seconds, 3),
            "interval_seconds": report.origin.interval_seconds,
            "stale": report.origin.stale,
        }
    return document


def render_json(report: CheckReport) -> str:
    return json.dumps(redact_json(to_json(report)), indent=2, ensure_ascii=False)


def render_text(report: CheckReport) -> str:
    lines = [
        f"SYNCMON {report.status.upper()} at {_local_time(report.evaluated_at)}: "
        f"{report.state_counts()}"
        + ("" if report.live else " (post-mortem: database as of this moment)")
    ]
    if report.origin is not None:
        lines.append(f"  {report.origin.text()}")
    lines.extend(f"  UNKNOWN: {sanitize(redact(r), single_line=True)}" for r in report.unknown)
    if report.alerts:
        lines.append("")
        lines.append("Alerts")
        for a in sorted(report.alerts, key=lambda a: STATE_ORDER.index(a.verdict.state)):
            obs, since = a.verdict.observation, a.verdict.since
            lines.append(
                f"  {a.verdict.state.value.upper():<8} {a.rule.severity.value:<8} "
                f"{sanitize(a.rule.key, single_line=True)}: {a.rule.condition_text} "
                f"(value {format_value(obs.value, obs.unit)}, {obs.samples} samples)"
            )
            if since is not None:
                lines.append(
                    f"           since {since_text(since, report.evaluated_at)}"
                    f"  id {a.verdict.episode}"
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
    return redact("\n".join(lines))


def _perf_value(m: MetricValue) -> tuple[str, str]:
    if m.value is None:
        return "U", ""
    if m.unit is Unit.RATIO:
        return f"{m.value * 100:.4g}", "%"
    if m.unit is Unit.MS:
        return f"{m.value:.6g}", "ms"
    return f"{m.value:.6g}", ""


def _nagios_since(a: AlertReport, now: datetime) -> str:
    since = a.verdict.since
    if since is None:
        return a.rule.severity.value
    return f"{a.rule.severity.value} since {since_clock(since, now)}, {since_age(since, now)}"


def render_nagios(report: CheckReport) -> str:
    firing = [a for a in report.alerts if a.verdict.state is AlertState.FIRING]
    parts = [f"{a.rule.key} ({_nagios_since(a, report.evaluated_at)})" for a in firing]
    parts += [f"{a.rule.key} (pending, for not confirmed)" for a in report.unconfirmed]
    if report.exit_code is ExitCode.UNKNOWN:
        parts += report.unknown
    parts.append(report.state_counts())
    if report.origin is not None:
        parts.append(f"watcher state {report.origin.age_seconds:.0f}s old")
    summary = "; ".join(parts)
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
    text = f"SYNCMON {report.status.upper()} - {sanitize(summary, single_line=True)}"
    return redact(f"{text.replace('|', '/')} | {' '.join(perf)}")
