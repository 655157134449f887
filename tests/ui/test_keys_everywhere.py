"""Keys that behave like k9s and lazygit (SPEC §8.1), on the real demo backend:
`escape` goes back from every screen and dialog (the merge editor included, its draft
kept), `q` goes back on a sub-screen and quits on the dashboard, `ctrl+c` quits from
anywhere, help scrolls and lists `ctrl+s`; the merge editor shows what it merges."""

from __future__ import annotations

from typing import Any

import pytest
from textual.containers import VerticalScroll
from textual.pilot import Pilot
from textual.widgets import TextArea

from syncmon.demo.backend import DemoBackend
from syncmon.ui.app import SyncmonApp
from syncmon.ui.launch import create_app
from syncmon.ui.screens.confirm import ConfirmResolutionScreen
from syncmon.ui.screens.conflict_detail import ConflictDetailScreen
from syncmon.ui.screens.conflicts import ConflictsScreen
from syncmon.ui.screens.dashboard import DashboardScreen
from syncmon.ui.screens.help import HelpScreen
from syncmon.ui.screens.merge import MergeEditorScreen
from syncmon.ui.screens.user_filter import UserFilterScreen
from tests.ui.conftest import TOKEN
from tests.ui.helpers import make_settings, screen_text, wait_for, wait_for_workers

pytestmark = pytest.mark.database


def app_for(backend: DemoBackend) -> SyncmonApp:
    return create_app(make_settings(backend.api_url, backend.dsn, token=TOKEN))


async def on_screen(pilot: Pilot[Any], kind: type) -> None:
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, kind), what=kind.__name__)


async def to_detail(pilot: Pilot[Any]) -> ConflictDetailScreen:
    await pilot.press("c")
    await on_screen(pilot, ConflictsScreen)
    await wait_for_workers(pilot, "conflicts-list")
    await pilot.press("enter")
    await on_screen(pilot, ConflictDetailScreen)
    assert isinstance(pilot.app.screen, ConflictDetailScreen)
    return pilot.app.screen


async def test_escape_goes_back_from_every_screen_and_dialog(backend: DemoBackend) -> None:
    app = app_for(backend)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for_workers(pilot, "poll")
        for key, kind in (("question_mark", HelpScreen), ("u", UserFilterScreen)):
            await pilot.press(key)
            await on_screen(pilot, kind)
            await pilot.press("escape")
            await on_screen(pilot, DashboardScreen)

        detail = await to_detail(pilot)
        await pilot.press("l")
        await on_screen(pilot, ConfirmResolutionScreen)
        await pilot.press("escape")
        await on_screen(pilot, ConflictDetailScreen)
        assert detail.sending is False and backend.resolve_requests == []

        await pilot.press("m")
        await on_screen(pilot, MergeEditorScreen)
        await pilot.press("end", *' "memo": 1')  # typed into the editor, q included
        await pilot.press("escape")  # the editor would keep escape: the screen takes it first
        await on_screen(pilot, ConflictDetailScreen)
        assert ' "memo": 1' in detail.merged_text  # the draft is kept
        await pilot.press("m")
        await on_screen(pilot, MergeEditorScreen)
        assert ' "memo": 1' in app.screen.query_one(TextArea).text
        assert "started from your draft (from local)" in screen_text(app)
        await pilot.press("escape")
        await on_screen(pilot, ConflictDetailScreen)

        await pilot.press("escape")
        await on_screen(pilot, ConflictsScreen)
        await pilot.press("escape")
        await on_screen(pilot, DashboardScreen)
        assert app.is_running


async def test_q_goes_back_on_sub_screens_and_quits_on_the_dashboard(backend: DemoBackend) -> None:
    app = app_for(backend)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for_workers(pilot, "poll")
        await pilot.press("question_mark")
        await on_screen(pilot, HelpScreen)
        await pilot.press("q")
        await on_screen(pilot, DashboardScreen)
        await to_detail(pilot)
        await pilot.press("q")
        await on_screen(pilot, ConflictsScreen)
        await pilot.press("q")
        await on_screen(pilot, DashboardScreen)
        assert app.is_running  # nothing so far quit
        await pilot.press("q")
        await wait_for(pilot, lambda: not app.is_running, what="quit")
    assert app.return_code == 0


@pytest.mark.parametrize("where", ["dashboard", "help", "confirm", "merge editor"])
async def test_ctrl_c_quits_from_anywhere(backend: DemoBackend, where: str) -> None:
    app = app_for(backend)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for_workers(pilot, "poll")
        if where == "help":
            await pilot.press("question_mark")
            await on_screen(pilot, HelpScreen)
        elif where in ("confirm", "merge editor"):
            await to_detail(pilot)
            await pilot.press("l" if where == "confirm" else "m")
            await on_screen(
                pilot, ConfirmResolutionScreen if where == "confirm" else MergeEditorScreen
            )
        await pilot.press("ctrl+c")
        await wait_for(pilot, lambda: not app.is_running, what="quit")
    assert app.return_code == 0
    assert backend.resolve_requests == []


async def test_help_scrolls_at_80x24_and_lists_ctrl_s(backend: DemoBackend) -> None:
    app = app_for(backend)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("question_mark")
        await on_screen(pilot, HelpScreen)
        keys = app.screen.query_one("#help-keys", VerticalScroll)
        await wait_for(pilot, lambda: keys.max_scroll_y > 0, what="more keys than fit")
        assert "ctrl+s" not in screen_text(app)  # below the fold at 80×24
        await pilot.press("end")
        await wait_for(pilot, lambda: keys.scroll_y == keys.max_scroll_y, what="scrolled")
        text = screen_text(app)
        assert "ctrl+s" in text and "use this document" in text


async def test_merge_editor_shows_local_remote_base_from_120_columns(backend: DemoBackend) -> None:
    backend.add_conflict(
        local={"amount": 10},
        remote={"amount": 12},
        base={"amount": 9},
        detected_at="2020-01-01T00:00:00Z",
    )
    app = app_for(backend)
    async with app.run_test(size=(130, 30)) as pilot:
        await to_detail(pilot)
        await pilot.press("m")
        await on_screen(pilot, MergeEditorScreen)
        sides = app.screen.query_one("#merge-sides")
        assert sides.display and "started from local" in screen_text(app)
        for side in ("local", "remote", "base"):
            assert side in screen_text(app)
        await pilot.resize_terminal(100, 30)  # narrower: the editor gets the room
        await wait_for(pilot, lambda: not sides.display, what="sides hidden below 120")
        await pilot.press("ctrl+t")
        await wait_for(pilot, lambda: sides.display, what="ctrl+t shows them")
        assert '"amount": 12' in screen_text(app)  # the remote side, under the editor
        await pilot.press("ctrl+t")
        await wait_for(pilot, lambda: not sides.display, what="and hides them")
