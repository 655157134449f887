"""`enter` on an alert: everything about it on one screen, and what changed at since.

A view of the same evaluation the list shows (STYLE: "Detail is a view of the same
snapshot"): the facts are redrawn from the app's view and the rule's tracker each time the
app publishes, so the list and the detail never disagree. The chart and "what changed"
are read through the engine in a worker — again when the episode changes, or on `r`.
Opened from the timeline, it shows that past episode instead (the ack is then the live
one's only if it is the same episode).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, ClassVar, cast

from rich.console import RenderableType
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static

from syncmon.config.redaction import describe_error
from syncmon.core.alerts import AlertState
from syncmon.core.episodes import Since
from syncmon.core.rules import AlertRule
from syncmon.core.timeline import Episode
from syncmon.sources.past import EpisodeContext
from syncmon.ui.detail import Moment, chart, endpoint_changes, facts, what_changed
from syncmon.ui.panels.charts import SeriesChart
from syncmon.ui.present import ack_view
from syncmon.ui.text import clean, clock

if TYPE_CHECKING:
    from syncmon.ui.app import SyncmonApp

QUIET_SPAN = timedelta(minutes=30)  # an alert not pending or firing: chart the last hour


class AlertDetailScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "back"),
        Binding("q", "back", "back", show=False),
        Binding("a", "acknowledge", "ack"),
        Binding("r", "reread", "re-read"),
        Binding("t", "app.timeline", "timeline"),
        Binding("pagedown", "page(1)", "scroll", show=False),
        Binding("pageup", "page(-1)", "scroll", show=False),
    ]

    def __init__(self, rule: AlertRule, episode: Episode | None = None) -> None:
        super().__init__()
        self.rule = rule
        self.episode = episode  # None: the live alert
        self._loaded_for: tuple[object, ...] | None = None  # the episode last read
        self._drawn: dict[str, object] = {}  # what each part was drawn from
        self.context: EpisodeContext | None = None

    @property
    def syncmon(self) -> SyncmonApp:
        return cast("SyncmonApp", self.app)

    def compose(self) -> ComposeResult:
        yield Static(id="alert-detail-title")
        with VerticalScroll(id="alert-detail-body"):
            yield Static(id="alert-detail-facts")
            yield Static(Text("what changed at since", style="bold underline"))
            yield Static(Text("reading…", style="dim"), id="alert-detail-changes")
            yield SeriesChart(id="alert-detail-chart", classes="detail-chart")
        yield Footer()

    def on_mount(self) -> None:
        self.watch(self.syncmon, "view", lambda _: self.redraw(), init=False)
        self.redraw()
        self.query_one("#alert-detail-body").focus()

    # --- the facts, from the evaluation the list shows ----------------------------------------
    def moment(self) -> Moment:
        app = self.syncmon
        if self.episode is not None:
            ep = self.episode
            end = ep.end or app.model.evaluated_at or app.clock()
            return Moment(Since(ep.start, bounded=ep.bounded), end, ep)
        tracker = app.alerts.trackers[self.rule.key]
        # the evaluation's own time: under --at that moment, live the last poll's
        return Moment(tracker.since_info, app.model.evaluated_at or app.clock())

    def redraw(self) -> None:
        app = self.syncmon
        tracker = app.alerts.trackers[self.rule.key]
        moment = self.moment()
        live = self.episode is None or self.episode.id == tracker.episode_id
        row = next((r for r in app.view.alerts.rows if r.rule == self.rule.key), None)
        ack = app.acks.ack_for(self.rule)
        shown_ack = ack_view(ack, app.clock()) if ack is not None and live else None
        delivery = app.deliveries.last.get(self.rule.key) if live else None
        episode_id = self.episode.id if self.episode else tracker.episode_id
        parts = (row, episode_id, moment, shown_ack, delivery, app.acks.shared, live)
        if self._changed("facts", parts):  # the view is published often; redraw on change
            table = facts(self.rule, *parts[:-1], current=live)
            self.query_one("#alert-detail-facts", Static).update(table)
        what = "live"
        if self.episode is not None:
            what = "a past episode"
        elif app.schedule.at is not None:
            what = f"at {clock(app.schedule.at)}"
        title = Text.assemble(("alert detail", "bold"), f" · {self.rule.key} · {what}")
        if self._changed("title", title.plain):
            self.query_one("#alert-detail-title", Static).update(title)
        if not self.rule.has_history:
            self._show_endpoint(moment)  # this dashboard's own polls: follow them
            return
        key = (episode_id, moment.since)
        if key != self._loaded_for:
            self._loaded_for = key
            self.reread()

    def _changed(self, part: str, value: object) -> bool:
        if self._drawn.get(part, ...) == value:
            return False
        self._drawn[part] = value
        return True

    # --- the chart and what changed, through the engine ---------------------------------------
    def reread(self) -> None:
        app = self.syncmon
        moment = self.moment()
        if not self.rule.has_history:
            self._show_endpoint(moment)
            return
        active = self.episode is not None or app.alerts.trackers[self.rule.key].state in (
            AlertState.FIRING,
            AlertState.PENDING,
        )
        since = moment.since.at if moment.since and active else moment.end - QUIET_SPAN
        self.load(since, moment, active)

    def _show_endpoint(self, moment: Moment) -> None:
        app = self.syncmon
        since = moment.since.at if moment.since else None
        text = endpoint_changes(app.endpoint_log, since, app.schedule.at is not None)
        if self._changed("endpoints", text):
            self._changes(text)
        self.query_one(SeriesChart).display = False

    @work(exclusive=True, group="alert-detail")
    async def load(self, since: datetime, moment: Moment, active: bool) -> None:
        app = self.syncmon
        try:
            context = await app.engine.episode(self.rule, since, moment.end)
        except Exception as exc:  # the engine never raises; this guards against bugs
            context = EpisodeContext(error=describe_error(exc))
        self.context = context
        if not active:
            self._changes(
                Text("not pending or firing: no episode to compare (the chart shows the last hour)")
            )
        else:
            self._changes(what_changed(context.changes))
        if context.error is not None:
            self._changes(Text(f"history unreadable: {clean(context.error, limit=300)}"))
        origin = moment.since.at if active and moment.since else None
        self.query_one(SeriesChart).show(chart(self.rule, context.points, origin))

    def _changes(self, renderable: RenderableType) -> None:
        self.query_one("#alert-detail-changes", Static).update(renderable)

    # --- keys -------------------------------------------------------------------------------
    def action_back(self) -> None:
        self.dismiss(None)

    def action_reread(self) -> None:
        self._changes(Text("reading…", style="dim"))
        self._drawn.pop("endpoints", None)
        self.reread()

    def action_acknowledge(self) -> None:
        self.syncmon.action_acknowledge(self.rule.key)

    def action_page(self, direction: int) -> None:
        body = self.query_one("#alert-detail-body", VerticalScroll)
        (body.scroll_page_down if direction > 0 else body.scroll_page_up)()
