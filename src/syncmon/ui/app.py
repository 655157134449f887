"""The dashboard app: owns the state, runs the workers, and publishes one view after each event.

State lives in plain objects — `DashboardModel` (what the sources said), `PollSchedule`
(when to poll), `LiveAlerts` (the rules' state machines), `AckBook` (who acknowledged
what) — and `publish` turns them into one `DashboardView`. Panels redraw themselves from
their part of it, and only when that part changed. Workers post messages; the handlers
below update the state and publish. Nothing ticks at rest: timers are armed for the next
poll, for the moment the numbers become overdue, and (only while a poll runs over a
second) to count the wait.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any, ClassVar

from textual import work
from textual.app import SystemCommand
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.timer import Timer

from syncmon.config.redaction import describe_error, redact
from syncmon.config.settings import Settings
from syncmon.core.clock import Clock, wall_clock
from syncmon.engine.evaluation import LiveAlerts
from syncmon.ui.acks import AckBook
from syncmon.ui.app_acks import AckHandlers
from syncmon.ui.app_conflicts import ConflictHandlers
from syncmon.ui.conflicts_service import operator_name
from syncmon.ui.deliveries import DeliveryLog
from syncmon.ui.endpoint_log import EndpointLog
from syncmon.ui.messages import (
    FilterChanged,
    HealthPolled,
    PollFinished,
)
from syncmon.ui.model import DashboardModel
from syncmon.ui.panels.alerts import AlertsTable
from syncmon.ui.ports import ConflictsPort, DashboardEngine, SilencesPort
from syncmon.ui.present import ChartsMemo, Inputs, build_view
from syncmon.ui.remote_feed import FeedChanged, RemoteFeed, apply_feed
from syncmon.ui.schedule import PollPlan, PollSchedule
from syncmon.ui.screens.alert_detail import AlertDetailScreen
from syncmon.ui.screens.dashboard import DashboardScreen
from syncmon.ui.screens.help import HelpScreen
from syncmon.ui.screens.quit_guard import QuitDialog, unsent_drafts
from syncmon.ui.screens.timeline import TimelineScreen
from syncmon.ui.screens.user_filter import UserFilterScreen
from syncmon.ui.views import DashboardView, ListKind


class SyncmonApp(AckHandlers, ConflictHandlers):
    CSS_PATH = "app.tcss"
    TITLE = "syncmon"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "quit"),
        Binding("ctrl+c", "quit_asking", "quit", show=False, priority=True),
        Binding("question_mark", "help", "help", key_display="?"),
    ]
    # Textual types these as `ClassVar[...] | None`, which no annotation here can repeat
    HORIZONTAL_BREAKPOINTS = [  # noqa: RUF012
        (0, "-narrow"),
        (110, "-wide"),
        (170, "-xwide"),
    ]
    VERTICAL_BREAKPOINTS = [(0, "-short"), (34, "-tall")]  # noqa: RUF012

    def __init__(
        self,
        settings: Settings,
        *,
        engine: DashboardEngine,
        conflicts: ConflictsPort,
        silences: SilencesPort,
        at: datetime | None = None,
        clock: Clock = wall_clock,
        interval: timedelta | None = None,
        feed: RemoteFeed | None = None,
    ) -> None:
        super().__init__()
        self.settings = settings
        self.engine = engine  # under `--from`, `NoDatabase`: the watchers poll
        self.feed = feed  # `--from`: watchers feed the state instead of the engine's polls
        self.conflicts = conflicts
        self.silences = silences
        self.clock = clock
        self.operator = operator_name(settings)
        self.resolved_here: set[str] = set()  # conflicts this app resolved: not "elsewhere"
        refresh = settings.config.model.dashboard.refresh
        every = interval or settings.interval or refresh
        assert isinstance(every, timedelta)  # validated into one by the config model
        self.schedule = PollSchedule(every, at=at, health_apart=True)
        self.model = DashboardModel()
        rules = () if feed is not None else settings.rules  # --from: the watcher's, when told
        self.alerts = LiveAlerts(rules, self.engine)
        self.acks = AckBook(rules, silences.urls)
        self.deliveries = DeliveryLog()  # the detail screen's "last delivery"
        self.endpoint_log = EndpointLog()  # an endpoint rule's "what changed"
        self._charts = ChartsMemo()
        self.filters: dict[ListKind, str] = {}  # `/`, per list
        self._armed: dict[str, Timer] = {}
        self._overdue_due: datetime | None = None
        self._counting = False

    # --- lifecycle -----------------------------------------------------------------------
    def on_mount(self) -> None:
        if self.feed is not None:
            self.push_screen(DashboardScreen(self.feed.label, "no database (--from)"))
            self.publish()
            self.follow_feed()
            return
        api = redact(self.settings.api_url or "no API configured")
        self.push_screen(DashboardScreen(api, self.settings.database_label))
        self.publish()
        self._start_health()
        self._start_poll()

    async def on_unmount(self) -> None:
        for closer in (self.silences.close, self.engine.close, self.conflicts.close):
            with contextlib.suppress(Exception):  # shutting down: nowhere to show it
                await closer()

    @property
    def polls(self) -> int:
        return self.schedule.polls

    # --- publishing ----------------------------------------------------------------------
    def publish(self) -> None:
        """Rebuild the view from the state; panels whose part is unchanged do nothing."""
        inputs = Inputs(
            self.model,
            self.schedule,
            self.alerts.trackers,
            self.acks,
            self.settings.config.targets,
            tuple(t.rule for t in self.alerts.trackers.values()),  # --from: the watcher's
            self.clock(),
            dict(self.filters),
        )
        self.acks.expire_local(inputs.now)
        self.view = build_view(inputs, self._charts)
        due = self.schedule.overdue_at()
        if due != self._overdue_due:  # one timer, at the moment the numbers go stale
            self._overdue_due = due
            delay = None if due is None else max(0.0, (due - self.clock()).total_seconds())
            self._arm("overdue", delay, self.publish)

    def watch_view(self, view: DashboardView) -> None:
        screen = self.dashboard
        if screen is not None:
            screen.view = view

    def _arm(self, name: str, delay: float | None, callback: Callable[[], None]) -> None:
        """(Re)arm the named timer; None disarms it, 0 runs the callback at once."""
        timer = self._armed.pop(name, None)
        if timer is not None:
            timer.stop()
        if delay is None:
            return
        if delay <= 0:
            self.call_later(callback)
        else:
            self._armed[name] = self.set_timer(delay, callback, name=name)

    def _count_wait(self) -> None:
        """While a poll runs over a second, the header counts it (and only then ticks)."""
        self._armed.pop("wait", None)
        if self.schedule.polling_since is None and self.schedule.health_since is None:
            return
        self.publish()
        self._arm("wait", 1.0, self._count_wait)

    def _waiting(self) -> None:
        if "wait" not in self._armed:
            self._arm("wait", 1.0, self._count_wait)

    # --- the watchers' feed (--from) -----------------------------------------------------
    @work(exclusive=True, group="feed")
    async def follow_feed(self) -> None:
        if self.feed is not None:
            await self.feed.run(self.post_message)

    def on_feed_changed(self, message: FeedChanged) -> None:
        notice = apply_feed(self, message)
        if notice:
            self._notify_plain(notice)
        if not self._counting and message.state is not None:  # the count, each evaluation
            self._counting = True
            self.count_conflicts()
        self.publish()

    # --- polling -------------------------------------------------------------------------
    def _start_poll(self) -> None:
        if self.feed is not None:  # the watchers poll; a viewer never does
            return
        plan = self.schedule.begin_poll(self.clock())
        if plan is None:
            return
        self.poll(plan)
        if not self._counting:
            self._counting = True
            self.count_conflicts()
        if self.acks.shared:
            self.read_silences()
        self._waiting()

    @work(exclusive=True, group="poll")
    async def poll(self, plan: PollPlan) -> None:
        try:
            snapshot = await self.engine.poll(plan.display)
            alerts = snapshot if plan.alerts is None else await self.engine.poll(plan.alerts)
            since = await self.alerts.find_since(alerts)  # the database's, for new episodes
            self.post_message(PollFinished(snapshot, alerts, plan.generation, since=since))
        except Exception as exc:  # sources never raise; this guards against bugs
            self.post_message(PollFinished(None, None, plan.generation, describe_error(exc)))

    def on_poll_finished(self, message: PollFinished) -> None:
        now = self.clock()
        firing_before = {name for name, t in self.alerts.trackers.items() if t.firing}
        if message.error is not None:
            self.model.apply_crash(message.error, now)
        elif message.snapshot is not None and self.schedule.current(message.generation):
            self.model.apply(message.snapshot, now)
            if message.alerts_snapshot is not None:  # tiles show what the rules saw
                self.model.apply_endpoints(message.alerts_snapshot.endpoints)
        if message.alerts_snapshot is not None:
            self.alerts.update(message.alerts_snapshot, message.since)
            ended = self.acks.resolved(self.alerts.trackers, firing_before)
            if ended:
                self.expire_silences(ended, quiet=True)
        delay = self.schedule.end_poll(now, error=message.error)
        self._arm("poll", delay, self._start_poll)
        self.publish()

    def _start_health(self) -> None:
        if self.feed is not None:
            return
        if self.schedule.begin_health(self.clock()):
            self.poll_health()
            self._waiting()

    @work(exclusive=True, group="health")
    async def poll_health(self) -> None:
        try:
            self.post_message(HealthPolled(await self.engine.poll_health()))
        except Exception as exc:  # the poller never raises; this guards against bugs
            self.post_message(HealthPolled(None, describe_error(exc)))

    def on_health_polled(self, message: HealthPolled) -> None:
        """The tiles wait for the next poll, which evaluates the endpoint rules on these
        results: a tile and its rule never disagree. The first results start one at once."""
        if message.error is not None:
            self.model.apply_health_error(message.error)
        elif message.endpoints is not None and self.model.endpoints is None:
            self._start_poll()
        if message.endpoints is not None:
            self.endpoint_log.record(message.endpoints, self.clock())
        self._arm("health", self.schedule.end_health(), self._start_health)
        self.publish()

    # --- actions (keys and command palette) ----------------------------------------------
    def action_refresh_now(self) -> None:
        self.schedule.refresh_now()
        self._start_health()
        self._start_poll()

    def action_toggle_pause(self) -> None:
        if self.schedule.toggle_pause():
            self._start_health()
            self._start_poll()
        else:
            self._arm("poll", None, self._start_poll)
            self._arm("health", None, self._start_health)
        self.publish()

    def _change_view(self, window: timedelta | None, user: uuid.UUID | None) -> None:
        """Window or user changed: old numbers no longer apply, poll again now."""
        if self.feed is not None:
            self._notify_plain("--from: the window and user are the watcher's", "warning")
            return
        self.schedule.change_view(window=window, user=user)
        self.model.reset()
        self.publish()
        self._start_poll()

    def action_cycle_window(self) -> None:
        self._change_view(self.schedule.next_window(), self.schedule.user)

    def action_filter_user(self) -> None:
        def chosen(value: str | None) -> None:
            if value is not None:
                self._change_view(None, uuid.UUID(value) if value else None)

        current = str(self.schedule.user) if self.schedule.user else None
        self.push_screen(UserFilterScreen(current), chosen)

    def on_filter_changed(self, message: FilterChanged) -> None:
        """`/` narrows a list now, from the data on screen: no poll."""
        if message.text:
            self.filters[message.kind] = message.text
        else:
            self.filters.pop(message.kind, None)
        self.publish()

    def action_quit_asking(self) -> None:
        """`ctrl+c`: quit, unless a merge draft was never sent (then ask; twice quits)."""
        drafts = unsent_drafts(self.screen_stack)
        if not drafts or isinstance(self.screen, QuitDialog):
            self.exit()
            return
        self.push_screen(QuitDialog(drafts), lambda yes: self.exit() if yes else None)

    def action_alert_detail(self) -> None:
        """`enter` on an alert: its detail screen (the same evaluation the list shows)."""
        screen = self.dashboard
        name = screen.query_one(AlertsTable).selected_rule() if screen else None
        tracker = self.alerts.trackers.get(name or "")
        if tracker is not None:
            self.push_screen(AlertDetailScreen(tracker.rule))

    def action_timeline(self) -> None:
        """`t`: every rule's episodes of the last 24 h (or the 24 h before --at)."""
        if not isinstance(self.screen, TimelineScreen):
            self.push_screen(TimelineScreen())

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        # Textual's own "Keys" (its help panel) would stand beside ours: one "Keys", ours
        yield from (c for c in super().get_system_commands(screen) if c.title != "Keys")
        if isinstance(screen, DashboardScreen):
            for title, help_text, action in (
                ("Refresh now", "poll every source now (r)", self.action_refresh_now),
                ("Pause / resume", "stop or restart polling (p)", self.action_toggle_pause),
                ("Cycle window", "5m, 15m, 1h, 6h, 24h (w)", self.action_cycle_window),
                ("Filter by user", "show one user's operations (u)", self.action_filter_user),
                ("Conflicts", "open conflicts, resolve by hand (c)", self.action_conflicts),
                ("Acknowledge alert", "ack / un-ack the selected one (a)", self.action_acknowledge),
            ):
                yield SystemCommand(title, help_text, action)
        yield SystemCommand("Keys", "every key and what it does (?)", self.action_help)
