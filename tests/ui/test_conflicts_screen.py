"""The conflicts screen and the only write syncmon makes (SPEC §1.3, §8), against the demo API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx
import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable, TextArea

from syncmon.core.conflicts import OutcomeKind
from syncmon.demo.backend import DemoBackend
from syncmon.ui.app import SyncmonApp
from syncmon.ui.launch import create_app
from syncmon.ui.screens.confirm import ConfirmResolutionScreen
from syncmon.ui.screens.conflict_detail import ConflictDetailScreen
from syncmon.ui.screens.conflicts import ConflictsScreen
from syncmon.ui.screens.merge import MergeEditorScreen
from tests.ui.conftest import TOKEN
from tests.ui.helpers import make_settings, narrow, screen_text, wait_for, wait_for_text

pytestmark = pytest.mark.database


def app_for(backend: DemoBackend) -> SyncmonApp:
    return create_app(make_settings(backend.api_url, backend.dsn, token=TOKEN))


async def open_list(pilot: Pilot[Any], app: SyncmonApp, count: int) -> ConflictsScreen:
    await pilot.press("c")
    await wait_for(pilot, lambda: isinstance(app.screen, ConflictsScreen))
    screen = app.screen
    assert isinstance(screen, ConflictsScreen)
    await wait_for(
        pilot,
        lambda: screen.query_one(DataTable).row_count == count,
        what=f"{count} conflicts listed",
    )
    return screen


async def open_first(pilot: Pilot[Any], app: SyncmonApp, count: int) -> ConflictDetailScreen:
    await open_list(pilot, app, count)
    await pilot.press("enter")
    await wait_for(pilot, lambda: isinstance(app.screen, ConflictDetailScreen))
    assert isinstance(app.screen, ConflictDetailScreen)
    return app.screen


async def confirm(pilot: Pilot[Any], app: SyncmonApp, key: str, note: str = "") -> None:
    await pilot.press(key)
    await wait_for(pilot, lambda: isinstance(app.screen, ConfirmResolutionScreen))
    if note:
        await pilot.press(*note)
    await pilot.press("enter")


async def answered(pilot: Pilot[Any], detail: ConflictDetailScreen, posts: int) -> OutcomeKind:
    """Wait until the `posts`-th POST has been answered and shown; its outcome kind."""
    await wait_for(
        pilot, lambda: detail.posts == posts and not detail.sending, what=f"answer {posts}"
    )
    await pilot.pause()
    assert detail.outcome is not None
    return detail.outcome.kind


def oldest_first(backend: DemoBackend) -> list[dict[str, Any]]:
    def moment(conflict: dict[str, Any]) -> tuple[datetime, str]:
        """The API gives whole seconds; ties are listed by id."""
        value = conflict["detected_at"]
        when = (
            value
            if isinstance(value, datetime)
            else datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        )
        return when.replace(microsecond=0), conflict["id"]

    return sorted(backend.open_conflicts(), key=moment)


async def test_list_is_oldest_first_with_user_entity_and_age(backend: DemoBackend) -> None:
    app = app_for(backend)
    async with app.run_test(size=(120, 30)) as pilot:
        screen = await open_list(pilot, app, 3)
        table = screen.query_one(DataTable)
        keys = [row.key.value for row in table.ordered_rows]
        assert keys == [c["id"] for c in oldest_first(backend)]
        text = screen_text(app)
        first = oldest_first(backend)[0]
        assert first["user_id"] in text and first["entity_type"] in text
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, ConflictsScreen))


async def test_enter_shows_three_sides_with_differing_fields_marked(backend: DemoBackend) -> None:
    backend.add_conflict(
        local={"amount": 10, "memo": "same"},
        remote={"amount": 12, "memo": "same"},
        base={"amount": 9, "memo": "same"},
        detected_at="2020-01-01T00:00:00Z",
    )
    app = app_for(backend)
    async with app.run_test(size=(120, 30)) as pilot:
        await open_first(pilot, app, 4)
        text = screen_text(app)
        lines = text.splitlines()
        amount = next(line for line in lines if " amount " in line)
        memo = next(line for line in lines if " memo " in line)
        assert "≠" in amount and "10" in amount and "12" in amount and "9" in amount
        assert "≠" not in memo
        assert "local" in text and "remote" in text and "base" in text


async def test_keep_local_sends_one_post_with_version_and_bearer_token(
    backend: DemoBackend,
) -> None:
    app = app_for(backend)
    async with app.run_test(size=(120, 30)) as pilot:
        conflict = oldest_first(backend)[0]
        detail = await open_first(pilot, app, 3)
        await confirm(pilot, app, "l", note="checked with user")
        assert await answered(pilot, detail, 1) is OutcomeKind.RESOLVED
        assert conflict["id"] not in {c["id"] for c in backend.open_conflicts()}
        assert " RESOLVED " in screen_text(app) and "NOT RESOLVED" not in screen_text(app)
        assert len(backend.resolve_requests) == 1
        request = backend.resolve_requests[0]
        assert request.body["resolution"] == "keep_local"
        assert request.body["version"] == conflict["version"]
        assert request.body["resolved_by"] == "tester"
        assert request.body["note"] == "checked with user"
        assert request.headers["authorization"] == f"Bearer {TOKEN}"
        assert detail.posts == 1
        # the list is refreshed on the way back: the resolved conflict is gone
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, ConflictsScreen))
        await wait_for(pilot, lambda: app.screen.query_one(DataTable).row_count == 2)


async def test_leaving_the_detail_mid_request_never_cancels_the_resolution(
    backend: DemoBackend,
) -> None:
    """The app sends the resolution, not the screen: escape while the API is slow leaves the
    request running; its answer arrives as a notice and the conflict leaves the list
    unmarked (resolved here, not "elsewhere")."""
    gate = backend.hold_resolves()
    app = app_for(backend)
    async with app.run_test(size=(120, 30)) as pilot:
        conflict = oldest_first(backend)[0]
        detail = await open_first(pilot, app, 3)
        await confirm(pilot, app, "l", note="slow API")
        await wait_for(pilot, lambda: len(backend.resolve_requests) == 1, what="the POST")
        assert detail.sending
        await pilot.press("escape")
        listing = await open_list_again(pilot, app)
        gate.set()
        await wait_for(
            pilot,
            lambda: any("resolved" in n.message for n in app._notifications),
            what="the answer, as a notice",
        )
        assert conflict["id"] not in {c["id"] for c in backend.open_conflicts()}
        await wait_for(pilot, lambda: listing.query_one(DataTable).row_count == 2)
        assert "resolved elsewhere" not in screen_text(app)
        assert len(backend.resolve_requests) == 1


async def open_list_again(pilot: Pilot[Any], app: SyncmonApp) -> ConflictsScreen:
    await wait_for(pilot, lambda: isinstance(app.screen, ConflictsScreen))
    screen = app.screen
    assert isinstance(screen, ConflictsScreen)
    return screen


async def test_keep_remote_then_409_names_who_resolved_it(backend: DemoBackend) -> None:
    app = app_for(backend)
    async with app.run_test(size=(120, 30)) as pilot:
        detail = await open_first(pilot, app, 3)
        conflict = oldest_first(backend)[0]
        async with httpx.AsyncClient(headers={"Authorization": f"Bearer {TOKEN}"}) as client:
            answer = await client.post(
                f"{backend.api_url}/api/v1/sync/conflicts/{conflict['id']}/resolve",
                json={
                    "resolution": "keep_remote",
                    "version": conflict["version"],
                    "resolved_by": "alice",
                    "note": "",
                },
            )
            assert answer.status_code == 200
        await confirm(pilot, app, "r")
        assert await answered(pilot, detail, 1) is OutcomeKind.ALREADY_RESOLVED
        assert "already resolved by alice" in screen_text(app)
        assert backend.resolve_requests[-1].body["resolution"] == "keep_remote"
        # closed: pressing l again opens nothing and sends nothing
        sent = len(backend.resolve_requests)
        await pilot.press("l")
        await wait_for(
            pilot,
            lambda: any("this conflict is closed" in n.message for n in app._notifications),
            what="the refusal",
        )
        assert isinstance(app.screen, ConflictDetailScreen) and detail.posts == 1
        assert len(backend.resolve_requests) == sent


async def test_503_keeps_the_choice_and_the_same_key_retries(backend: DemoBackend) -> None:
    backend.fail_next_resolves(1, status=503)
    app = app_for(backend)
    async with app.run_test(size=(120, 30)) as pilot:
        detail = await open_first(pilot, app, 3)
        conflict = oldest_first(backend)[0]
        await confirm(pilot, app, "l", note="retry me")
        assert await answered(pilot, detail, 1) is OutcomeKind.FAILED
        text = screen_text(app)
        assert "NOT RESOLVED" in text
        assert "press l to try again" in text and "keep local" in text
        assert len(backend.resolve_requests) == 1
        await pilot.press("l")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmResolutionScreen))
        await pilot.press("enter")  # the note is kept and prefilled
        assert await answered(pilot, detail, 2) is OutcomeKind.RESOLVED
        assert len(backend.resolve_requests) == 2, "exactly one POST per confirmation"
        for request in backend.resolve_requests:
            assert request.body["version"] == conflict["version"]
            assert request.body["note"] == "retry me"
            assert request.headers["authorization"] == f"Bearer {TOKEN}"
        assert detail.posts == 2


async def test_double_enter_sends_a_single_post(backend: DemoBackend) -> None:
    app = app_for(backend)
    async with app.run_test(size=(120, 30)) as pilot:
        detail = await open_first(pilot, app, 3)
        await pilot.press("l")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmResolutionScreen))
        await pilot.press("enter", "enter", "enter")
        assert await answered(pilot, detail, 1) is OutcomeKind.RESOLVED
        await wait_for(pilot, lambda: not isinstance(app.screen, ConfirmResolutionScreen))
        assert detail.posts == 1 and len(backend.resolve_requests) == 1


async def test_escape_cancels_the_confirmation(backend: DemoBackend) -> None:
    app = app_for(backend)
    async with app.run_test(size=(120, 30)) as pilot:
        await open_first(pilot, app, 3)
        await pilot.press("r")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmResolutionScreen))
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, ConflictDetailScreen))
        await pilot.pause()
        detail = narrow(app.screen, ConflictDetailScreen)
        assert detail.posts == 0 and detail.sending is False
        assert backend.resolve_requests == []


async def test_merge_validates_json_inline_then_sends_the_object(backend: DemoBackend) -> None:
    backend.fail_next_resolves(1, status=502)
    app = app_for(backend)
    async with app.run_test(size=(120, 30)) as pilot:
        detail = await open_first(pilot, app, 3)
        await pilot.press("m")
        await wait_for(pilot, lambda: isinstance(app.screen, MergeEditorScreen))
        editor = app.screen.query_one("#merge-text", TextArea)
        editor.text = "[1, 2]"
        await pilot.press("ctrl+s")
        await wait_for_text(pilot, "must be a JSON object")
        editor.text = '{"amount": 11, '
        await pilot.press("ctrl+s")
        await wait_for_text(pilot, "invalid JSON")
        editor.text = '{"amount": 11, "memo": "merged by hand"}'
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmResolutionScreen))
        assert "merged by hand" in screen_text(app)
        await pilot.press("enter")
        assert await answered(pilot, detail, 1) is OutcomeKind.FAILED  # 502: merged doc kept
        assert detail.merged_text == '{"amount": 11, "memo": "merged by hand"}'
        await pilot.press("m")
        await wait_for(pilot, lambda: isinstance(app.screen, MergeEditorScreen))
        assert "merged by hand" in app.screen.query_one("#merge-text", TextArea).text
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmResolutionScreen))
        await pilot.press("enter")
        assert await answered(pilot, detail, 2) is OutcomeKind.RESOLVED
        assert len(backend.resolve_requests) == 2
        body = backend.resolve_requests[-1].body
        assert body["resolution"] == "merge"
        assert body["merged"] == {"amount": 11, "memo": "merged by hand"}
