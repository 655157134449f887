"""`syncmon tui --from URL[,URL…]`: the dashboard fed by watchers instead of its own polls.

STYLE.md "One feed, two implementations": the panels draw a `DashboardView` built from the
app's state (`DashboardModel`, the rules' trackers, the `AckBook`). The local feed fills that
state from the engine's polls (app.py's workers); this one fills it from a watcher's
`/api/v1/stream` — the same snapshot, the same state machines (the watcher's, with its
since and episode ids), the silences it read back — so no widget can tell which fed it.

Freshness is the watcher's: a state counts from when the watcher evaluated it, not from
when it arrived. When the watcher followed goes away the feed moves to the next in the list
within a second or, if it hangs, within its interval; when none answers every panel is
marked stale with the reason, and the numbers stay on screen as they were, never as new.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from textual.css.query import NoMatches
from textual.message import Message

from syncmon.core.alerts import AlertTracker
from syncmon.core.clock import Clock, wall_clock
from syncmon.core.endpoints import EndpointResult
from syncmon.core.episodes import Since
from syncmon.core.rules import AlertRule
from syncmon.engine.poll import ChartSeries, PollRequest, Snapshot
from syncmon.feed.stream import FeedStatus, follow
from syncmon.feed.wire import WatcherState
from syncmon.sources.past import EpisodeContext, Timeline
from syncmon.ui.acks import AckBook
from syncmon.ui.panels.header import ModeLine, sources_text
from syncmon.ui.text import clean

if TYPE_CHECKING:
    from syncmon.ui.app import SyncmonApp


@dataclass
class FeedChanged(Message):
    """The watcher followed sent a state (`state`), or none answers (`state` None)."""

    url: str | None
    state: WatcherState | None
    problems: tuple[str, ...] = ()


class RemoteFeed:
    """The latest state of the first watcher (in order) that answers; tells when it changes."""

    def __init__(self, urls: Sequence[str], token: str | None, clock: Clock = wall_clock) -> None:
        self.urls = list(urls)
        self.token = token
        self.clock = clock  # when a watcher's state is too old to show as fresh
        self.url: str | None = None  # the watcher followed now
        self.shown: str | None = None  # the watcher whose state the screen shows
        self.latest: WatcherState | None = None

    @property
    def label(self) -> str:
        return "watchers " + ", ".join(self.urls)

    async def run(self, tell: Callable[[FeedChanged], object]) -> None:
        """Follow the watchers until cancelled (the app's worker)."""

        def on_state(url: str, state: WatcherState) -> None:
            self.url, self.latest = url, state
            tell(FeedChanged(url, state))

        def on_status(status: FeedStatus) -> None:
            if status.url is None:  # none answers; a connection alone is not news
                self.url = None
                tell(FeedChanged(None, None, status.problems))

        await follow(self.urls, self.token, on_state, on_status, clock=self.clock)


class NoDatabase:
    """The engine of a `--from` viewer: it reads no database, so the screens that read
    history (the timeline, an alert's chart and "what changed") say so instead."""

    REASON = "--from reads no database: history is in `syncmon tui` without --from"

    async def poll(self, request: PollRequest | None = None) -> Snapshot:
        raise RuntimeError(self.REASON)  # never called: the app polls nothing under --from

    async def poll_health(self) -> list[EndpointResult] | None:
        return None

    async def timeline(self, start: datetime, end: datetime) -> Timeline:
        return Timeline(start, end, unavailable=self.REASON)

    async def episode(self, rule: AlertRule, since: datetime, end: datetime) -> EpisodeContext:
        return EpisodeContext(error=self.REASON)

    async def find_since(
        self, rules: Iterable[AlertRule], at: datetime, *, timeout: float | None = None
    ) -> dict[str, Since | str]:
        return {}  # the watcher's trackers carry their since

    async def close(self) -> None:
        pass


def snapshot_of(state: WatcherState) -> Snapshot:
    """The watcher's evaluation as a local poll would have produced it."""
    chart = state.chart
    return Snapshot(
        evaluated_at=state.evaluated_at,
        live=True,
        display_window=state.display_window,
        metrics={window: dict(values) for window, values in state.metrics.items()},
        endpoints=None if state.endpoints is None else list(state.endpoints),
        failed=dict(state.failed),
        unavailable=dict(state.unavailable),
        unconfigured=set(state.unconfigured),
        chart=None
        if chart is None
        else ChartSeries(chart.start, chart.step, list(chart.performance), list(chart.conflicts)),
        top_errors=list(state.top_errors),
    )


def trackers_of(state: WatcherState) -> dict[str, AlertTracker]:
    """The watcher's state machines, as they stand (its since, its episode ids)."""
    trackers: dict[str, AlertTracker] = {}
    for rule_state in state.alerts:
        tracker = AlertTracker(rule_state.rule)
        tracker.state = rule_state.state
        tracker.state_since = rule_state.state_since
        tracker.since_info = rule_state.since
        tracker.episode_id = rule_state.episode
        tracker.false_since = rule_state.false_since
        tracker.error = rule_state.error
        tracker.observation = rule_state.observation
        tracker.readable = rule_state.observation is not None
        trackers[rule_state.rule.key] = tracker
    return trackers


def _acks_for(app: SyncmonApp, state: WatcherState) -> None:
    """Acks are the silences the watcher read back; `a` writes to the same Alertmanagers."""
    urls = [s.url for s in state.alertmanagers]
    rules = tuple(r.rule for r in state.alerts)
    book = app.acks
    if book.urls != urls or set(book.rules) != {r.name for r in rules}:
        fresh = AckBook(rules, urls)
        fresh.local, fresh.created, fresh.expiring = book.local, book.created, book.expiring
        app.acks = fresh
        app.silences.follow(urls)
    app._tell(  # the app's one way to show notices
        app.acks.apply_reads(list(state.alertmanagers))
    )


def apply_feed(app: SyncmonApp, message: FeedChanged) -> str | None:
    """Update the app's state from the feed (the caller publishes); a notice to show when
    the screen now follows another watcher."""
    now = app.clock()
    schedule = app.schedule
    if message.state is None or message.url is None:
        problems = "; ".join(message.problems) or "no answer"
        reason = clean(f"no watcher answers: {problems}", limit=300)
        schedule.poll_error = reason
        app.model.apply_crash(reason, now)
        return None
    if schedule.paused:  # `p` freezes the screen; the feed keeps following
        return None
    state = message.state
    schedule.interval = state.interval
    schedule.last_refresh = state.evaluated_at  # its age is the watcher's evaluation's
    schedule.poll_error = None
    schedule.polls += 1
    firing_before = {name for name, t in app.alerts.trackers.items() if t.firing}
    snapshot = snapshot_of(state)
    if snapshot.chart == app.model.chart:  # the same hour of buckets: the charts stay drawn
        snapshot.chart = app.model.chart
    app.model.apply(snapshot, state.evaluated_at)
    if state.stale(now):  # it answers, but has not evaluated for two intervals
        age = int(state.age(now).total_seconds())
        app.model.apply_crash(f"watcher {message.url}: its last evaluation is {age}s old", now)
    app.alerts.trackers = trackers_of(state)
    _acks_for(app, state)
    ended = app.acks.resolved(app.alerts.trackers, firing_before)
    mine = [ref for ref in ended if ref in app.acks.created]  # other viewers expire theirs
    if mine:
        app.expire_silences(mine, quiet=True)
    assert app.feed is not None
    before, app.feed.shown = app.feed.shown, message.url
    if message.url == before:
        return None
    _show_source(app, message.url)
    return f"following watcher {message.url}"


def _show_source(app: SyncmonApp, url: str) -> None:
    """The header names the watcher followed (the one the numbers come from)."""
    screen = app.dashboard
    if screen is None:
        return
    with contextlib.suppress(NoMatches):
        line = screen.query_one("#mode", ModeLine)
        line.sources = sources_text(f"watcher {url}", "none (--from)")
