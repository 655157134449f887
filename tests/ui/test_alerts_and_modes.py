"""Acknowledgements, time travel, stale data, hostile text and a hung endpoint (SPEC §6, §8)."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest

from syncmon.core.alerts import AlertState
from syncmon.core.metrics import Source
from syncmon.demo.backend import DemoBackend
from syncmon.ui.app import SyncmonApp
from syncmon.ui.launch import create_app
from syncmon.ui.messages import HealthPolled, PollFinished
from syncmon.ui.panels.alerts import AlertsTable
from syncmon.ui.screens.ack_dialog import AckDialog
from syncmon.ui.screens.help import HelpScreen
from syncmon.ui.screens.unack import UnackScreen
from syncmon.ui.views import CountsView
from tests.ui.conftest import TOKEN
from tests.ui.helpers import (
    ENDPOINT_RULE_ONLY,
    make_settings,
    screen_text,
    terminal_output,
    wait_for,
    wait_for_text,
    wait_for_workers,
)

pytestmark = pytest.mark.database


def app_for(backend: DemoBackend, rules: str | None = None, **options: Any) -> SyncmonApp:
    settings = make_settings(
        backend.api_url,
        backend.dsn,
        token=TOKEN,
        health_timeout=float(options.pop("health_timeout", 5.0)),
        **({"rules": rules} if rules else {}),
    )
    return create_app(settings, **options)


async def test_a_without_alertmanager_acks_locally_and_says_so(backend: DemoBackend) -> None:
    backend.set_endpoint("sync", "down")
    app = app_for(backend, ENDPOINT_RULE_ONLY)
    async with app.run_test(size=(120, 40)) as pilot:
        key = "Endpoint Down (sync)"  # one alert per endpoint (SPEC §15)
        await wait_for(pilot, lambda: key in app.alerts.trackers, what="the sync alert")
        tracker = app.alerts.trackers[key]
        await wait_for(pilot, lambda: tracker.state is AlertState.FIRING, what="firing")
        await wait_for(pilot, lambda: app.view.counts.firing == 1, what="counted")
        assert app.screen.query_one(AlertsTable).selected_rule() == key
        await pilot.press("a")  # the dialog names the alert; enter acks until it resolves
        await wait_for(pilot, lambda: isinstance(app.screen, AckDialog), what="the dialog")
        await pilot.press("enter")
        ack = app.acks.ack_for(tracker.rule)
        assert ack is not None and not ack.shared and ack.by == "tester"
        await wait_for_text(pilot, "by tester (local)")
        assert app.view.counts == CountsView(firing=0, acked=1)  # counted apart
        header = screen_text(app).splitlines()[1]
        assert "1 ACKED" in header and "FIRING" not in header
        assert any("local" in n.message for n in app._notifications)

        # `a` again offers to take it back; escape keeps it, enter un-acknowledges
        await pilot.press("a")
        await wait_for(pilot, lambda: isinstance(app.screen, UnackScreen), what="the offer")
        assert "only in this dashboard" in screen_text(app)
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, UnackScreen), what="kept")
        assert app.view.counts == CountsView(firing=0, acked=1)
        await pilot.press("a")
        await wait_for(pilot, lambda: isinstance(app.screen, UnackScreen), what="the offer")
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.view.counts == CountsView(firing=1, acked=0))
        await pilot.press("a")  # and it can be acknowledged again
        await wait_for(pilot, lambda: isinstance(app.screen, AckDialog), what="the dialog")
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.view.counts == CountsView(firing=0, acked=1))

        backend.set_endpoint("sync", "up")
        await pilot.press("r")
        await wait_for(pilot, lambda: tracker.state is not AlertState.FIRING, what="resolved")
        await wait_for_workers(pilot, "poll")
        assert app.acks.ack_for(tracker.rule) is None  # the ack ended with the alert
        assert "by tester" not in screen_text(app)


async def test_a_on_a_quiet_alert_only_explains(backend: DemoBackend) -> None:
    app = app_for(backend, ENDPOINT_RULE_ONLY)  # every endpoint is up: nothing fires
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for_workers(pilot, "poll", "health")
        assert app.view.counts == CountsView(firing=0, acked=0)
        await pilot.press("a")
        await wait_for(
            pilot,
            lambda: any("select a firing alert" in n.message for n in app._notifications),
            what="notice",
        )
        assert app.acks.local == {} and app.view.counts == CountsView(firing=0, acked=0)


async def test_at_time_shows_the_past_and_no_health(backend: DemoBackend) -> None:
    at = datetime.now(UTC) - timedelta(minutes=20)
    app = app_for(backend, at=at)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.polls >= 1)
        await wait_for_workers(pilot)
        text = screen_text(app)
        assert "AT-TIME" in text and at.astimezone().strftime("%H:%M:%S") in text
        assert "not available (--at)" in text
        assert app.model.evaluated_at == at
        # no live polling under --at: nothing is armed to poll again, and nothing runs
        assert app.polls == 1
        assert not {"poll", "health", "overdue"} & set(app._armed), app._armed


class TcpProxy:
    """A plain TCP forwarder we can cut, so the real database becomes unreachable."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.server: asyncio.base_events.Server | None = None
        self.writers: list[asyncio.StreamWriter] = []

    async def start(self) -> int:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        return int(self.server.sockets[0].getsockname()[1])

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(*self.target)
        self.writers += [writer, up_writer]

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            with contextlib.suppress(Exception):
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            dst.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    async def cut(self) -> None:
        assert self.server is not None
        self.server.close()
        for writer in self.writers:
            writer.close()


async def test_failed_source_keeps_its_data_marked_stale(backend: DemoBackend) -> None:
    parts = urlsplit(backend.dsn)
    proxy = TcpProxy(parts.hostname or "127.0.0.1", parts.port or 5432)
    port = await proxy.start()
    userinfo = parts.netloc.rpartition("@")[0]
    dsn = urlunsplit(parts._replace(netloc=f"{userinfo}@127.0.0.1:{port}"))
    app = create_app(make_settings(backend.api_url, dsn, token=TOKEN))
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: "sync_success_rate" in app.model.metrics)
        old = app.model.metrics["sync_success_rate"]
        await proxy.cut()
        await pilot.press("r")
        await wait_for(pilot, lambda: Source.PERFORMANCE in app.model.stale, what="stale")
        await wait_for_workers(pilot, "poll")
        assert app.model.metrics["sync_success_rate"] == old  # still shown
        text = screen_text(app)
        line = next(x for x in text.splitlines() if "sync_success_rate" in x)
        assert "stale" in line and "✓ ok" not in line  # never looks fresh
        assert "STALE: 3 sources" in text.splitlines()[1]  # the header says so too
        badge = next(x for x in text.splitlines() if " STALE " in x)
        assert "sync_performance_metrics" in badge or "database" in badge  # and why


async def test_hostile_error_message_is_shown_literally_and_harmlessly(
    backend: DemoBackend,
) -> None:
    hostile = "[bold red]boom[/] [@click=app.quit]x[/] \x1b]0;pwned\x07 \x1b[2J end"
    backend.set_error_message_override(hostile)
    for _ in range(6):  # the most frequent error in the window, whatever the random history
        await backend.write_traffic_tick()
    backend.add_conflict(
        entity_id="[@click=app.quit]u\x1b]0;pwned\x07", detected_at="2000-01-01T00:00:00Z"
    )
    app = app_for(backend)
    async with app.run_test(size=(160, 50)) as pilot:
        await wait_for_text(pilot, "[@click=app.quit]x[/]")
        text = screen_text(app)
        assert "[bold red]boom[/]" in text  # markup not interpreted
        assert "␛]0;pwned\\x07" in text and "␛[2J" in text  # controls made visible
        raw = terminal_output(app)
        assert "\x1b]0;pwned" not in raw and "\x1b[2J" not in raw and "\x07" not in raw
        assert "\x1b]8;" not in raw  # no hyperlink planted
        # the conflicts screen shows hostile documents just as literally
        await pilot.press("c")
        await wait_for_text(pilot, "[@click=app.quit]u")
        assert "\x1b]0;pwned" not in terminal_output(app)
        assert app.is_running


async def test_a_hung_endpoint_never_freezes_the_screen(backend: DemoBackend) -> None:
    backend.set_endpoint("redis", "hang")
    app = app_for(backend, health_timeout=30.0)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for_workers(pilot, "poll")  # the database poll ends; health still hangs
        assert app.schedule.health_since is not None
        await wait_for(pilot, lambda: "health polling… " in screen_text(app), what="count")
        await pilot.press("w")  # keys work while the poll waits
        await wait_for_text(pilot, "window 15m")
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen), what="help")
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, HelpScreen), what="closed")
        assert app.schedule.health_since is not None, "the endpoint still hangs"
        assert "sync_success_rate" in screen_text(app)


def test_settings_are_not_mutated_by_the_app() -> None:
    settings = make_settings(None, None)
    create_app(settings)
    assert dataclasses.replace(settings) == settings


async def test_unconfigured_database_says_so_instead_of_stale() -> None:
    from syncmon.ui.launch import create_app
    from tests.ui.helpers import make_settings, screen_text, wait_for

    app = create_app(make_settings("http://127.0.0.1:1", None))
    async with app.run_test(size=(160, 50)) as pilot:
        await wait_for(pilot, lambda: app.polls >= 1, what="first poll")
        await wait_for(
            pilot, lambda: screen_text(app).count("no database configured") >= 2, what="repaint"
        )
        text = screen_text(app)
    assert "no database configured" in text
    assert "no failed operations" not in text  # never claim good news without a source
    assert "STALE: " not in text  # nothing was ever fresh, so nothing is stale


async def test_a_hung_endpoint_does_not_hold_back_the_database_numbers(
    backend: DemoBackend,
) -> None:
    backend.set_endpoint("redis", "hang")
    app = app_for(backend, health_timeout=3.0)
    messages: list[object] = []
    async with app.run_test(size=(120, 40), message_hook=messages.append) as pilot:
        await wait_for_workers(pilot, "health")  # the hung endpoint times out (3 s)
        kinds = [type(m) for m in messages if isinstance(m, PollFinished | HealthPolled)]
        assert kinds[:2] == [PollFinished, HealthPolled], "numbers came before the timeout"
        health = next(m for m in messages if isinstance(m, HealthPolled))
        redis = next(e for e in health.endpoints or [] if e.name == "redis")
        assert redis.status == "down" and "timed out after 3s" in (redis.error or "")
        await wait_for_text(pilot, "timed out after 3s")
        assert "sync_success_rate" in screen_text(app)
