"""Cheap to watch (SPEC §8.1): a poll that brings the same numbers redraws only the refresh
time, nothing ticks at rest, and the header turns STALE by itself when a poll is overdue.

These run on frozen data (no network) so that "the same numbers" is exactly true; the
bytes a real terminal receives are measured by `bench/dashboard_bytes.py`.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from rich.text import Text
from textual.message_pump import MessagePump
from textual.pilot import Pilot
from textual.widget import Widget

from syncmon.engine.poll import PollRequest, Snapshot
from syncmon.ui.app import SyncmonApp
from syncmon.ui.launch import create_app
from syncmon.ui.panels.header import Freshness
from tests.ui.fixed_data import FixedConflicts, FixedEngine, MovableClock
from tests.ui.helpers import (
    make_settings,
    narrow,
    screen_text,
    syncmon_app,
    wait_for,
    wait_for_workers,
)

API = "http://api.example:8080"
DSN = "postgresql://monitor@db.internal:5432/sync"


def frozen_app(**options: Any) -> SyncmonApp:
    options.setdefault("clock", MovableClock())
    options.setdefault("engine", FixedEngine())
    return create_app(make_settings(API, DSN), conflicts=FixedConflicts(), **options)


async def at_rest(pilot: Pilot[Any]) -> None:
    app = syncmon_app(pilot)
    await wait_for(pilot, lambda: app.polls >= 1 and app.model.conflicts_open is not None)
    await wait_for_workers(pilot)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_a_poll_with_the_same_numbers_redraws_only_the_refresh_time(
    monkeypatch: pytest.MonkeyPatch, size: tuple[int, int]
) -> None:
    app = frozen_app()
    async with app.run_test(size=size) as pilot:
        await at_rest(pilot)
        refreshed: list[Widget] = []
        original = Widget.refresh

        def spy(self: Widget, *args: Any, **kwargs: Any) -> Widget:
            refreshed.append(self)
            return original(self, *args, **kwargs)

        monkeypatch.setattr(Widget, "refresh", spy)
        narrow(app.clock, MovableClock).advance(timedelta(seconds=5))
        app.action_refresh_now()  # as the timer would: same numbers, five seconds later
        await wait_for(pilot, lambda: app.polls >= 2, what="the second poll")
        await wait_for_workers(pilot)
        monkeypatch.setattr(Widget, "refresh", original)
        assert refreshed, "the refresh time changed: it must be redrawn"
        # the refresh time, and the two lines that count how long an endpoint has been down:
        # its tile's (hidden under 110 columns) and the status block's (hidden from 110)
        counting = [
            w for w in refreshed if "own for" in getattr(w, "text", Text()).plain.casefold()
        ]
        assert {type(w) for w in refreshed if w not in counting} == {Freshness}, refreshed
        assert len(counting) == 2, counting
        assert "refreshed 03:12:35" in screen_text(app)


async def test_nothing_ticks_at_rest() -> None:
    app = frozen_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await at_rest(pilot)
        nodes: list[MessagePump] = [app, *app.screen_stack]
        for screen in app.screen_stack:
            nodes += list(screen.walk_children())
        repeating = [
            (type(node).__name__, timer.name)
            for node in nodes
            for timer in list(node._timers)
            if timer._repeat != 0 and timer.name != "screen_update"  # Textual's paused refresh
        ]
        assert repeating == []
        # one-shot timers only: the next polls, and the moment the numbers go stale
        assert set(app._armed) <= {"poll", "health", "overdue", "wait"}
        assert "overdue" in app._armed


class HangingEngine(FixedEngine):
    """Answers once, then every poll hangs (a database that stopped answering)."""

    def __init__(self) -> None:
        super().__init__()
        self.release = asyncio.Event()

    async def poll(self, request: PollRequest | None = None) -> Snapshot:
        if self.requests:
            await self.release.wait()
        return await super().poll(request)


async def test_the_header_turns_stale_by_itself_when_a_poll_is_overdue() -> None:
    engine = HangingEngine()
    from datetime import UTC, datetime

    app = frozen_app(engine=engine, clock=lambda: datetime.now(UTC), interval=timedelta(seconds=1))
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.polls >= 1, what="the first poll")

        def header() -> str:
            return screen_text(app).splitlines()[1]

        assert "STALE" not in header()
        # overdue = last refresh + 2 intervals + 2 s: one timer fires then, no clock ticks
        await wait_for(pilot, lambda: " STALE " in header(), timeout=10, what="overdue")
        assert "refreshed" in header() and "overdue" in header()
        engine.release.set()
        await wait_for(pilot, lambda: " STALE " not in header(), what="fresh again")


async def test_paused_is_never_overdue() -> None:
    app = frozen_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await at_rest(pilot)
        await pilot.press("p")
        await wait_for(pilot, lambda: app.schedule.paused, what="paused")
        assert app.schedule.overdue_at() is None and "overdue" not in app._armed
