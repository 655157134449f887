"""`ctrl+c` with an unsent merge draft asks before quitting (SPEC §17); without one it
quits at once, as before; twice quits regardless."""

from __future__ import annotations

from typing import Any

from textual.pilot import Pilot

from syncmon.ui.screens.conflict_detail import ConflictDetailScreen
from syncmon.ui.screens.conflicts import ConflictsScreen
from syncmon.ui.screens.merge import MergeEditorScreen
from syncmon.ui.screens.quit_guard import QuitDialog
from tests.ui.helpers import screen_text, wait_for, wait_for_workers
from tests.ui.test_detail_timeline_ack import history_app, polled


async def on_screen(pilot: Pilot[Any], kind: type) -> None:
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, kind), what=kind.__name__)


async def to_editor(pilot: Pilot[Any]) -> None:
    await polled(pilot)
    await pilot.press("c")
    await on_screen(pilot, ConflictsScreen)
    await wait_for_workers(pilot)
    await pilot.press("enter")
    await on_screen(pilot, ConflictDetailScreen)
    await pilot.press("m")
    await on_screen(pilot, MergeEditorScreen)


async def test_ctrl_c_over_an_edited_draft_asks_and_escape_keeps_it() -> None:
    app = history_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await to_editor(pilot)
        await pilot.press("end", *' "memo": 1')
        await pilot.press("ctrl+c")
        await on_screen(pilot, QuitDialog)
        assert app.is_running
        assert "unsent merge draft" in screen_text(app) and "transaction txn_81f2" in screen_text(
            app
        )
        await pilot.press("escape")
        await on_screen(pilot, MergeEditorScreen)
        assert '"memo": 1' in screen_text(app)  # nothing lost
        await pilot.press("escape")  # back to the conflict: the draft is kept there
        await on_screen(pilot, ConflictDetailScreen)
        await pilot.press("ctrl+c")
        await on_screen(pilot, QuitDialog)
        await pilot.press("ctrl+c")  # twice: quit regardless
        await wait_for(pilot, lambda: not app.is_running, what="quit")
    assert app.return_code == 0


async def test_ctrl_c_over_an_untouched_draft_quits_at_once() -> None:
    app = history_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await to_editor(pilot)
        await pilot.press("ctrl+c")
        await wait_for(pilot, lambda: not app.is_running, what="quit")
    assert app.return_code == 0
