"""Acknowledgements, time travel, stale data, hostile text and a hung endpoint (SPEC §6, §8)."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit, urlunsplit

import pytest

from syncmon.core.alerts import AlertState
from syncmon.core.metrics import Source
from syncmon.demo.backend import DemoBackend
from syncmon.demo.http_server import HttpServer, Request, Response, Router
from syncmon.ui.app import SyncmonApp, create_app
from syncmon.ui.panels.alerts import AlertsTable
from tests.ui.conftest import TOKEN
from tests.ui.helpers import (
    make_settings,
    screen_text,
    terminal_output,
    wait_for,
    wait_for_text,
)

pytestmark = pytest.mark.database


def app_for(backend: DemoBackend, **options: object) -> SyncmonApp:
    settings = make_settings(
        backend.api_url,
        backend.dsn,
        token=TOKEN,
        health_timeout=float(options.pop("health_timeout", 5.0)),
    )
    return create_app(settings, flash=False, **options)


class FakeAlertmanager:
    """Records silences created and expired (Alertmanager API v2 shapes)."""

    def __init__(self) -> None:
        self.created: list[dict] = []
        self.expired: list[str] = []
        router = Router()
        router.add("POST", "/api/v2/silences", self._create)
        router.add("DELETE", "/api/v2/silence/{id}", self._expire)
        self.server = HttpServer(router)

    async def _create(self, request: Request) -> Response:
        self.created.append(request.json())
        return Response.json(200, {"silenceID": f"sil-{len(self.created)}"})

    async def _expire(self, request: Request) -> Response:
        self.expired.append(request.path_params["id"])
        return Response.json(200, {})


async def test_a_acknowledges_until_the_alert_resolves_with_a_silence(backend: DemoBackend) -> None:
    alertmanager = FakeAlertmanager()
    await alertmanager.server.start()
    try:
        backend.set_endpoint("sync", "down")
        app = app_for(backend, alertmanagers=[alertmanager.server.url])
        async with app.run_test(size=(120, 40)) as pilot:
            tracker = app.alerts.trackers["Endpoint Down"]
            await wait_for(pilot, lambda: tracker.state is AlertState.FIRING, what="firing")
            await wait_for_text(pilot, "1 FIRING")
            assert app.screen.query_one(AlertsTable).selected_rule() == "Endpoint Down"
            await pilot.press("a")
            await wait_for_text(pilot, "acked by tester")
            assert "1 FIRING" not in screen_text(app)  # no longer drawing attention
            assert "1 ACKED" in screen_text(app)
            await wait_for(pilot, lambda: len(alertmanager.created) == 1, what="silence")
            matchers = {m["name"]: m["value"] for m in alertmanager.created[0]["matchers"]}
            assert matchers["alertname"] == "Endpoint Down"
            assert alertmanager.created[0]["createdBy"] == "tester"

            backend.set_endpoint("sync", "up")
            await pilot.press("r")
            await wait_for(pilot, lambda: tracker.state is not AlertState.FIRING, what="resolved")
            await wait_for(pilot, lambda: alertmanager.expired == ["sil-1"], what="expiry")
            assert "acked by" not in screen_text(app)
            assert "Endpoint Down" not in app.acks
    finally:
        await alertmanager.server.stop()


async def test_a_on_a_quiet_alert_only_explains(backend: DemoBackend) -> None:
    app = app_for(backend)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.polls >= 1)
        await pilot.press("a")
        await wait_for(
            pilot,
            lambda: any("select a firing alert" in n.message for n in app._notifications),
            what="notice",
        )
        assert "acked by" not in screen_text(app)


async def test_at_time_shows_the_past_and_no_health(backend: DemoBackend) -> None:
    at = datetime.now(UTC) - timedelta(minutes=20)
    app = app_for(backend, at=at)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.polls >= 1)
        await wait_for_text(pilot, "not available (--at)")  # a repaint may trail the poll
        text = screen_text(app)
        assert "AT-TIME" in text and at.astimezone().strftime("%H:%M:%S") in text
        assert "not available (--at)" in text
        assert app.model.evaluated_at == at
        await pilot.pause(1.5)
        assert app.polls == 1, "no live polling under --at"


class TcpProxy:
    """A plain TCP forwarder we can cut, so the real database becomes unreachable."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.server: asyncio.base_events.Server | None = None
        self.writers: list[asyncio.StreamWriter] = []

    async def start(self) -> int:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        return self.server.sockets[0].getsockname()[1]

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
    app = create_app(make_settings(backend.api_url, dsn, token=TOKEN), flash=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: "sync_success_rate" in app.model.metrics)
        old = app.model.metrics["sync_success_rate"]
        await proxy.cut()
        await pilot.press("r")
        await wait_for(pilot, lambda: Source.PERFORMANCE in app.model.stale, what="stale")
        await wait_for_text(pilot, "STALE")
        assert app.model.metrics["sync_success_rate"] == old  # still shown
        line = next(x for x in screen_text(app).splitlines() if "sync_success_rate" in x)
        assert "STALE" in line and "✓ ok" not in line  # never looks fresh
        assert "STALE" in screen_text(app).split("\n")[1]  # the header says so too


async def test_hostile_error_message_is_shown_literally_and_harmlessly(
    backend: DemoBackend,
) -> None:
    hostile = "[bold red]boom[/] [@click=app.quit]x[/] \x1b]0;pwned\x07 \x1b[2J end"
    backend.set_error_message_override(hostile)
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
    app = app_for(backend, health_timeout=3.0)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for_text(pilot, "polling… 1s", timeout=5)
        await pilot.press("w")  # keys work while the poll waits
        await wait_for_text(pilot, "window 15m", timeout=1)
        await pilot.press("question_mark")
        await wait_for_text(pilot, "syncmon keys", timeout=1)
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.polls >= 1, timeout=10)
        await wait_for_text(pilot, "timed out after 3s")
        text = screen_text(app)
        assert "DOWN" in text and "UP" in text  # the others updated
        assert "sync_success_rate" in text


def test_settings_are_not_mutated_by_the_app() -> None:
    settings = make_settings(None, None)
    create_app(settings)
    assert dataclasses.replace(settings) == settings


async def test_unconfigured_database_says_so_instead_of_stale() -> None:
    from syncmon.ui.app import create_app
    from tests.ui.helpers import make_settings, screen_text, wait_for

    app = create_app(make_settings("http://127.0.0.1:1", None), flash=False)
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
    import time

    backend.set_endpoint("redis", "hang")
    app = app_for(backend, health_timeout=3.0)
    async with app.run_test(size=(120, 40)) as pilot:
        started = time.monotonic()
        await wait_for(pilot, lambda: app.polls >= 1, timeout=2.5, what="the database poll")
        assert time.monotonic() - started < 3.0  # before the health poll's timeout
        await wait_for_text(pilot, "sync_success_rate", timeout=2)
        await wait_for_text(pilot, "health polling…", timeout=3)
        await wait_for_text(pilot, "timed out after 3s", timeout=6)
