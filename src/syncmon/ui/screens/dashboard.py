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
from textual.widgets import Footer, ListView

from syncmon.ui import views
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


class DashboardScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "app.refresh_now", "refresh"),
        Binding("p", "app.toggle_pause", "pause"),
        Binding("w", "app.cycle_window", "window"),
        Binding("u", "app.filter_user", "user"),
        Binding("c", "app.conflicts", "conflicts"),
        Binding("a", "app.acknowledge", "ack"),
        Binding("t", "app.timeline", "timeline", show=False),  # in help: the footer is full at 80
        Binding("pagedown", "scroll_body(1)", "scroll", show=False, priority=True),
        Binding("pageup", "scroll_body(-1)", "scroll", show=False, priority=True),
    ]

    view: var[views.DashboardView] = var(views.DashboardView)
    counts: var[views.CountsView] = var(views.CountsView)
    mode: var[views.ModeView] = var(views.ModeView)
    freshness: var[views.FreshnessView] = var(views.FreshnessView)
    overdue: var[views.StaleView | None] = var(None)
    health: var[views.HealthView] = var(views.HealthView)
    endpoints: var[views.EndpointsSummary] = var(views.EndpointsSummary)
    attention: var[tuple[views.AlertRowView, ...]] = var(tuple)
    stale: var[tuple[views.StaleView, ...]] = var(tuple)
    alerts: var[views.AlertsView] = var(views.AlertsView)
    metrics: var[views.MetricsView] = var(views.MetricsView)
    failures: var[views.FailuresView] = var(views.FailuresView)
    conflicts: var[views.ConflictsView] = var(views.ConflictsView)
    charts: var[views.ChartsView] = var(views.ChartsView)

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
    def compute_counts(self) -> views.CountsView:
        return self.view.counts

    def compute_mode(self) -> views.ModeView:
        return self.view.mode

    def compute_freshness(self) -> views.FreshnessView:
        return self.view.freshness

    def compute_overdue(self) -> views.StaleView | None:
        return self.view.freshness.overdue

    def compute_health(self) -> views.HealthView:
        return self.view.health

    def compute_endpoints(self) -> views.EndpointsSummary:
        return self.view.endpoints

    def compute_attention(self) -> tuple[views.AlertRowView, ...]:
        return self.view.attention

    def compute_stale(self) -> tuple[views.StaleView, ...]:
        return self.view.stale

    def compute_alerts(self) -> views.AlertsView:
        return self.view.alerts

    def compute_metrics(self) -> views.MetricsView:
        return self.view.metrics

    def compute_failures(self) -> views.FailuresView:
        return self.view.failures

    def compute_conflicts(self) -> views.ConflictsView:
        return self.view.conflicts

    def compute_charts(self) -> views.ChartsView:
        return self.view.charts

    def on_list_view_selected(self, event: ListView.Selected) -> None:
        """`enter` on an alert opens its detail screen."""
        if event.list_view.id == "alerts-list":
            self.app.call_later(self.app.run_action, "alert_detail")

    def action_scroll_body(self, direction: int) -> None:
        """Page the panels without a mouse, whichever panel has focus."""
        body = self.query_one("#body", VerticalScroll)
        (body.scroll_page_down if direction > 0 else body.scroll_page_up)()
