"""The main screen: composition and rendering of the panels from the `DashboardModel`.

The app owns polling and state; this screen only lays the panels out and redraws them.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static

from syncmon.core.alerts import AlertState, AlertTracker
from syncmon.core.conditions import Condition, comparisons
from syncmon.core.metrics import Source, Unit
from syncmon.core.rules import AlertRule
from syncmon.ui.acks import Acknowledgements
from syncmon.ui.model import DashboardModel
from syncmon.ui.panels.alerts import AlertsTable
from syncmon.ui.panels.charts import SeriesChart, build_charts
from syncmon.ui.panels.failures import FailuresPanel
from syncmon.ui.panels.header import DashboardHeader, HeaderState
from syncmon.ui.panels.health import HealthPanel
from syncmon.ui.panels.metrics import MetricsPanel
from syncmon.ui.text import age, safe, window_label

DATABASE = (Source.PERFORMANCE, Source.CONFLICTS, Source.HEALTH_TABLE)


def rule_thresholds(rules: tuple[AlertRule, ...]) -> dict[str, list[tuple[str, float, Unit]]]:
    """metric → [(rule name, threshold, unit)] for every comparison in every rule."""
    out: dict[str, list[tuple[str, float, Unit]]] = {}
    for rule in rules:
        for comparison in comparisons(rule.condition):
            out.setdefault(comparison.metric.name, []).append(
                (rule.name, comparison.threshold, comparison.metric.unit)
            )
    return out


class DashboardScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "app.refresh_now", "refresh"),
        Binding("p", "app.toggle_pause", "pause"),
        Binding("w", "app.cycle_window", "window"),
        Binding("u", "app.filter_user", "user"),
        Binding("c", "app.conflicts", "conflicts"),
        Binding("a", "app.acknowledge", "ack"),
        Binding("pagedown", "scroll_body(1)", "scroll", show=False, priority=True),
        Binding("pageup", "scroll_body(-1)", "scroll", show=False, priority=True),
    ]

    def compose(self) -> ComposeResult:
        yield DashboardHeader(id="header")
        with VerticalScroll(id="body"):
            yield HealthPanel(id="health")
            with Horizontal(id="columns"):
                with Vertical(id="left"):
                    yield AlertsTable(id="alerts")
                    yield MetricsPanel(id="metrics")
                    yield Static(id="conflicts-count")
                    yield FailuresPanel(id="failures")
                with Vertical(id="right"):
                    yield SeriesChart(id="chart-failures", classes="chart")
                    yield SeriesChart(id="chart-duration", classes="chart")
                    yield SeriesChart(id="chart-throughput", classes="chart")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#alerts").border_title = "alerts"
        self.query_one("#metrics").border_title = "key metrics"
        self.query_one("#failures").border_title = "recent failures"
        self.query_one("#conflicts-count").border_title = "conflicts"
        self.query_one(AlertsTable).focus()

    def action_scroll_body(self, direction: int) -> None:
        """Page the panels without a mouse, whichever panel has focus."""
        body = self.query_one("#body", VerticalScroll)
        (body.scroll_page_down if direction > 0 else body.scroll_page_up)()

    def show_header(self, state: HeaderState, now: datetime) -> None:
        self.query_one(DashboardHeader).show(state, now)

    def show_model(
        self,
        model: DashboardModel,
        trackers: Mapping[str, AlertTracker],
        acks: Acknowledgements,
        targets: Mapping[str, Condition],
        rules: tuple[AlertRule, ...],
        now: datetime,
        alert_now: datetime,
    ) -> None:
        """Redraw every panel; `alert_now` is the evaluation time (differs under --at)."""
        window = window_label(model.metrics_window) if model.metrics_window else ""
        self.query_one("#metrics").border_title = (
            f"key metrics ({window})" if window else "key metrics"
        )
        self.query_one("#failures").border_title = (
            f"recent failures ({window})" if window else "recent failures"
        )
        self.query_one(HealthPanel).show(
            model.endpoints,
            model.stale.get(Source.ENDPOINTS),
            model.unavailable.get(Source.ENDPOINTS),
            now,
        )
        self.query_one(AlertsTable).show(trackers.values(), acks, alert_now)
        firing = sum(
            1 for t in trackers.values() if t.state is AlertState.FIRING and t.rule.name not in acks
        )
        subtitle = Text(f"{firing} firing", style="bold red") if firing else Text("")
        if model.alerts_stale:
            subtitle.append(" not re-evaluated: the last poll failed ", style="bold yellow")
        self.query_one("#alerts").border_subtitle = subtitle
        self.query_one(MetricsPanel).show(model.metrics, targets, model.stale, now)
        self.query_one(FailuresPanel).show(
            model.top_errors,
            model.stale.get(Source.PERFORMANCE),
            now,
            model.unavailable.get(Source.PERFORMANCE),
        )
        self._show_conflicts(model, now)
        self._show_charts(model, rules)

    def _show_conflicts(self, model: DashboardModel, now: datetime) -> None:
        text = Text()
        if model.conflicts_open is None:
            text.append("open: ?", style="dim")
        else:
            text.append(
                f"{model.conflicts_open} open",
                style="bold yellow" if model.conflicts_open else "green",
            )
        if model.conflicts_stale is not None:
            mark = model.conflicts_stale
            text.append("  STALE", style="bold yellow")
            if mark.last_good:
                text.append(f" {age(now - mark.last_good)}", style="yellow")
            text.append(" ")
            text.append_text(safe(mark.reason, "dim", limit=80))
        text.append("  c: open the list", style="dim")
        self.query_one("#conflicts-count", Static).update(text)

    def _show_charts(self, model: DashboardModel, rules: tuple[AlertRule, ...]) -> None:
        charts = [
            self.query_one(f"#chart-{n}", SeriesChart)
            for n in ("failures", "duration", "throughput")
        ]
        if model.chart is None:
            for chart in charts:
                chart.show(None)
            return
        stale = model.stale_for(Source.PERFORMANCE) is not None
        for chart, data in zip(
            charts, build_charts(model.chart, rule_thresholds(rules)), strict=True
        ):
            chart.show(data, stale)
