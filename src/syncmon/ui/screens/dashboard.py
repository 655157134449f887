"""The main screen: lays the panels out and binds each to its part of the `DashboardView`.

The app sets `view` after every event; each `compute_*` below picks one part, and Textual
calls a panel's watcher only when its part changed — so an unchanged panel is never redrawn.
Under 110 columns a status block comes first and the tiles give way to it (SPEC §8.1).
"""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.reactive import var
from textual.screen import Screen
from textual.widgets import Footer

from syncmon.ui.panels.alerts import AlertsTable
from syncmon.ui.panels.charts import ChartsPanel
from syncmon.ui.panels.conflicts import ConflictsPanel
from syncmon.ui.panels.failures import FailuresPanel
from syncmon.ui.panels.header import AlertCounts, Freshness, ModeLine, sources_text
from syncmon.ui.panels.health import HealthPanel
from syncmon.ui.panels.metrics import MetricsPanel
from syncmon.ui.panels.stale import StaleBadge
from syncmon.ui.panels.status import StatusBlock
from syncmon.ui.panels.text_line import TextLine
from syncmon.ui.views import (
    AlertRowView,
    AlertsView,
    ChartsView,
    ConflictsView,
    CountsView,
    DashboardView,
    EndpointsSummary,
    FailuresView,
    FreshnessView,
    HealthView,
    MetricsView,
    ModeView,
    StaleView,
)


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

    view: var[DashboardView] = var(DashboardView)
    counts: var[CountsView] = var(CountsView)
    mode: var[ModeView] = var(ModeView)
    freshness: var[FreshnessView] = var(FreshnessView)
    overdue: var[StaleView | None] = var(None)
    health: var[HealthView] = var(HealthView)
    endpoints: var[EndpointsSummary] = var(EndpointsSummary)
    attention: var[tuple[AlertRowView, ...]] = var(tuple)
    stale: var[tuple[StaleView, ...]] = var(tuple)
    alerts: var[AlertsView] = var(AlertsView)
    metrics: var[MetricsView] = var(MetricsView)
    failures: var[FailuresView] = var(FailuresView)
    conflicts: var[ConflictsView] = var(ConflictsView)
    charts: var[ChartsView] = var(ChartsView)

    def __init__(self, api: str, database: str) -> None:
        super().__init__()
        self._sources = sources_text(api, database)

    def compose(self) -> ComposeResult:
        cls = DashboardScreen
        with Vertical(id="header"):
            yield TextLine(self._sources, id="header-sources")
            with Horizontal(id="header-status"):
                yield AlertCounts(id="counts").data_bind(counts=cls.counts)
                yield ModeLine(id="mode").data_bind(mode=cls.mode)
                yield Freshness(id="freshness").data_bind(freshness=cls.freshness)
                yield StaleBadge(compact=True, id="overdue").data_bind(mark=cls.overdue)
        with VerticalScroll(id="body"):
            yield StatusBlock(id="status").data_bind(
                endpoints=cls.endpoints,
                attention=cls.attention,
                stale=cls.stale,
                conflicts=cls.conflicts,
            )
            yield HealthPanel(id="health").data_bind(health=cls.health)
            yield AlertsTable(id="alerts").data_bind(alerts=cls.alerts)
            with Horizontal(id="columns"):
                with Vertical(id="left"):
                    yield ConflictsPanel(id="conflicts").data_bind(conflicts=cls.conflicts)
                    yield MetricsPanel(id="metrics").data_bind(metrics=cls.metrics)
                    yield FailuresPanel(id="failures").data_bind(failures=cls.failures)
                yield ChartsPanel(id="right").data_bind(charts=cls.charts)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#alerts-list").focus()

    # One part of the view per panel: a watcher runs only when its part changed.
    def compute_counts(self) -> CountsView:
        return self.view.counts

    def compute_mode(self) -> ModeView:
        return self.view.mode

    def compute_freshness(self) -> FreshnessView:
        return self.view.freshness

    def compute_overdue(self) -> StaleView | None:
        return self.view.freshness.overdue

    def compute_health(self) -> HealthView:
        return self.view.health

    def compute_endpoints(self) -> EndpointsSummary:
        return self.view.endpoints

    def compute_attention(self) -> tuple[AlertRowView, ...]:
        return self.view.attention

    def compute_stale(self) -> tuple[StaleView, ...]:
        return self.view.stale

    def compute_alerts(self) -> AlertsView:
        return self.view.alerts

    def compute_metrics(self) -> MetricsView:
        return self.view.metrics

    def compute_failures(self) -> FailuresView:
        return self.view.failures

    def compute_conflicts(self) -> ConflictsView:
        return self.view.conflicts

    def compute_charts(self) -> ChartsView:
        return self.view.charts

    def action_scroll_body(self, direction: int) -> None:
        """Page the panels without a mouse, whichever panel has focus."""
        body = self.query_one("#body", VerticalScroll)
        (body.scroll_page_down if direction > 0 else body.scroll_page_up)()
