"""Every dashboard key against the real demo backend (real PostgreSQL, real HTTP)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from syncmon.demo.backend import DemoBackend
from syncmon.ui.app import SyncmonApp
from syncmon.ui.launch import create_app
from syncmon.ui.screens.help import HelpScreen
from syncmon.ui.screens.user_filter import UserFilterScreen
from tests.ui.conftest import TOKEN
from tests.ui.helpers import (
    make_settings,
    screen_text,
    wait_for,
    wait_for_text,
    wait_for_workers,
)

pytestmark = pytest.mark.database


def app_for(backend: DemoBackend, **options: Any) -> SyncmonApp:
    return create_app(make_settings(backend.api_url, backend.dsn, token=TOKEN), **options)


async def test_main_screen_shows_every_panel(backend: DemoBackend) -> None:
    app = app_for(backend)
    async with app.run_test(size=(160, 50)) as pilot:
        await wait_for(pilot, lambda: app.polls >= 1, what="first poll")
        # "open" alone is already on screen before the first count ("c: open the list"), and
        # a repaint may trail the poll by a frame: wait for what each source brings.
        for text in ("3 open", "sync_success_rate", "HTTP 200"):
            await wait_for_text(pilot, text)
        text = screen_text(app)
        assert backend.api_url in text
        assert "refreshed" in text and "window 5m" in text
        for name in ("sync", "plaid", "database", "redis"):
            assert name in text
        assert "UP" in text and "HTTP 200" in text
        assert "High Sync Failure Rate" in text and "Endpoint Down" in text
        assert "sync_success_rate" in text and "> 99.00%" in text
        assert "3 open" in text
        assert "failure rate %" in text and "sync duration ms" in text


async def test_q_quits(backend: DemoBackend) -> None:
    app = app_for(backend)
    async with app.run_test() as pilot:
        await pilot.press("q")
        await pilot.pause()
        assert not app.is_running
    assert app.return_code == 0


async def test_r_refreshes_now(backend: DemoBackend) -> None:
    app = app_for(backend, interval=None)
    async with app.run_test() as pilot:
        await wait_for(pilot, lambda: app.polls >= 1)
        before = app.polls
        await pilot.press("r")
        await wait_for(pilot, lambda: app.polls > before, timeout=4, what="refresh")


async def test_p_pauses_and_resumes(backend: DemoBackend) -> None:
    from datetime import timedelta

    app = app_for(backend, interval=timedelta(milliseconds=300))
    async with app.run_test() as pilot:
        await wait_for(pilot, lambda: app.polls >= 2, what="periodic polls")
        await pilot.press("p")
        await wait_for_text(pilot, "PAUSED")
        await wait_for_workers(pilot, "poll", "health")
        # Nothing can poll: no timer is armed for it and no poll is running.
        assert app.schedule.paused
        assert not {"poll", "health"} & set(app._armed), app._armed
        assert app.schedule.polling_since is None and app.schedule.health_since is None
        paused_at = app.polls
        await pilot.press("p")
        await wait_for(pilot, lambda: app.polls > paused_at, what="resumed polling")
        assert "PAUSED" not in screen_text(app)


async def test_w_cycles_the_window_through_every_panel(backend: DemoBackend) -> None:
    app = app_for(backend)
    async with app.run_test(size=(160, 50)) as pilot:
        await wait_for(pilot, lambda: app.polls >= 1)
        for label in ("15m", "1h", "6h", "24h", "5m"):
            await pilot.press("w")
            await wait_for_text(pilot, f"window {label}")
            await wait_for_text(pilot, f"key metrics ({label})")
            await wait_for_text(pilot, f"recent failures ({label})")
        assert app.schedule.window.total_seconds() == 300


async def test_w_charts_span_the_window_when_longer_than_an_hour(backend: DemoBackend) -> None:
    app = app_for(backend)
    async with app.run_test(size=(160, 50)) as pilot:
        await wait_for(pilot, lambda: app.polls >= 1)
        for _ in range(3):
            await pilot.press("w")
        await wait_for(
            pilot,
            lambda: (
                app.model.chart is not None
                and len(app.model.chart.performance) * app.model.chart.step.total_seconds()
                == 6 * 3600
            ),
            what="6h chart",
        )
        await wait_for_text(pilot, "hours ago")


async def test_u_filters_by_user_validates_and_clears(backend: DemoBackend) -> None:
    app = app_for(backend)
    user = uuid.uuid4()
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.polls >= 1)
        await pilot.press("u")
        await wait_for(pilot, lambda: isinstance(app.screen, UserFilterScreen))
        await pilot.press(*"not-a-uuid", "enter")
        await wait_for_text(pilot, "not a UUID")
        assert isinstance(app.screen, UserFilterScreen)
        await pilot.press(*["backspace"] * 10, *str(user), "enter")
        await wait_for_text(pilot, f"user {user}")
        assert app.schedule.user == user
        await pilot.press("u")
        await wait_for(pilot, lambda: isinstance(app.screen, UserFilterScreen))
        await pilot.press(*["backspace"] * 40, "enter")
        await wait_for(pilot, lambda: app.schedule.user is None)
        assert f"user {user}" not in screen_text(app)


async def test_question_mark_opens_help_and_escape_closes_it(backend: DemoBackend) -> None:
    app = app_for(backend)
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))
        assert "acknowledge the selected firing alert" in screen_text(app)
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, HelpScreen))


async def test_command_palette_runs_dashboard_commands(backend: DemoBackend) -> None:
    from textual.command import CommandPalette
    from textual.widgets import OptionList

    app = app_for(backend)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.polls >= 1)
        await pilot.press("ctrl+p")
        await wait_for(pilot, lambda: isinstance(app.screen, CommandPalette), what="palette")
        await pilot.press(*"Cycle window")

        def highlighted() -> str:
            options = app.screen.query_one(OptionList)
            index = options.highlighted
            return "" if index is None else str(options.get_option_at_index(index).prompt)

        await wait_for(pilot, lambda: "Cycle window" in highlighted(), what="the command found")
        await pilot.press("enter")
        await wait_for_text(pilot, "window 15m")
        assert app.schedule.window.total_seconds() == 900


async def test_chart_is_fetched_once_per_half_bucket_not_every_poll(
    backend: DemoBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    from datetime import timedelta

    from syncmon.engine.poll import Engine, PollRequest, Snapshot

    requests: list[PollRequest] = []
    real_poll = Engine.poll

    async def recording_poll(self: Engine, request: PollRequest | None = None) -> Snapshot:
        requests.append(request or PollRequest())  # what the engine polls for None
        return await real_poll(self, request)

    monkeypatch.setattr(Engine, "poll", recording_poll)
    app = app_for(backend, interval=timedelta(milliseconds=200))
    async with app.run_test(size=(160, 50)) as pilot:
        await wait_for(pilot, lambda: app.polls >= 4, what="four polls")
        charted = [r for r in requests if r.chart_span is not None]
        assert len(charted) == 1, "the chart came with every poll"
        assert "failure rate %" in screen_text(app)  # still drawn from the kept chart
        await pilot.press("r")
        await wait_for(
            pilot,
            lambda: sum(r.chart_span is not None for r in requests) == 2,
            what="r fetches the chart again",
        )
