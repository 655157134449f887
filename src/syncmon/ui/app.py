"""The dashboard app: state, drawing, and the actions behind every key.

Polling lives in `polling.py`; widgets are redrawn from the messages its workers post.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.css.query import NoMatches
from textual.screen import Screen
from textual.timer import Timer

from syncmon.config.settings import Settings
from syncmon.core.alerts import AlertState
from syncmon.core.text import sanitize
from syncmon.engine import Engine
from syncmon.evaluation import LiveAlerts
from syncmon.redaction import redact
from syncmon.ui.acks import Acknowledgements
from syncmon.ui.conflicts_service import ConflictsService, operator_name
from syncmon.ui.model import DashboardModel
from syncmon.ui.panels.alerts import AlertsTable
from syncmon.ui.panels.header import HeaderState
from syncmon.ui.polling import PollingMixin
from syncmon.ui.screens.conflicts import ConflictsScreen
from syncmon.ui.screens.dashboard import DashboardScreen
from syncmon.ui.screens.help import HelpScreen
from syncmon.ui.screens.user_filter import UserFilterScreen
from syncmon.ui.silences import SilenceKeeper

WINDOWS = tuple(timedelta(minutes=m) for m in (5, 15, 60, 360, 1440))
Clock = Callable[[], datetime]


def _now() -> datetime:
    return datetime.now(UTC)


class SyncmonApp(PollingMixin, App[int]):
    CSS_PATH = "app.tcss"
    TITLE = "syncmon"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "quit"),
        Binding("question_mark", "help", "help", key_display="?"),
    ]
    HORIZONTAL_BREAKPOINTS: ClassVar[list[tuple[int, str]]] = [
        (0, "-narrow"),
        (110, "-wide"),
        (170, "-xwide"),
    ]
    VERTICAL_BREAKPOINTS: ClassVar[list[tuple[int, str]]] = [(0, "-short"), (34, "-tall")]

    def __init__(
        self,
        settings: Settings,
        *,
        engine: Any = None,
        conflicts: ConflictsService | None = None,
        at: datetime | None = None,
        alertmanagers: Iterable[str] = (),
        clock: Clock = _now,
        interval: timedelta | None = None,
        flash: bool = True,
    ) -> None:
        super().__init__()
        self.settings = settings
        self.engine = engine
        self.conflicts = conflicts
        self.at = at
        self.clock = clock
        self._chart_at: datetime | None = None
        self._chart_forced = False
        self.flash = flash
        self.interval = interval or settings.interval or settings.config.model.dashboard.refresh
        self.operator = operator_name(settings)
        self.model = DashboardModel()
        self.alerts = LiveAlerts(settings.rules)
        self.acks = Acknowledgements()
        self.silences = SilenceKeeper(
            list(alertmanagers), self.operator, self._notify_plain, token=None
        )
        self.window = WINDOWS[0]
        self.user: uuid.UUID | None = None
        self.paused = False
        self.polls = 0
        self._generation = 0
        self._polling_since: datetime | None = None
        self._health_since: datetime | None = None
        self._health_timer: Timer | None = None
        self._poll_again = False
        self._poll_error: str | None = None
        self._timer: Timer | None = None
        self._counting = False
        self._ticks = 0

    # --- lifecycle -----------------------------------------------------------------------
    def on_mount(self) -> None:
        if self.engine is None:
            self.engine = Engine(self.settings)
        self.alerts.finder = self.engine
        if self.conflicts is None:
            self.conflicts = ConflictsService.from_settings(self.settings)
        self.push_screen(DashboardScreen())
        self.set_interval(1.0, self._tick)
        self._update_header()
        self._arm_health(0)
        self._arm(0)

    async def on_unmount(self) -> None:
        for closer in (
            getattr(self.engine, "close", None),
            self.conflicts.close if self.conflicts else None,
            self.silences.close,
        ):
            if closer is None:
                continue
            with contextlib.suppress(Exception):  # shutting down: nowhere to show it
                await closer()

    @property
    def dashboard(self) -> DashboardScreen | None:
        for screen in self.screen_stack:
            if isinstance(screen, DashboardScreen):
                return screen
        return None

    # --- drawing -------------------------------------------------------------------------
    def _header_state(self) -> HeaderState:
        trackers = self.alerts.trackers.values()
        firing = [t for t in trackers if t.state is AlertState.FIRING]
        return HeaderState(
            api=redact(self.settings.api_url or "no API configured"),
            database=self.settings.database_label,
            window=self.window,
            paused=self.paused,
            at=self.at,
            user=str(self.user) if self.user else None,
            last_refresh=self.model.received_at,
            polling_since=self._polling_since,
            health_since=self._health_since,
            poll_error=self._poll_error,
            firing=sum(1 for t in firing if t.rule.name not in self.acks),
            acked=sum(1 for t in firing if t.rule.name in self.acks),
            stale=len(self.model.stale),
            flash=self.flash and self._ticks % 2 == 0,
        )

    def _update_header(self) -> None:
        screen = self.dashboard
        if screen is not None and screen.is_mounted:
            with contextlib.suppress(NoMatches):
                screen.show_header(self._header_state(), self.clock())

    def _redraw(self) -> None:
        screen = self.dashboard
        if screen is None or not screen.is_mounted:
            return
        now = self.clock()
        alert_now = (
            self.model.evaluated_at if self.at is not None and self.model.evaluated_at else now
        )
        try:
            screen.show_model(
                self.model,
                self.alerts.trackers,
                self.acks,
                self.settings.config.targets,
                self.settings.rules,
                now,
                alert_now,
            )
        except NoMatches:  # the screen is being torn down (quitting): nothing to draw on
            return
        self._update_header()

    def _tick(self) -> None:
        self._ticks += 1
        self._update_header()

    def _notify_plain(self, message: str, severity: str = "information") -> None:
        """Notices may quote a receiver's error text: no markup, no control characters."""
        text = sanitize(redact(message), single_line=True, limit=300)
        self.notify(text, severity=severity, markup=False)  # type: ignore[arg-type]

    # --- actions (keys and command palette) ------------------------------------------------
    def action_refresh_now(self) -> None:
        self._chart_forced = True
        self._arm_health(0)
        self._arm(0)

    def action_toggle_pause(self) -> None:
        self.paused = not self.paused
        if self.paused:
            for timer in (self._timer, self._health_timer):
                if timer is not None:
                    timer.stop()
            self._timer = self._health_timer = None
        else:
            if self._polling_since is None:
                self._arm(0)
            self._arm_health(0)
        self._update_header()

    def _changed_view(self) -> None:
        """Window or user changed: old numbers no longer apply, poll again now."""
        self._generation += 1
        self.model.reset()
        self._redraw()
        self._arm(0)

    def action_cycle_window(self) -> None:
        self.window = WINDOWS[(WINDOWS.index(self.window) + 1) % len(WINDOWS)]
        self._changed_view()

    def action_filter_user(self) -> None:
        def chosen(value: str | None) -> None:
            if value is None:
                return
            self.user = uuid.UUID(value) if value else None
            self._changed_view()

        self.push_screen(UserFilterScreen(str(self.user) if self.user else None), chosen)

    def action_conflicts(self) -> None:
        assert self.conflicts is not None

        def back(_: None) -> None:
            if not self._counting:
                self._counting = True
                self.count_conflicts()

        self.push_screen(ConflictsScreen(self.conflicts, self.clock), back)

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_acknowledge(self) -> None:
        screen = self.dashboard
        rule = screen.query_one(AlertsTable).selected_rule() if screen else None
        tracker = self.alerts.trackers.get(rule or "")
        unacked = [
            t
            for t in self.alerts.trackers.values()
            if t.state is AlertState.FIRING and t.rule.name not in self.acks
        ]
        if (tracker is None or tracker.state is not AlertState.FIRING) and len(unacked) == 1:
            tracker = unacked[0]  # the only one that can be meant
        if tracker is None or tracker.state is not AlertState.FIRING:
            self._notify_plain(
                "select a firing alert (↑/↓ in the alerts panel) to acknowledge", "warning"
            )
            return
        if tracker.rule.name in self.acks:
            self._notify_plain(f"already acknowledged: {tracker.rule.name}")
            return
        ack = self.acks.acknowledge(tracker.rule.name, self.operator, self.clock())
        self.silences.create(tracker.rule, ack)
        self._notify_plain(f"acknowledged {tracker.rule.name} as {self.operator}")
        self._redraw()

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        if isinstance(screen, DashboardScreen):
            yield SystemCommand("Refresh now", "poll every source now (r)", self.action_refresh_now)
            yield SystemCommand(
                "Pause / resume", "stop or restart polling (p)", self.action_toggle_pause
            )
            yield SystemCommand(
                "Cycle window", "5m, 15m, 1h, 6h, 24h (w)", self.action_cycle_window
            )
            yield SystemCommand(
                "Filter by user", "show one user's operations (u)", self.action_filter_user
            )
            yield SystemCommand(
                "Conflicts", "open conflicts, resolve by hand (c)", self.action_conflicts
            )
            yield SystemCommand(
                "Acknowledge alert", "ack the selected firing alert (a)", self.action_acknowledge
            )
        yield SystemCommand("Keys", "every key and what it does (?)", self.action_help)


def create_app(settings: Settings, **options: Any) -> SyncmonApp:
    """The one way to build the app: used by the CLI, the demo and the tests."""
    return SyncmonApp(settings, **options)
