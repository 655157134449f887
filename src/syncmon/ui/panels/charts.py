"""plotext charts of the last hour (or the window, if longer), sized to their widget.

`PlotextPlot` rebuilds the figure at the widget's size on every render, so a resize
redraws at the new size; the data is only replaced when a poll brings a new series.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from textual.app import ComposeResult, RenderResult
from textual.reactive import var
from textual_plotext import PlotextPlot

from syncmon.ui.chart_data import ChartData
from syncmon.ui.panels.stale import StaleBadge
from syncmon.ui.panels.text_line import ViewPanel
from syncmon.ui.text import clean
from syncmon.ui.views import ChartsView


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
        self._drawn = False

    def show(self, data: ChartData | None) -> None:
        """Redraw only when the data changed: a chart is the costliest thing to redraw."""
        if self._drawn and data == self._data:
            return
        self._data, self._drawn = data, True
        self.refresh()

    def render(self) -> RenderResult:
        """The figure is rebuilt from the data at every render (a resize, new data): plotext
        keeps state from one build to the next, so a figure built at another size drifts."""
        self._figure()
        return super().render()

    def _figure(self) -> None:
        plt = self.plt
        plt.clear_figure()
        data = self._data
        if data is None:
            plt.title("waiting for data…")
            return
        plt.title(data.title)
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
        # one row per tick at most: plotext draws one of two ticks sharing a row, at random
        rows = max(2, self.size.height - 5)  # less the title, the x axis and the frame
        fitting = [
            ticks
            for count in (5, 4, 3, 2)
            if len(ticks := _nice_ticks(low, high, count)) <= max(2, rows // 2)
        ]
        ticks = fitting[0] if fitting else [low, high]
        plt.yticks(ticks, [f"{t:g}" for t in ticks])


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


class ChartsPanel(ViewPanel):
    """The three charts of the last hour, and the STALE badge of the table they come from."""

    charts: var[ChartsView] = var(ChartsView, init=False)

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._stale = StaleBadge(id="charts-stale")
        self._charts = [
            SeriesChart(id=f"chart-{name}", classes="chart")
            for name in ("failures", "duration", "throughput")
        ]

    def compose(self) -> ComposeResult:
        yield self._stale
        yield from self._charts

    def watch_charts(self) -> None:
        self.redraw()

    def draw(self) -> None:
        view = self.charts
        self._stale.mark = view.stale
        data: tuple[ChartData | None, ...] = view.charts or (None,) * len(self._charts)
        for chart, series in zip(self._charts, data, strict=True):
            chart.show(series)
