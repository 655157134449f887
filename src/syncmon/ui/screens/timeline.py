"""`t`: what fired and resolved in the last 24 h, newest first, and for how long (SPEC §17).

Episodes are found in the database the way since is (core/timeline.py), so the one under
way starts exactly where the alerts list says and has the same episode id. Under `--at`
the timeline spans the 12 hours either side of that moment (up to now): a post-mortem
sees how the incident began and how it ended. Endpoint rules have no history: only the
episode this dashboard is seeing now is listed, marked "first seen". `enter` opens the
detail screen of the selected episode at its time.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, ClassVar, cast

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import Footer, ListItem, ListView, Static

from syncmon.config.redaction import describe_error
from syncmon.core.durations import format_duration
from syncmon.core.metrics import format_value
from syncmon.core.timefmt import minute_clock, minute_with_offset
from syncmon.core.timeline import Episode
from syncmon.sources.past import Timeline
from syncmon.ui.panels.alerts import PADDING
from syncmon.ui.screens.alert_detail import AlertDetailScreen
from syncmon.ui.text import clean

if TYPE_CHECKING:
    from syncmon.ui.app import SyncmonApp

SPAN = timedelta(hours=24)
COLUMNS = (("start", 11), ("end", 11), ("length", 7), ("peak", 9))


def span_for(now: datetime, at: datetime | None) -> tuple[datetime, datetime]:
    """The last 24 h; under --at the 12 h either side of it, never past now."""
    if at is None:
        return now - SPAN, now
    return at - SPAN / 2, min(at + SPAN / 2, now)


def _short(moment: datetime) -> str:
    """`11-27 03:12 +0000`: local time, with the offset (a post-mortem is unambiguous)."""
    return minute_with_offset(moment)


def _length(episode: Episode, end: datetime) -> str:
    seconds = round(episode.length(end).total_seconds())
    text = format_duration(timedelta(seconds=max(0, seconds)))
    return f"≥{text}" if episode.bounded else text


def episode_cells(episode: Episode, end: datetime, seen: bool) -> list[str]:
    start = minute_clock(episode.start, end) + ("*" if seen else "")
    finish = "firing" if episode.end is None else minute_clock(episode.end, end)
    if episode.bounded:
        start = "≤" + start
    return [start, finish, _length(episode, end), format_value(episode.peak, episode.unit)]


def row_text(cells: list[str], rule: str, width: int) -> Text:
    text = Text(" ")
    for cell, (_, size) in zip(cells, COLUMNS, strict=True):
        part = Text(cell, style="bold" if cell == "firing" else "")
        part.truncate(size, overflow="ellipsis", pad=True)
        text.append_text(part)
        text.append(" " * PADDING)
    room = max(8, width - text.cell_len - 1)
    name = Text(rule)
    name.truncate(room, overflow="ellipsis")
    text.append_text(name)
    return text


def heading(width: int) -> Text:
    text = row_text([label for label, _ in COLUMNS], "alert", width)
    text.stylize("bold")
    return text


class EpisodeItem(ListItem):
    def __init__(self, episode: Episode, text: Text) -> None:
        super().__init__(Static(text, classes="timeline-row"))
        self.episode = episode


class TimelineScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "back"),
        Binding("q", "back", "back", show=False),
        Binding("r", "reread", "re-read"),
        Binding("j", "cursor(1)", "down", show=False),
        Binding("k", "cursor(-1)", "up", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.timeline: Timeline | None = None
        self.error: str | None = None

    @property
    def syncmon(self) -> SyncmonApp:
        return cast("SyncmonApp", self.app)

    def compose(self) -> ComposeResult:
        yield Static(id="timeline-title")
        yield Static(id="timeline-heading")
        yield ListView(id="timeline-list")
        yield Static(Text("reading the history…", style="dim"), id="timeline-notes")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(ListView).focus()
        self.action_reread()

    def action_reread(self) -> None:
        app = self.syncmon
        start, end = span_for(app.clock(), app.schedule.at)
        where = f"12 h either side of {_short(app.schedule.at)}" if app.schedule.at else "last 24 h"
        title = Text.assemble(("timeline", "bold"), f" · {where} · {_short(start)} → {_short(end)}")
        self.query_one("#timeline-title", Static).update(title)
        self.load(start, end)

    @work(exclusive=True, group="timeline")
    async def load(self, start: datetime, end: datetime) -> None:
        app = self.syncmon
        try:
            self.timeline, self.error = await app.engine.timeline(start, end), None
        except Exception as exc:  # the engine never raises; this guards against bugs
            self.timeline, self.error = Timeline(start, end), describe_error(exc)
        await self.draw()

    def episodes(self) -> list[tuple[Episode, bool]]:
        """The database's episodes, and the endpoint rules' live ones (first seen here)."""
        assert self.timeline is not None
        found = [(episode, False) for episode in self.timeline.episodes]
        if self.syncmon.schedule.at is None:
            for tracker in self.syncmon.alerts.trackers.values():
                info, obs = tracker.since_info, tracker.observation
                if tracker.firing and not tracker.rule.has_history and info and obs:
                    found.append((Episode(tracker.rule, info.at, None, obs.value, obs.unit), True))
        found.sort(key=lambda pair: pair[0].start, reverse=True)
        return found

    async def draw(self) -> None:
        timeline = self.timeline
        assert timeline is not None
        width = max(40, self.size.width - 2)
        self.query_one("#timeline-heading", Static).update(heading(width))
        listing = self.query_one(ListView)
        await listing.clear()
        items = [
            EpisodeItem(e, row_text(episode_cells(e, timeline.end, seen), e.rule.key, width))
            for e, seen in self.episodes()
        ]
        await listing.extend(items)
        if items:
            listing.index = 0
        self.query_one("#timeline-notes", Static).update(self.notes(len(items)))

    def notes(self, count: int) -> Text:
        assert self.timeline is not None
        text = Text()
        if self.timeline.unavailable:
            return Text(clean(self.timeline.unavailable, limit=200), style="bold")
        if count == 0:
            text.append("no alert fired in this span\n", style="bold")
        named = {e.rule.key for e, _ in self.episodes()}
        quiet = [r.key for r in self.syncmon.settings.rules if r.has_history and r.key not in named]
        quiet = [name for name in quiet if name not in self.timeline.failed]
        if quiet:
            text.append(f"never fired: {', '.join(quiet)}\n", style="dim")
        for name, reason in self.timeline.failed.items():
            text.append(f"{name}: history unreadable: {clean(reason, limit=200)}\n", style="bold")
        if self.error:
            text.append(f"could not read the timeline: {clean(self.error, limit=200)}\n")
        no_history = [r.name for r in self.syncmon.settings.rules if not r.has_history]
        if no_history:
            text.append(
                f"* first seen by this dashboard: endpoint rules have no history "
                f"({', '.join(no_history)})\n",
                style="dim",
            )
        text.append("enter: detail at that time · ≤/≥: began before the span", style="dim")
        return text

    def on_list_view_selected(self, event: ListView.Selected) -> None:
        item = event.item
        if not isinstance(item, EpisodeItem):
            return
        episode = item.episode
        tracker = self.syncmon.alerts.trackers.get(episode.rule.key)
        live = tracker is not None and episode.end is None and tracker.since == episode.start
        self.app.push_screen(AlertDetailScreen(episode.rule, None if live else episode))

    def action_cursor(self, step: int) -> None:
        listing = self.query_one(ListView)
        (listing.action_cursor_down if step > 0 else listing.action_cursor_up)()

    def action_back(self) -> None:
        self.dismiss(None)
