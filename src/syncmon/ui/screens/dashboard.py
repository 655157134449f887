"""The main screen: lays the panels out and binds each to its part of the `DashboardView`.

The app sets `view` after every event; each `compute_*` below picks one part, and Textual
calls a panel's watcher only when its part changed — so an unchanged panel is never redrawn.
Under 110 columns a status block comes first and the tiles give way to it (SPEC §8.1).
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.reactive import var
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer, Input, ListView

from syncmon.ui import views
from syncmon.ui.messages import FilterChanged
from syncmon.ui.panels.alerts import AlertsTable
from syncmon.ui.panels.charts import ChartsPanel
from syncmon.ui.panels.conflicts import ConflictsPanel
from syncmon.ui.panels.failures import FailuresPanel
from syncmon.ui.panels.header import Freshness, ModeLine, sources_text
from syncmon.ui.panels.health import HealthPanel
from syncmon.ui.panels.metrics import MetricsPanel
from syncmon.ui.panels.status import StatusBlock
from syncmon.ui.panels.text_line import TextLine

MIN_WIDTH, MIN_HEIGHT = 80, 24
FILTERABLE = {
    "alerts": views.ListKind.ALERTS,
    "health": views.ListKind.ENDPOINTS,
    "failures": views.ListKind.FAILURES,
}
FOCUS_FOR = {
    views.ListKind.ALERTS: "#alerts-list",
    views.ListKind.ENDPOINTS: "#health",
    views.ListKind.FAILURES: "#failures",
}


class DashboardScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "app.refresh_now", "refresh"),
        Binding("p", "app.toggle_pause", "pause"),
        Binding("w", "app.cycle_window", "window"),
        Binding("u", "app.filter_user", "user"),
        Binding("c", "app.conflicts", "conflicts"),
        Binding("a", "app.acknowledge", "ack"),
        Binding("slash", "open_filter", "filter", key_display="/"),
        Binding("escape", "clear_filter", "clear filter", show=False),
        Binding("t", "app.timeline", "timeline", show=False),  # in help: the footer is full at 80
        Binding("pagedown", "scroll_body(1)", "scroll", show=False, priority=True),
        Binding("pageup", "scroll_body(-1)", "scroll", show=False, priority=True),
    ]

    view: var[views.DashboardView] = var(views.DashboardView)
    counts: var[views.CountsView] = var(views.CountsView)
    mode: var[views.ModeView] = var(views.ModeView)
    freshness: var[views.FreshnessView] = var(views.FreshnessView)
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
        self._filtering: views.ListKind | None = None  # the list the open `/` box narrows
        self.filters: dict[views.ListKind, str] = {}  # as typed, per list

    def compose(self) -> ComposeResult:
        cls = DashboardScreen
        with Vertical(id="header"):
            yield ModeLine(self._sources, id="mode").data_bind(mode=cls.mode)
            yield Freshness(id="freshness").data_bind(counts=cls.counts, freshness=cls.freshness)
            yield TextLine(id="too-small")
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
        # the alerts list has the focus, yet the screen opens at the top: under 80×24 the
        # status block above it comes first, and focusing must not scroll it away
        self.set_focus(self.query_one("#alerts-list"), scroll_visible=False)

    def on_resize(self) -> None:
        self._name_what_is_cut()

    def _name_what_is_cut(self) -> None:
        """Below 80×24, say so and what does not fit, instead of silently cutting it."""
        width, height = self.size
        line = self.query_one("#too-small", TextLine)
        line.display = width < MIN_WIDTH or height < MIN_HEIGHT
        if line.display:
            cut = []
            if width < MIN_WIDTH:
                cut.append("fewer columns")
            if height < MIN_HEIGHT:
                cut.append("page down for tables, charts")
            line.text = Text(f"under {MIN_WIDTH}×{MIN_HEIGHT}: " + "; ".join(cut), style="bold")

    # --- `/`: filter the focused list ---------------------------------------------------
    def focused_list(self) -> views.ListKind:
        """The list `/` filters: the focused panel's, the alerts when no list has focus."""
        node: Widget | None = self.focused
        while node is not None and not isinstance(node, Screen):
            kind = FILTERABLE.get(node.id or "")
            if kind is not None:
                return kind
            node = node.parent if isinstance(node.parent, Widget) else None
        return views.ListKind.ALERTS

    def action_open_filter(self) -> None:
        """A box at the bottom, mounted only while typing (its cursor blinks)."""
        kind = self.focused_list()
        if self._filtering is not None:
            self._close_filter()
        self._filtering = kind
        box = Input(
            self.filters.get(kind, ""),
            placeholder=f"filter {kind.value}: type to narrow, enter keeps, escape clears",
            id="filter",
        )
        self.mount(box)
        box.focus()

    def _set_filter(self, kind: views.ListKind, text: str) -> None:
        """The app owns the filters (they go into the view); the screen says what changed."""
        self.filters[kind] = text.strip()
        self.post_message(FilterChanged(kind, text.strip()))

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "filter" and self._filtering is not None:
            event.stop()
            self._set_filter(self._filtering, event.value)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "filter":
            event.stop()
            self._close_filter()

    def _close_filter(self) -> None:
        kind, self._filtering = self._filtering, None
        for box in self.query("#filter"):
            box.remove()
        target = FOCUS_FOR.get(kind or views.ListKind.ALERTS, "#alerts-list")
        # back where the reader was: the list had the focus when `/` was pressed
        self.set_focus(self.query_one(target), scroll_visible=False)

    def action_clear_filter(self) -> None:
        """`escape`: while typing, clear and close; on a filtered list, clear its filter."""
        kind = self._filtering if self._filtering is not None else self.focused_list()
        self._set_filter(kind, "")
        if self._filtering is not None:
            self._close_filter()

    # One part of the view per panel: a watcher runs only when its part changed.
    def compute_counts(self) -> views.CountsView:
        return self.view.counts

    def compute_mode(self) -> views.ModeView:
        return self.view.mode

    def compute_freshness(self) -> views.FreshnessView:
        return self.view.freshness

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
