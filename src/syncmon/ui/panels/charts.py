"""plotext charts of the last hour (or the window, if longer), sized to their widget.

`PlotextPlot` rebuilds the figure at the widget's size on every render, so a resize
redraws at the new size; the data is only replaced when a poll brings a new series.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from textual_plotext import PlotextPlot

from syncmon.core.metrics import Unit, performance_metrics
from syncmon.engine import ChartSeries
from syncmon.ui.text import clean


@dataclass
class Line:
    label: str
    values: list[float | None]


@dataclass
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


def _segments(
    x: Sequence[float], values: Sequence[float | None]
) -> list[tuple[list[float], list[float]]]:
    """Split at gaps (buckets without data) so lines are not drawn through missing data."""
    segments: list[tuple[list[float], list[float]]] = []
    xs: list[float] = []
    ys: list[float] = []
    for xv, yv in zip(x, values, strict=True):
        if yv is None:
            if xs:
                segments.append((xs, ys))
            xs, ys = [], []
        else:
            xs.append(xv)
            ys.append(yv)
    if xs:
        segments.append((xs, ys))
    return segments


class SeriesChart(PlotextPlot):
    COLORS = ("cyan", "orange", "green")
    MARKERS = ("braille", "·", "braille")

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._data: ChartData | None = None
        self._stale = False

    def show(self, data: ChartData | None, stale: bool = False) -> None:
        self._data, self._stale = data, stale
        self.replot()

    def replot(self) -> None:
        plt = self.plt
        plt.clear_figure()
        data = self._data
        if data is None:
            plt.title("waiting for data…")
            self.refresh()
            return
        plt.title(data.title + ("  (STALE)" if self._stale else ""))
        plt.xlabel(data.x_label)
        drawn = False
        for index, line in enumerate(data.lines):
            color = self.COLORS[index % len(self.COLORS)]
            marker = self.MARKERS[index % len(self.MARKERS)]
            for n, (xs, ys) in enumerate(_segments(data.x, line.values)):
                plt.plot(xs, ys, label=line.label if n == 0 else None, color=color, marker=marker)
                drawn = True
        values = [v for line in data.lines for v in line.values if v is not None]
        values += [value for _, value in data.thresholds]
        low, high = (min(values), max(values)) if values else (0.0, 1.0)
        for value, names in _threshold_labels(data.thresholds, high - low):
            plt.hline(value, "red")
            label = clean("alert: " + ", ".join(names), limit=40)
            if data.x:
                plt.text(label, data.x[-1], value, color="red", alignment="right")
        if not drawn:
            plt.text("no operations", data.x[len(data.x) // 2] if data.x else 0, 0)
        if data.x:
            plt.xlim(data.x[0], data.x[-1])
        ticks = _nice_ticks(low, high)
        plt.yticks(ticks, [f"{t:g}" for t in ticks])
        self.refresh()


def _threshold_labels(
    thresholds: list[tuple[str, float]], span: float
) -> list[tuple[float, list[str]]]:
    """One label per threshold line; lines closer than a tenth of the span share a label."""
    merged: list[tuple[float, list[str]]] = []
    for name, value in sorted(thresholds, key=lambda t: t[1]):
        if merged and abs(value - merged[-1][0]) <= max(span, 1e-9) / 10:
            merged[-1][1].append(name)
        else:
            merged.append((value, [name]))
    return merged


def _nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values (1, 2 or 5 times a power of ten) within [low, high]."""
    if high <= low:
        high = low + 1
    raw = (high - low) / (count - 1)
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    start = math.floor(low / step) * step
    ticks = [round(start + i * step, 10) for i in range(count + 1)]
    inside = [t for t in ticks if low - 1e-9 <= t <= high + 1e-9]  # plotext pins others to an edge
    return inside or [low, high]
