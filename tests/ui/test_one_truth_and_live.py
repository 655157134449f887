"""One truth per poll, and live everywhere (issue 20 items 6 and 7; SPEC §17), against the
real demo backend: its HTTP health endpoints and conflicts API, on PostgreSQL.
"""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from textual.widgets import DataTable

from syncmon.core.alerts import AlertState
from syncmon.core.metrics import EndpointStatus
from syncmon.demo.backend import DemoBackend
from syncmon.ui.app import SyncmonApp
from syncmon.ui.launch import create_app
from syncmon.ui.screens.conflicts import ConflictsScreen
from tests.ui.conftest import TOKEN
from tests.ui.helpers import (
    ENDPOINT_RULE_ONLY,
    make_settings,
    screen_text,
    wait_for,
    wait_for_text,
    wait_for_workers,
)

pytestmark = pytest.mark.database
SIZES = [(80, 24), (120, 40)]


def live_app(backend: DemoBackend, rules: str = ENDPOINT_RULE_ONLY) -> SyncmonApp:
    settings = make_settings(backend.api_url, backend.dsn, token=TOKEN, rules=rules)
    return create_app(settings, interval=timedelta(seconds=1))


SYNC_ALERT = "Endpoint Down (sync)"


@pytest.mark.parametrize("size", SIZES)
async def test_an_endpoint_tile_and_its_rule_never_disagree(
    backend: DemoBackend, size: tuple[int, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every view published: a tile is DOWN exactly when Endpoint Down fires, poll after
    poll, while the endpoint goes down and comes back (the health poll runs on its own)."""
    app = live_app(backend)
    seen: list[tuple[bool, AlertState]] = []
    publish = app.publish

    def recording() -> None:
        publish()
        view = app.view
        # one alert per endpoint (SPEC §15): sync's tile against sync's alert
        row = next((r for r in view.alerts.rows if r.rule == SYNC_ALERT), None)
        if view.health.tiles and row is not None and row.evaluated:
            down = any(
                t.name == "sync" and t.status is EndpointStatus.DOWN for t in view.health.tiles
            )
            seen.append((down, row.state))

    def sync_state() -> AlertState:
        tracker = app.alerts.trackers.get(SYNC_ALERT)
        return tracker.state if tracker is not None else AlertState.INACTIVE

    monkeypatch.setattr(app, "publish", recording)
    async with app.run_test(size=size) as pilot:
        for _ in range(2):
            backend.set_endpoint("sync", "down")
            await wait_for(pilot, lambda: sync_state() is AlertState.FIRING, what="firing")
            after = app.polls + 2
            await wait_for(pilot, lambda: app.polls >= after, what="two more polls")  # noqa: B023
            backend.set_endpoint("sync", "up")
            await wait_for(pilot, lambda: sync_state() is not AlertState.FIRING, what="ok")
        await wait_for_workers(pilot)
    assert any(down for down, _ in seen) and any(not down for down, _ in seen)
    disagree = [(down, state) for down, state in seen if down != (state is AlertState.FIRING)]
    assert not disagree, f"{len(disagree)} of {len(seen)} views disagree: {disagree[:5]}"


@pytest.mark.parametrize("size", SIZES)
async def test_a_down_endpoint_says_for_how_long(
    backend: DemoBackend, size: tuple[int, int]
) -> None:
    backend.set_endpoint("sync", "down")
    app = live_app(backend)
    async with app.run_test(size=size) as pilot:
        await wait_for(pilot, lambda: app.model.down_since.get("sync") is not None, what="down")
        # the tile at 120 columns, the status block's reason under 110
        await wait_for_text(pilot, "DOWN for" if size[0] >= 110 else "down for")
        first = app.model.down_since["sync"]
        await wait_for(pilot, lambda: app.polls >= 3, what="more polls")
        assert app.model.down_since["sync"] == first  # counted from the first poll that saw it
        backend.set_endpoint("sync", "up")
        await wait_for(pilot, lambda: "sync" not in app.model.down_since, what="back up")
        await wait_for_workers(pilot)
        assert "own for" not in screen_text(app)


async def resolve_elsewhere(backend: DemoBackend, conflict: dict[str, object]) -> None:
    """Another dashboard resolves it: a real POST to the API."""
    async with httpx.AsyncClient(headers={"Authorization": f"Bearer {TOKEN}"}) as client:
        response = await client.post(
            f"{backend.api_url}/api/v1/sync/conflicts/{conflict['id']}/resolve",
            json={
                "resolution": "keep_local",
                "version": conflict["version"],
                "resolved_by": "someone-else",
                "note": "",
            },
        )
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("size", SIZES)
async def test_the_conflicts_list_refreshes_on_every_poll(
    backend: DemoBackend, size: tuple[int, int]
) -> None:
    app = live_app(backend)
    async with app.run_test(size=size) as pilot:
        await pilot.press("c")
        await wait_for(pilot, lambda: isinstance(app.screen, ConflictsScreen), what="list")
        screen = app.screen
        assert isinstance(screen, ConflictsScreen)
        await wait_for(pilot, lambda: len(screen._conflicts) == 3, what="three open")

        added = backend.add_conflict(entity_type="budget", entity_id="bud_live_1")
        await wait_for(pilot, lambda: added["id"] in screen._conflicts, what="the new one")
        await wait_for_text(pilot, "bud_live_1")

        gone = backend.open_conflicts()[0]
        await resolve_elsewhere(backend, gone)
        await wait_for(pilot, lambda: gone["id"] in screen._leaving, what="marked")
        await wait_for_text(pilot, "resolved elsewhere")
        assert gone["id"] not in screen._conflicts  # cannot be opened, only seen leaving
        await wait_for(pilot, lambda: gone["id"] not in screen._leaving, what="left")
        await wait_for(pilot, lambda: "resolved elsewhere" not in screen_text(app), what="gone")
        assert len(screen._conflicts) == 3


async def test_the_conflicts_list_filters_as_you_type(backend: DemoBackend) -> None:
    backend.add_conflict(entity_type="budget", entity_id="bud_findme")
    app = live_app(backend)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("c")
        await wait_for(pilot, lambda: isinstance(app.screen, ConflictsScreen), what="list")
        screen = app.screen
        assert isinstance(screen, ConflictsScreen)
        await wait_for(pilot, lambda: len(screen._conflicts) == 4, what="four open")
        await pilot.press("slash", *"findme")
        await wait_for_text(pilot, "filter: findme (1 of 4)")
        table = screen.query_one("#conflicts-table", DataTable)
        await wait_for(pilot, lambda: table.row_count == 1, what="narrowed")
        await pilot.press("enter", "escape")  # keep it, then clear it: the list stays
        await wait_for(pilot, lambda: table.row_count == 4, what="cleared")
        assert isinstance(app.screen, ConflictsScreen)
        await pilot.press("G")
        assert table.cursor_row == 3
        await pilot.press("g")
        assert table.cursor_row == 0
