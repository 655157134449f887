"""The database comes back while a rule fires (SPEC §4.2, §14): `watch` re-announces the alert,
`firing` with `"restored": true` and the same id, on stdout, webhooks and Alertmanager,
exactly once per recovery. Between the watcher and PostgreSQL stands a TCP proxy on
127.0.0.1 that stalls (holds every byte, closes nothing, as a network partition does) and
resumes."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest

from tests.integration.watch_support import (
    FAILURE_RULE,
    FlakyReceiver,
    RunningWatcher,
    insert_operations,
    settings_for,
    wait_until,
    write_config,
)

pytestmark = pytest.mark.database

QUICK_TIMEOUT = "sources:\n  database:\n    statement_timeout: 1s\n"


class StallingProxy:
    """Forwards TCP to `upstream`; `stall()` holds every byte in both directions on every
    connection, new ones included, until `resume()`."""

    def __init__(self, host: str, port: int) -> None:
        self.upstream = (host, port)
        self.flowing = asyncio.Event()
        self.flowing.set()
        self.port = 0
        self._server: asyncio.Server | None = None
        self._pumps: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    def stall(self) -> None:
        self.flowing.clear()

    def resume(self) -> None:
        self.flowing.set()

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for pump in list(self._pumps):
            pump.cancel()
        await asyncio.gather(*self._pumps, return_exceptions=True)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await self.flowing.wait()  # a stalled network does not even answer the handshake
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.upstream)
        except OSError:
            writer.close()
            return
        for source, sink in ((reader, up_writer), (up_reader, writer)):
            task = asyncio.create_task(self._pump(source, sink))
            self._pumps.add(task)
            task.add_done_callback(self._pumps.discard)

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                await self.flowing.wait()
                writer.write(data)
                await writer.drain()
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            with contextlib.suppress(OSError):
                writer.close()


def _through(dsn: str, port: int) -> str:
    parts = urlsplit(dsn)
    netloc = parts.netloc.rsplit("@", 1)
    host = f"127.0.0.1:{port}"
    return urlunsplit(parts._replace(netloc=f"{netloc[0]}@{host}" if len(netloc) == 2 else host))


async def test_a_firing_rule_is_re_announced_once_per_recovery_everywhere(
    seed_db: str, tmp_path: Path
) -> None:
    target = urlsplit(seed_db)
    proxy = StallingProxy(target.hostname or "127.0.0.1", target.port or 5432)
    await proxy.start()
    webhook, alertmanager = FlakyReceiver(), FlakyReceiver()
    webhook.start()
    alertmanager.start()
    config = write_config(tmp_path, FAILURE_RULE.format(for_="0s") + QUICK_TIMEOUT)
    settings = settings_for(config, _through(seed_db, proxy.port))
    # an episode under way for two minutes: its since (Alertmanager's startsAt) is past
    await insert_operations(seed_db, ok=10, failed=10, ago=timedelta(minutes=2))
    try:
        async with RunningWatcher(
            settings,
            webhooks=[webhook.url],
            alertmanagers=[alertmanager.url],
            resend=timedelta(hours=1),  # Alertmanager hears only of changes and re-announcements
            source_timeout=1.0,
        ) as running:
            watcher = running.watcher
            await wait_until(lambda: running.out.kinds() == ["firing"])
            for recovery in (1, 2):
                proxy.stall()
                # each wait ends before the loop moves on: its lambda sees this turn's values
                await wait_until(lambda: running.out.kinds().count("error") == recovery, 15)  # noqa: B023
                blind = watcher.stats.cycles + 2
                await wait_until(lambda: watcher.stats.cycles >= blind, 15)  # noqa: B023
                proxy.resume()
                await wait_until(
                    lambda: running.out.kinds().count("firing") == 1 + recovery,  # noqa: B023
                    15,
                )
            settled = watcher.stats.cycles
            await wait_until(lambda: watcher.stats.cycles >= settled + 5)
            await wait_until(lambda: len(webhook.received) == 5)
    finally:
        await proxy.close()
        webhook.stop()

    events = running.out.events()
    assert [e["event"] for e in events] == ["firing", "error", "firing", "error", "firing"]
    # the first too: the episode began before this watcher started (SPEC §4.2)
    assert [e["restored"] for e in events] == [True, False, True, False, True]
    assert len({e["id"] for e in events}) == 1 and len({e["since"] for e in events}) == 1
    hooked: list[dict[str, Any]] = webhook.received
    assert [(e["event"], e["restored"], e["id"]) for e in hooked] == [
        (e["event"], e["restored"], e["id"]) for e in events
    ]
    # Alertmanager: the first page, then once per recovery; same alert, same startsAt
    posts = alertmanager.received
    alertmanager.stop()
    assert len(posts) == 3, posts
    assert len({(p[0]["labels"]["alertname"], p[0]["startsAt"]) for p in posts}) == 1
