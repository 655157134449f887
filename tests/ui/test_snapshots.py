"""Snapshots of the dashboard on frozen data (no clock, no network, no randomness).

The main screen is taken in the state SPEC §8.1 is about: an alert acknowledged, a source
stale, conflicts open — at 80×24, 120×40 and 200×50. Each snapshot's first screen must
answer what is broken, since when, why, whether the numbers are current, and how many
conflicts are open; the assertions before each snapshot say so in words.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from textual.app import App
from textual.pilot import Pilot
from textual.widgets import TextArea

from syncmon.core.metrics import Source
from syncmon.ui.app import SyncmonApp
from syncmon.ui.launch import create_app
from syncmon.ui.screens.ack_dialog import AckDialog
from syncmon.ui.screens.confirm import ConfirmResolutionScreen
from syncmon.ui.screens.conflict_detail import ConflictDetailScreen
from syncmon.ui.screens.conflicts import ConflictsScreen
from syncmon.ui.screens.help import HelpScreen
from syncmon.ui.screens.merge import MergeEditorScreen
from tests.ui.fixed_data import FROZEN, FixedConflicts, FixedEngine, MovableClock
from tests.ui.helpers import (
    SnapCompare,
    make_settings,
    narrow,
    screen_text,
    syncmon_app,
    wait_for,
    wait_for_workers,
)

API = "http://api.example:8080"
DSN = "postgresql://monitor:hunter2@db.internal:5432/sync"
LOCKED = "conflict_resolution_history: statement timed out after 5s (a lock?)"


@pytest.fixture(autouse=True)
def _in_utc(utc: None) -> None:
    """Clock times in this module are drawn in UTC (tests/ui/conftest.py)."""


def fixed_app(**options: Any) -> SyncmonApp:
    return create_app(
        make_settings(API, DSN),
        engine=FixedEngine(),
        conflicts=FixedConflicts(),
        clock=MovableClock(),
        **options,
    )


async def first_poll(pilot: Pilot[Any]) -> None:
    app = syncmon_app(pilot)
    await wait_for(pilot, lambda: app.polls >= 1 and app.model.conflicts_open is not None)
    await wait_for_workers(pilot)


async def acked_stale_and_open(pilot: Pilot[Any]) -> None:
    """Three minutes on: the conflicts table is locked, Endpoint Down is acknowledged."""
    app = syncmon_app(pilot)
    await first_poll(pilot)
    narrow(app.clock, MovableClock).advance(timedelta(minutes=3))
    narrow(app.engine, FixedEngine).failing[Source.CONFLICTS] = LOCKED
    await pilot.press("r")
    await wait_for(pilot, lambda: app.polls >= 2, what="the failing poll")
    await wait_for_workers(pilot)
    await pilot.press("a")  # the selected row: Endpoint Down; enter: until it resolves
    await wait_for(pilot, lambda: isinstance(app.screen, AckDialog), what="the dialog")
    await pilot.press("enter")
    await wait_for(pilot, lambda: app.view.counts.acked == 1, what="the ack")
    await wait_for_workers(pilot)


def first_screen(app: App[Any], lines: int) -> str:
    return "\n".join(screen_text(app).splitlines()[:lines])


@pytest.mark.parametrize("width,height", [(80, 24), (120, 40), (200, 50)])
def test_main_screen_acked_stale_and_conflicts(
    snap_compare: SnapCompare, width: int, height: int
) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await acked_stale_and_open(pilot)
        text = first_screen(pilot.app, height - 1)  # without the footer
        for answer in (
            "1 FIRING",  # what is broken, counted apart from
            "1 ACKED",  # what someone has
            "High Sync Failure Rate",
            "8.00%",  # its value
            "43m (02:32)",  # since when (found in the database: 40 min before the poll)
            "by tester (local)",  # who acked, and that the ack is local
            "DOWN",  # the endpoint that is down
            "HTTP 503 Service",  # and why
            "STALE",  # the stale source
            "statement timed out",  # and why
            "2 open",  # conflicts
            "refreshed 03:15:30",  # whether the numbers are current
        ):
            assert answer in text, f"{answer!r} not on the first screen at {width}×{height}"

    assert snap_compare(fixed_app(), terminal_size=(width, height), run_before=run_before)


def test_at_time_header_fits_80_columns(snap_compare: SnapCompare) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await first_poll(pilot)
        header = "\n".join(screen_text(pilot.app).splitlines()[:2])
        assert "AT" in header and "refreshed" in header  # both fit, nothing overflows
        assert "not available (--at)" in screen_text(pilot.app)

    assert snap_compare(fixed_app(at=FROZEN), terminal_size=(80, 24), run_before=run_before)


def test_help_fits_80x24_and_scrolls(snap_compare: SnapCompare) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await first_poll(pilot)
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, HelpScreen))
        await pilot.pause()

    assert snap_compare(fixed_app(), terminal_size=(80, 24), run_before=run_before)


def test_conflicts_screen(snap_compare: SnapCompare) -> None:
    async def open_conflicts(pilot: Pilot[Any]) -> None:
        await first_poll(pilot)
        await pilot.press("c")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, ConflictsScreen))
        await wait_for_workers(pilot)

    assert snap_compare(fixed_app(), terminal_size=(100, 24), run_before=open_conflicts)


async def open_detail(pilot: Pilot[Any]) -> None:
    await first_poll(pilot)
    await pilot.press("c")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, ConflictsScreen))
    await wait_for_workers(pilot)
    await pilot.press("enter")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, ConflictDetailScreen))
    await pilot.pause()


def test_conflict_detail_screen(snap_compare: SnapCompare) -> None:
    assert snap_compare(fixed_app(), terminal_size=(100, 24), run_before=open_detail)


def test_keep_remote_confirmation_lists_discarded_fields_at_80x24(
    snap_compare: SnapCompare,
) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await open_detail(pilot)
        await pilot.press("r")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, ConfirmResolutionScreen))
        await pilot.pause()
        text = screen_text(pilot.app)
        assert "discards 2 fields of local" in text
        assert 'category: "Groceries"  (kept: "Dining")' in text
        assert "pending: false  (kept: true)" in text

    assert snap_compare(fixed_app(), terminal_size=(80, 24), run_before=run_before)


def test_merge_editor_shows_the_three_versions_beside_it_at_120(snap_compare: SnapCompare) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await open_detail(pilot)
        await pilot.press("m")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, MergeEditorScreen))
        # the editor's cursor blinks: a snapshot taken in its off phase differed from the
        # stored one about one run in three; hold it on
        editor = pilot.app.screen.query_one(TextArea)
        editor.cursor_blink = False
        await pilot.pause()
        assert "started from local" in screen_text(pilot.app)

    assert snap_compare(fixed_app(), terminal_size=(120, 30), run_before=run_before)


def test_main_screen_under_no_color_at_80x24(
    snap_compare: SnapCompare, monkeypatch: pytest.MonkeyPatch
) -> None:
    """NO_COLOR: states read as words on their own grey backgrounds, FIRING in bold."""
    monkeypatch.setenv("NO_COLOR", "1")
    app = fixed_app()

    async def run_before(pilot: Pilot[Any]) -> None:
        await acked_stale_and_open(pilot)
        assert pilot.app.no_color

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


def test_filter_in_force_at_80x24(snap_compare: SnapCompare) -> None:
    """`/` typed on the alerts list: narrowed as typed, said in the header and the panel."""

    async def run_before(pilot: Pilot[Any]) -> None:
        await first_poll(pilot)
        await pilot.press("slash", *"plaid", "enter")
        await wait_for_workers(pilot)
        assert "/ alerts: plaid" in first_screen(pilot.app, 3)

    assert snap_compare(fixed_app(), terminal_size=(80, 24), run_before=run_before)
