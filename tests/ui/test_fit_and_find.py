"""Fit at every size, and find things fast (issue 20 items 1, 2, 7, 9; SPEC §17).

Frozen data (no clock, no network), so what the header and the lists show is exact.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from textual.containers import VerticalScroll

from syncmon.core.metrics import Source
from syncmon.ui.app import SyncmonApp
from syncmon.ui.panels.alerts import AlertsTable
from syncmon.ui.panels.text_line import TextLine
from syncmon.ui.screens.ack_dialog import AckDialog
from syncmon.ui.screens.conflicts import ConflictsScreen
from syncmon.ui.screens.help import HelpScreen
from syncmon.ui.screens.merge import MergeEditorScreen
from syncmon.ui.screens.quit_guard import QuitDialog
from syncmon.ui.views import ListKind
from tests.ui.fixed_data import FROZEN, FixedEngine
from tests.ui.helpers import narrow, screen_text, wait_for, wait_for_text, wait_for_workers
from tests.ui.test_snapshots import acked_stale_and_open, first_poll, fixed_app

SIZES = [(80, 24), (120, 40)]
USER = uuid.UUID("6a2c8f0e-5b7d-4e71-9d3a-1f0e2d3c4b5a")
LOCKED = "conflict_resolution_history: statement timed out after 5s (a lock?)"


def header(app: SyncmonApp) -> str:
    """The header's lines, however many it took."""
    region = app.screen.query_one("#header").region
    return "\n".join(screen_text(app).splitlines()[region.y : region.bottom])


def listed(app: SyncmonApp) -> list[str]:
    table = app.screen.query_one(AlertsTable)
    return [row.rule for row in table.alerts.rows]


# --- 1. Fit ---------------------------------------------------------------------------------
@pytest.mark.parametrize("size", [(60, 15), *SIZES])
async def test_the_header_never_cuts_counts_age_stale_or_a_filter_in_force(
    size: tuple[int, int],
) -> None:
    """--at, a user filter, a `/` filter and a stale table at once: all of it stays."""
    app = fixed_app(at=FROZEN)
    async with app.run_test(size=size) as pilot:
        await first_poll(pilot)
        narrow(app.engine, FixedEngine).failing[Source.CONFLICTS] = LOCKED
        app._change_view(None, USER)
        await wait_for(pilot, lambda: app.polls >= 2, what="the filtered poll")
        await pilot.press("slash", *"high", "enter")
        await wait_for_workers(pilot)
        text = header(app)
        for shown in (
            "1 FIRING",
            "refreshed",
            "STALE: 1 source",
            "AT",
            "6a2c8f0e",
            "/ alerts: high",
        ):
            assert shown in text, f"{shown!r} cut from the header at {size}:\n{text}"
        if size[0] >= 120:  # room for the window too, and the whole user id
            assert "5m" in text and str(USER) in text


@pytest.mark.parametrize("size", SIZES)
async def test_the_header_shortens_the_host_before_anything_in_force(
    size: tuple[int, int],
) -> None:
    app = fixed_app()
    async with app.run_test(size=size) as pilot:
        await acked_stale_and_open(pilot)
        app._change_view(None, USER)
        await wait_for_workers(pilot)
        text = header(app)
        assert "1 FIRING" in text and "1 ACKED" in text and "STALE: 1 source" in text
        assert "6a2c8f0e" in text
        if size[0] < 100:  # the host gave way first
            assert "db.internal:5432/sync" not in text


@pytest.mark.parametrize("size", SIZES)
async def test_a_blind_firing_alert_reads_firing_blind_in_full(size: tuple[int, int]) -> None:
    """The database stopped answering: the state says the value is no longer current."""
    app = fixed_app()
    async with app.run_test(size=size) as pilot:
        await first_poll(pilot)
        engine = narrow(app.engine, FixedEngine)
        engine.failing[Source.PERFORMANCE] = "sync_performance_metrics: connection refused"
        await pilot.press("r")
        await wait_for(pilot, lambda: app.polls >= 2, what="the failing poll")
        await wait_for_workers(pilot)
        assert "FIRING blind" in screen_text(app)
        state = next(c for c in app.screen.query_one(AlertsTable)._columns if c.key == "state")
        assert state.width >= len("FIRING blind")


@pytest.mark.parametrize("size", SIZES)
async def test_an_empty_acknowledged_column_gives_its_width_to_names(
    size: tuple[int, int],
) -> None:
    app = fixed_app()
    async with app.run_test(size=size) as pilot:
        await first_poll(pilot)
        table = app.screen.query_one(AlertsTable)
        keys = [c.key for c in table._columns]
        assert "ack" not in keys, keys  # nobody acknowledged anything
        assert "High Sync Failure Rate" in screen_text(app)  # the longest name, whole
        await pilot.press("a")  # the selected row: the first, firing
        await wait_for(pilot, lambda: isinstance(app.screen, AckDialog), what="the dialog")
        await pilot.press("enter")  # until it resolves
        await wait_for(pilot, lambda: app.view.counts.acked == 1, what="the ack")
        await wait_for_workers(pilot)
        if size[0] >= 120:
            assert "ack" in [c.key for c in table._columns]


@pytest.mark.parametrize("size", SIZES)
async def test_help_scrolls_to_its_last_line(size: tuple[int, int]) -> None:
    app = fixed_app()
    async with app.run_test(size=size) as pilot:
        await first_poll(pilot)
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen), what="help")
        await pilot.press("end")
        await wait_for_text(pilot, "same.")  # the legend's last word: the last line
        await pilot.press("home")
        await wait_for_text(pilot, "go back / cancel")


async def test_below_80x24_the_dashboard_opens_at_the_top_with_its_footer() -> None:
    app = fixed_app()
    async with app.run_test(size=(60, 15)) as pilot:
        await acked_stale_and_open(pilot)
        lines = screen_text(app).splitlines()
        assert app.screen.query_one("#body", VerticalScroll).scroll_y == 0
        assert app.focused is not None and app.focused.id == "alerts-list"
        assert "status" in next(line for line in lines if line.startswith("╭"))
        assert "refresh" in lines[-1]  # the footer
        assert "under 80×24" in "\n".join(lines)
        assert "page down" in "\n".join(lines)


async def test_at_80x24_and_up_nothing_says_too_small() -> None:
    app = fixed_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await first_poll(pilot)
        assert "under 80×24" not in screen_text(app)


# --- 2. Find --------------------------------------------------------------------------------
@pytest.mark.parametrize("size", SIZES)
async def test_slash_filters_the_alerts_as_you_type_and_escape_clears(
    size: tuple[int, int],
) -> None:
    app = fixed_app()
    async with app.run_test(size=size) as pilot:
        await first_poll(pilot)
        assert app.focused is not None and app.focused.id == "alerts-list"
        assert len(listed(app)) == 3
        await pilot.press("slash", "p", "l")
        await wait_for(pilot, lambda: listed(app) == ["Plaid API Errors"], what="narrowed")
        filter_line = app.screen.query_one("#alerts-filter", TextLine)
        assert "filter: pl (1 of 3)" in filter_line.text.plain
        assert "/ alerts: pl" in header(app)
        await pilot.press("x")  # nothing matches: said so, not an empty box
        await wait_for(pilot, lambda: listed(app) == [], what="nothing left")
        await wait_for_text(pilot, "no alert matches the filter")
        await pilot.press("backspace", "enter")  # enter keeps the filter, back to the list
        await wait_for(pilot, lambda: app.focused is not None and app.focused.id == "alerts-list")
        assert listed(app) == ["Plaid API Errors"] and "/ alerts: pl" in header(app)
        assert app.screen.query_one("#body", VerticalScroll).scroll_y == 0  # not scrolled away
        assert app.view.counts.firing == 2  # the header counts every alert, not what is listed
        await pilot.press("escape")
        await wait_for(pilot, lambda: len(listed(app)) == 3, what="cleared")
        assert "/ alerts" not in header(app) and ListKind.ALERTS not in app.filters


@pytest.mark.parametrize("size", SIZES)
async def test_j_k_g_G_move_beside_the_arrows(size: tuple[int, int]) -> None:
    app = fixed_app()
    async with app.run_test(size=size) as pilot:
        await first_poll(pilot)
        table = app.screen.query_one(AlertsTable)
        rows = listed(app)
        assert table.selected_rule() == rows[0]
        await pilot.press("j")
        assert table.selected_rule() == rows[1]
        await pilot.press("k")
        assert table.selected_rule() == rows[0]
        await pilot.press("G")
        assert table.selected_rule() == rows[-1]
        await pilot.press("g")
        assert table.selected_rule() == rows[0]
        await pilot.press("end")
        assert table.selected_rule() == rows[-1]
        await pilot.press("home", "down")
        assert table.selected_rule() == rows[1]


@pytest.mark.parametrize("size", SIZES)
async def test_tab_moves_between_panels_and_slash_filters_the_focused_one(
    size: tuple[int, int],
) -> None:
    app = fixed_app()
    async with app.run_test(size=size) as pilot:
        await first_poll(pilot)
        focused = []
        for _ in range(6):
            await pilot.press("tab")
            focused.append(app.focused.id if app.focused else None)
        assert "failures" in focused
        if size[0] >= 110:  # the tiles are shown from 110 columns
            assert "health" in focused
        while app.focused is None or app.focused.id != "failures":
            await pilot.press("tab")
        await pilot.press("slash", *"reset")
        await wait_for(pilot, lambda: len(app.view.failures.errors) == 1, what="narrowed")
        assert app.view.failures.errors[0][0] == "ECONNRESET while streaming changeset"
        filter_line = app.screen.query_one("#failures-filter", TextLine)
        assert "filter: reset (1 of 3)" in filter_line.text.plain
        assert len(listed(app)) == 3  # the alerts are not filtered by it
        assert "/ failures: reset" in header(app)
        await pilot.press("escape")
        await wait_for(pilot, lambda: len(app.view.failures.errors) == 3, what="cleared")


async def test_slash_filters_the_endpoint_tiles() -> None:
    app = fixed_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await first_poll(pilot)
        app.screen.query_one("#health").focus()
        await pilot.press("slash", *"down")
        await wait_for(pilot, lambda: len(app.view.health.tiles) == 1, what="narrowed")
        assert app.view.health.tiles[0].name == "plaid"
        assert "filter: down (1 of 4)" in screen_text(app)
        assert len(app.view.endpoints.states) == 4  # the status line still names them all


async def test_help_lists_the_keys_to_find_things() -> None:
    app = fixed_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await first_poll(pilot)
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen), what="help")
        text = screen_text(app)
        for key in ("j k", "g G", "home end", "tab", "/", "filter the focused list"):
            assert key in text, key


async def test_the_command_palette_lists_keys_once() -> None:
    app = fixed_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await first_poll(pilot)
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert titles.count("Keys") == 1
        keys = next(c for c in app.get_system_commands(app.screen) if c.title == "Keys")
        assert keys.callback == app.action_help


# --- 7. Live everywhere (frozen part) -------------------------------------------------------
@pytest.mark.parametrize("size", SIZES)
async def test_under_at_the_conflicts_say_they_are_current(size: tuple[int, int]) -> None:
    app = fixed_app(at=FROZEN - timedelta(hours=2))
    async with app.run_test(size=size) as pilot:
        await first_poll(pilot)
        assert "not at --at (the API has no history)" in screen_text(app)
        await pilot.press("c")
        await wait_for(pilot, lambda: isinstance(app.screen, ConflictsScreen), what="list")
        await wait_for_text(pilot, "now, not at --at")


@pytest.mark.parametrize("size", SIZES)
async def test_ctrl_c_in_the_merge_editor_asks_before_losing_the_draft(
    size: tuple[int, int],
) -> None:
    app = fixed_app()
    async with app.run_test(size=size) as pilot:
        await first_poll(pilot)
        await pilot.press("c")
        await wait_for(pilot, lambda: isinstance(app.screen, ConflictsScreen), what="list")
        await wait_for_workers(pilot)
        await pilot.press("enter")
        await wait_for(pilot, lambda: "ConflictDetail" in type(app.screen).__name__)
        await pilot.press("m")
        await wait_for(pilot, lambda: isinstance(app.screen, MergeEditorScreen), what="editor")
        editor = app.screen
        assert isinstance(editor, MergeEditorScreen) and not editor.has_unsent_draft
        await pilot.press("x")
        assert editor.has_unsent_draft
        await pilot.press("ctrl+c")
        await wait_for(pilot, lambda: isinstance(app.screen, QuitDialog), what="asked")
        assert "unsent merge draft" in screen_text(app)
        await pilot.press("escape")  # keep editing: nothing lost
        await wait_for(pilot, lambda: app.screen is editor, what="back to the draft")
        assert not app._exit and editor.has_unsent_draft
        await pilot.press("ctrl+c")
        await wait_for(pilot, lambda: isinstance(app.screen, QuitDialog), what="asked")
        await pilot.press("enter")
        await wait_for(pilot, lambda: app._exit, what="quit")


async def test_ctrl_c_without_a_draft_quits_at_once() -> None:
    app = fixed_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await first_poll(pilot)
        await pilot.press("ctrl+c")
        await wait_for(pilot, lambda: app._exit, what="quit")
