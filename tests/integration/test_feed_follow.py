"""The stream follower (SPEC §16) against real HTTP servers: which watcher a viewer follows."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from syncmon.engine.poll import Snapshot
from syncmon.feed.encode import encode
from syncmon.feed.stream import FeedStatus, follow
from syncmon.feed.wire import WatcherState
from tests.integration.http_endpoints import EndpointServer, Writer
from tests.integration.watch_support import wait_until


def _document(evaluated_at: datetime, seq: int = 1) -> bytes:
    snapshot = Snapshot(evaluated_at, True, timedelta(minutes=5))
    document = encode(snapshot, [], interval=timedelta(seconds=1), seq=seq)
    return json.dumps(document).encode()


def sse(evaluated_at: Any, *, heartbeats: bool = True) -> Any:
    """A stream that sends one state (evaluated at `evaluated_at()`), then heartbeats (or a
    new state every second when `evaluated_at` moves)."""

    async def behave(writer: Writer) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\n")
        seq = 0
        while True:
            seq += 1
            writer.write(b"event: state\ndata: " + _document(evaluated_at(), seq) + b"\n\n")
            for _ in range(2):
                writer.write(b": heartbeat\n\n")
                await writer.drain()
                await asyncio.sleep(0.5)
            if not heartbeats:
                return

    return behave


async def _follow(
    urls: list[str], until: Any
) -> tuple[list[tuple[str, WatcherState]], list[FeedStatus]]:
    states: list[tuple[str, WatcherState]] = []
    statuses: list[FeedStatus] = []
    task = asyncio.ensure_future(
        follow(urls, None, lambda u, s: states.append((u, s)), statuses.append)
    )
    try:
        await wait_until(lambda: until(states, statuses), timeout=20)
    finally:
        task.cancel()
    return states, statuses


async def test_a_watcher_that_answers_but_does_not_evaluate_is_passed_over() -> None:
    frozen = datetime.now(UTC) - timedelta(minutes=10)
    async with (
        EndpointServer({"/api/v1/stream": sse(lambda: frozen)}) as stuck,
        EndpointServer({"/api/v1/stream": sse(lambda: datetime.now(UTC))}) as live,
    ):
        states, _ = await _follow([stuck.url, live.url], lambda s, _: len(s) >= 2)
    assert {url for url, _ in states} == {live.url}  # the old state was never passed on
    assert all(not state.stale(datetime.now(UTC)) for _, state in states)


async def test_when_every_watcher_is_stuck_none_answers_with_the_reasons() -> None:
    frozen = datetime.now(UTC) - timedelta(minutes=10)
    async with EndpointServer({"/api/v1/stream": sse(lambda: frozen)}) as stuck:
        states, statuses = await _follow([stuck.url], lambda _, st: any(s.url is None for s in st))
    assert states == []
    none = next(s for s in statuses if s.url is None)
    assert "its last evaluation is" in none.problems[0]


async def test_a_closed_stream_goes_back_to_the_first_watcher() -> None:
    async with (
        EndpointServer(
            {"/api/v1/stream": sse(lambda: datetime.now(UTC), heartbeats=False)}
        ) as first,
        EndpointServer({"/api/v1/stream": sse(lambda: datetime.now(UTC))}) as second,
    ):
        states, _ = await _follow([first.url, second.url], lambda s, _: len(s) >= 3)
    assert {url for url, _ in states} == {first.url}  # reconnected to the first each time


def hung(evaluated_at: Any) -> Any:
    """Sends one fresh state, then nothing at all: a watcher whose process hangs."""

    async def behave(writer: Writer) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\n")
        writer.write(b"event: state\ndata: " + _document(evaluated_at()) + b"\n\n")
        await writer.drain()
        await asyncio.sleep(3600)

    return behave


async def test_a_hung_watcher_is_left_for_the_next_after_its_interval_and_a_second() -> None:
    async with (
        EndpointServer({"/api/v1/stream": hung(lambda: datetime.now(UTC))}) as frozen,
        EndpointServer({"/api/v1/stream": sse(lambda: datetime.now(UTC))}) as live,
    ):
        states, _ = await _follow(
            [frozen.url, live.url], lambda s, _: any(url == live.url for url, _ in s)
        )
    first_live = next(i for i, (url, _) in enumerate(states) if url == live.url)
    assert [url for url, _ in states[:first_live]] == [frozen.url]
    gap = states[first_live][1].evaluated_at - states[0][1].evaluated_at
    assert gap < timedelta(seconds=5)  # its interval (1 s) and a second, plus slack for load
