"""What the charts plot, as plain data: series per chart, the rule thresholds to draw.

Pure (no Textual, no plotext), so a poll whose chart did not change compares equal and
redraws nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from syncmon.core.conditions import comparisons
from syncmon.core.metrics import Unit, performance_metrics
from syncmon.core.rules import AlertRule
from syncmon.engine.poll import ChartSeries


def rule_thresholds(rules: tuple[AlertRule, ...]) -> dict[str, list[tuple[str, float, Unit]]]:
    """metric → [(rule name, threshold, unit)] for every comparison in every rule."""
    out: dict[str, list[tuple[str, float, Unit]]] = {}
    for rule in rules:
        for comparison in comparisons(rule.condition):
            out.setdefault(comparison.metric.name, []).append(
                (rule.name, comparison.threshold, comparison.metric.unit)
            )
    return out


@dataclass(frozen=True)
class Line:
    label: str
    values: list[float | None]


@dataclass(frozen=True)
class ChartData:
    title: str
    x: list[float]
    x_label: str
    lines: list[Line]
    thresholds: list[tuple[str, float]] = field(default_factory=list)
    y_label: str = ""


def _metric(series: ChartSeries, name: str, scale: float = 1.0) -> list[float | None]:
    step = int(series.step.total_seconds()) or 1
    values: list[float | None] = []
    for agg in series.performance:
        if agg is None:
            values.append(None)
            continue
        metric = next((m for m in performance_metrics(agg, step) if m.name == name), None)
        values.append(None if metric is None or metric.value is None else metric.value * scale)
    return values


def x_axis(series: ChartSeries) -> tuple[list[float], str]:
    """Bucket ends as time before the newest bucket: minutes for ≤ 2h spans, else hours."""
    count = len(series.performance)
    step = series.step.total_seconds()
    if count * step <= 7200:
        return [-(count - 1 - i) * step / 60 for i in range(count)], "minutes ago"
    return [-(count - 1 - i) * step / 3600 for i in range(count)], "hours ago"


def build_charts(
    series: ChartSeries, thresholds: dict[str, list[tuple[str, float, Unit]]]
) -> tuple[ChartData, ChartData, ChartData]:
    """Failure rates (%), sync duration (ms), throughput (/min) with rule thresholds."""
    x, label = x_axis(series)

    def lines_for(*names: str) -> list[tuple[str, float]]:
        out = []
        for name in names:
            for rule, value, unit in thresholds.get(name, []):
                out.append((rule, value * 100 if unit is Unit.RATIO else value))
        return out

    failures = ChartData(
        "failure rate %",
        x,
        label,
        [
            Line("sync", _metric(series, "sync_failure_rate", 100)),
            Line("plaid", _metric(series, "plaid_error_rate", 100)),
        ],
        lines_for("sync_failure_rate", "plaid_error_rate", "error_rate"),
    )
    duration = ChartData(
        "sync duration ms",
        x,
        label,
        [
            Line("avg", _metric(series, "avg_sync_duration")),
            Line("p95", _metric(series, "p95_sync_duration")),
        ],
        lines_for("avg_sync_duration", "p95_sync_duration"),
    )
    throughput = ChartData(
        "sync throughput /min",
        x,
        label,
        [
            Line("ops/min", _metric(series, "sync_throughput")),
        ],
        lines_for("sync_throughput"),
    )
    return failures, duration, throughput
