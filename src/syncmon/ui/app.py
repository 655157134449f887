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
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.notifications import SeverityLevel
from textual.reactive import var
from textual.screen import Screen
from textual.timer import Timer

from syncmon.config.redaction import describe_error, redact
from syncmon.config.settings import Settings
from syncmon.core.conflicts import OutcomeKind, ResolveRequest
from syncmon.core.rules import AlertRule
from syncmon.core.silences import SilenceRef
from syncmon.core.text import sanitize
from syncmon.engine.evaluation import LiveAlerts
from syncmon.ui.acks import AckBook, Notice, ack_target
from syncmon.ui.conflicts_service import operator_name
from syncmon.ui.deliveries import DeliveryLog
from syncmon.ui.endpoint_log import EndpointLog
from syncmon.ui.messages import (
    ConflictsLoaded,
    ConflictsWanted,
    FilterChanged,
    HealthPolled,
    PollFinished,
    ResolveAnswered,
    ResolveRequested,
    SilencesExpired,
    SilencesMade,
    SilencesRead,
)
from syncmon.ui.model import DashboardModel
from syncmon.ui.panels.alerts import AlertsTable
from syncmon.ui.ports import ConflictsPort, DashboardEngine, SilencesPort
from syncmon.ui.present import ChartsMemo, Inputs, ack_view, build_view
from syncmon.ui.remote_feed import FeedChanged, RemoteFeed, apply_feed
from syncmon.ui.schedule import PollPlan, PollSchedule
from syncmon.ui.screens.ack_dialog import AckDialog, AckRequest, AckTarget
from syncmon.ui.screens.alert_detail import AlertDetailScreen
from syncmon.ui.screens.conflict_detail import ConflictDetailScreen
from syncmon.ui.screens.conflicts import ConflictsScreen
from syncmon.ui.screens.dashboard import DashboardScreen
from syncmon.ui.screens.help import HelpScreen
from syncmon.ui.screens.quit_guard import QuitDialog, unsent_drafts
from syncmon.ui.screens.timeline import TimelineScreen
from syncmon.ui.screens.unack import UnackScreen
from syncmon.ui.screens.user_filter import UserFilterScreen
from syncmon.ui.views import DashboardView, ListKind

Clock = Callable[[], datetime]


def _now() -> datetime:
    return datetime.now(UTC)


class SyncmonApp(App[int]):
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

    view: var[DashboardView] = var(DashboardView, init=False)

    def __init__(
        self,
        settings: Settings,
        *,
        engine: DashboardEngine,
        conflicts: ConflictsPort,
        silences: SilencesPort,
        at: datetime | None = None,
        clock: Clock = _now,
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
    def dashboard(self) -> DashboardScreen | None:
        return next((s for s in self.screen_stack if isinstance(s, DashboardScreen)), None)

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

    def _notify_plain(self, message: str, severity: SeverityLevel = "information") -> None:
        """Notices may quote a receiver's error text: no markup, no control characters."""
        text = sanitize(redact(message), single_line=True, limit=300)
        self.notify(text, severity=severity, markup=False)

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

    @work(exclusive=True, group="conflict-count")
    async def count_conflicts(self) -> None:
        self.post_message(ConflictsLoaded(await self.conflicts.list_open()))

    def on_conflicts_wanted(self, message: ConflictsWanted) -> None:
        """A conflicts screen asks for a fresh list (`r`, or shown again): read it now."""
        message.stop()
        self._counting = True
        self.count_conflicts()

    def on_conflicts_loaded(self, message: ConflictsLoaded) -> None:
        self._counting = False
        result = message.result
        self.model.apply_conflicts(len(result.conflicts), result.error, self.clock())
        for screen in self.screen_stack:  # the list is live too: the same answer, every poll
            if isinstance(screen, ConflictsScreen):
                screen.show(result)
        self.publish()

    def on_resolve_requested(self, message: ResolveRequested) -> None:
        message.stop()
        self.resolve(message.request)

    @work(exclusive=False, group="resolve")
    async def resolve(self, request: ResolveRequest) -> None:
        """The app's worker, not the screen's: escape mid-request never cancels the POST."""
        self.post_message(ResolveAnswered(request, await self.conflicts.resolve(request)))

    def on_resolve_answered(self, message: ResolveAnswered) -> None:
        request, outcome = message.request, message.outcome
        if outcome.kind is OutcomeKind.RESOLVED:
            self.resolved_here.add(request.conflict.id)  # it leaves the list unmarked
        shown = False
        for screen in self.screen_stack:
            if isinstance(screen, ConflictDetailScreen) and screen.request is request:
                screen.answered(request, outcome)
                shown = True
        if not shown:  # the engineer left the detail before the answer came
            entity = f"{request.conflict.entity_type} {request.conflict.entity_id}"
            if outcome.kind is OutcomeKind.RESOLVED:
                self._notify_plain(f"conflict {entity} resolved")
            else:
                why = f"{outcome.kind.value}: {outcome.message}"
                self._notify_plain(f"conflict {entity} NOT resolved ({why})", "warning")
        self._counting = True
        self.count_conflicts()

    # --- acknowledgements (the decisions are AckBook's; here, the workers) ----------------
    def _tell(self, notices: list[Notice]) -> None:
        for message, severity in notices:
            self._notify_plain(message, severity)

    @work(exclusive=True, group="silences")
    async def read_silences(self) -> None:
        self.post_message(SilencesRead(await self.silences.read_all()))

    def on_silences_read(self, message: SilencesRead) -> None:
        self._tell(self.acks.apply_reads(message.reads))
        self.publish()

    def action_acknowledge(self, rule_name: str | None = None) -> None:
        """`a`: the alert named (detail screen) or selected (list): the ack dialog, or the
        offer to un-acknowledge an acked one."""
        screen = self.dashboard
        selected = rule_name or (screen.query_one(AlertsTable).selected_rule() if screen else None)
        target = ack_target(selected, self.alerts.trackers, self.acks)
        if target is None:
            self._notify_plain(
                "select a firing alert (↑/↓ in the alerts panel) to acknowledge", "warning"
            )
            return
        undo, tracker = target
        rule = tracker.rule
        if undo:
            self._offer_unack(rule)
            return
        row = next((r for r in self.view.alerts.rows if r.rule == rule.key), None)
        since = f"{row.since_age} ago ({row.since_clock})" if row and row.since_age else None
        dialog = AckDialog(AckTarget(rule.key, row.value if row else "—", since, self.acks.shared))
        self.push_screen(dialog, lambda request: self._acknowledge(rule, request))

    def _acknowledge(self, rule: AlertRule, request: AckRequest | None) -> None:
        """The dialog answered: escape acks nothing; else the ack, timed or until resolved."""
        tracker = self.alerts.trackers.get(rule.key)
        if request is None or tracker is None or not tracker.firing:
            if request is not None:
                self._notify_plain(f"{rule.key} is no longer firing: nothing acknowledged")
            return
        now = self.clock()
        until = now + request.duration if request.duration else None
        self.acks.acknowledge(rule, self.operator, now, until=until, comment=request.comment)
        if self.acks.shared:
            self.make_silences(rule, until, request.comment)
        else:
            self._notify_plain(f"acknowledged {rule.key} as {self.operator} (local to this app)")
        self.publish()

    def _offer_unack(self, rule: AlertRule) -> None:
        ack = self.acks.ack_for(rule)
        assert ack is not None

        def answered(yes: bool | None) -> None:
            if yes:
                refs = self.acks.unacknowledge(rule)
                self.deliveries.expiring(rule.key, refs)
                if refs:
                    self.expire_silences(refs, quiet=False)
                self._notify_plain(f"un-acknowledged {rule.key}")
                self.publish()

        self.push_screen(UnackScreen(rule.key, ack_view(ack, self.clock())), answered)

    @work(group="silence-writes")
    async def make_silences(
        self, rule: AlertRule, until: datetime | None = None, comment: str = ""
    ) -> None:
        now = self.clock()
        made = await self.silences.create_all(
            rule, self.operator, now, until=until, comment=comment
        )
        self.post_message(SilencesMade(rule, made))

    def on_silences_made(self, message: SilencesMade) -> None:
        self.deliveries.made(message.rule.key, message.made, self.clock())
        tracker = self.alerts.trackers.get(message.rule.key)
        firing = tracker is not None and tracker.firing
        expire, notices = self.acks.apply_made(message.rule, message.made, firing)
        self._tell(notices)
        if expire:
            self.expire_silences(expire, quiet=True)
        self.read_silences()
        self.publish()

    @work(group="silence-writes")
    async def expire_silences(self, refs: list[SilenceRef], quiet: bool) -> None:
        self.post_message(SilencesExpired(await self.silences.expire_all(refs), quiet))

    def on_silences_expired(self, message: SilencesExpired) -> None:
        self.deliveries.expired(message.results, self.clock())
        self._tell(self.acks.apply_expired(message.results, message.quiet))
        self.read_silences()
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

    def action_conflicts(self) -> None:
        def back(_: None) -> None:
            if not self._counting:
                self._counting = True
                self.count_conflicts()

        at_time = self.schedule.at is not None
        screen = ConflictsScreen(
            self.conflicts.resolved_by, self.clock, ours=self.resolved_here, at_time=at_time
        )
        self.push_screen(screen, back)

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
