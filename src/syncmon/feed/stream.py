"""Following a watcher's `/api/v1/stream` (Server-Sent Events) for `tui --from`, with failover.

Watchers are tried in the order given; the stream goes back to the first one that answers
whenever it loses one. asyncio streams only (no httpx): one long-lived GET per viewer.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass

from syncmon.core.clock import Clock, wall_clock
from syncmon.feed.client import (  # the request and URL rules are shared
    CONNECT_TIMEOUT,
    MAX_DOCUMENT,
    STREAM_PATH,
    Target,
    WatcherUnreachable,
    request_bytes,
    unreachable,
)
from syncmon.feed.decode import decode
from syncmon.feed.wire import StateInvalid, WatcherState

_PUMPS: set[asyncio.Task[None]] = set()  # de-chunking tasks still running


async def _open(
    url: str, path: str, token: str | None, accept: str, timeout: float
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter, bool]:
    """Connect, send the GET, read the head; (reader, writer, chunked). Raises
    WatcherUnreachable naming the watcher and what happened."""
    target = Target.of(url)
    context = None
    if target.tls:
        import ssl

        context = ssl.create_default_context()
    try:
        async with asyncio.timeout(timeout):
            reader, writer = await asyncio.open_connection(
                target.host, target.port, ssl=context, limit=MAX_DOCUMENT
            )
            writer.write(request_bytes(target, path, token, accept))
            await writer.drain()
            status_line = await reader.readline()
            headers: dict[str, str] = {}
            while True:
                line = await reader.readline()
                if line in (b"\r\n", b"\n", b""):
                    break
                name, _, value = line.decode("latin-1").partition(":")
                headers[name.strip().lower()] = value.strip()
    except TimeoutError:
        raise WatcherUnreachable(f"{url}: no answer within {timeout:g}s") from None
    except OSError as exc:
        raise WatcherUnreachable(f"{url}: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise WatcherUnreachable(f"{url}: {exc}") from None
    parts = status_line.decode("latin-1").split(maxsplit=2)
    status = int(parts[1]) if len(parts) >= 2 and parts[1].isdigit() else 0
    if status != 200:
        writer.close()
        raise unreachable(url, status)
    chunked = "chunked" in headers.get("transfer-encoding", "").lower()
    return reader, writer, chunked


async def _body_chunks(reader: asyncio.StreamReader, chunked: bool) -> asyncio.StreamReader:
    """The body as a stream of bytes, de-chunked when the server (or a proxy) chunked it."""
    if not chunked:
        return reader
    plain = asyncio.StreamReader(limit=MAX_DOCUMENT)

    async def pump() -> None:
        try:
            while True:
                size = int((await reader.readline()).split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    break
                plain.feed_data(await reader.readexactly(size))
                await reader.readline()
        except (OSError, ValueError, asyncio.IncompleteReadError):
            pass
        finally:
            plain.feed_eof()

    task = asyncio.ensure_future(pump())
    _PUMPS.add(task)  # the loop holds tasks weakly: keep it until it ends
    task.add_done_callback(_PUMPS.discard)
    return plain


# --- the stream -------------------------------------------------------------------------------
@dataclass(frozen=True)
class FeedStatus:
    """What the follower is doing: connected to `url`, or none answers (`url` None)."""

    url: str | None
    problems: tuple[str, ...] = ()


StateCallback = Callable[[str, WatcherState], None]
StatusCallback = Callable[[FeedStatus], None]


async def _events(reader: asyncio.StreamReader, idle: Callable[[], float]) -> AsyncIterator[str]:
    """The `data` of each Server-Sent Event (comments are heartbeats); ends when the watcher
    goes away or sends nothing, not even a heartbeat, for `idle()` seconds."""
    data: list[str] = []
    while True:
        async with asyncio.timeout(idle()):
            line = await reader.readline()
        if not line:
            return
        text = line.decode("utf-8", errors="replace").rstrip("\r\n")
        if not text:
            if data:
                yield "\n".join(data)
                data = []
        elif text.startswith("data:"):
            data.append(text[5:].removeprefix(" "))


class Stuck(Exception):
    """The watcher answers but does not evaluate: its newest state is over two intervals old."""


async def _follow_one(
    url: str, token: str | None, on_state: StateCallback, on_status: StatusCallback, clock: Clock
) -> tuple[str, bool, int]:
    """Follow one watcher until it is lost: (why, stuck, states received). Raises
    WatcherUnreachable when it cannot be reached at all."""
    interval = [CONNECT_TIMEOUT]  # the watcher's own, once it said it

    def idle() -> float:  # heartbeats come every half interval
        return interval[0] + 1.0

    reader, writer, chunked = await _open(
        url, STREAM_PATH, token, "text/event-stream", CONNECT_TIMEOUT
    )
    on_status(FeedStatus(url))
    received = 0
    try:
        events = _events(await _body_chunks(reader, chunked), idle)
        while True:
            try:  # heartbeats alone do not count: a new evaluation every two intervals
                async with asyncio.timeout(2 * interval[0] + 1.0):
                    data = await anext(events)
            except StopAsyncIteration:
                return f"{url}: closed the stream", False, received
            state = decode(json.loads(data))
            interval[0] = state.interval.total_seconds()
            now = clock()
            if state.stale(now):
                age = int(state.age(now).total_seconds())
                raise Stuck(f"{url}: its last evaluation is {age}s old")
            on_state(url, state)
            received += 1
    except TimeoutError:
        return f"{url}: no new evaluation for {2 * interval[0] + 1.0:g}s", True, received
    except Stuck as exc:
        return str(exc), True, received
    except (OSError, ValueError, StateInvalid) as exc:
        return f"{url}: {str(exc)[:120]}", False, received
    finally:
        writer.close()


async def follow(
    urls: Sequence[str],
    token: str | None,
    on_state: StateCallback,
    on_status: StatusCallback,
    *,
    retry: float = 1.0,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    clock: Clock = wall_clock,
) -> None:
    """Follow the first watcher that answers, in order, for ever (until cancelled).

    A watcher that closes the stream or sends a broken document is left at once, and the
    list tried again from the first; one that is silent for its interval plus a second (no
    heartbeat), or whose newest state is over two intervals old (it answers but does not
    evaluate, by `clock`), is passed over for the next in the list. When none answers the
    status says so, and every `retry` seconds the list is tried again from the first."""
    while True:
        problems: list[str] = []
        lost = False
        for url in urls:
            try:
                why, stuck, received = await _follow_one(url, token, on_state, on_status, clock)
            except WatcherUnreachable as exc:
                problems.append(str(exc))
                continue
            problems.append(why)
            if stuck:
                continue  # the next one may be evaluating
            if not received:  # it answers but sends nothing usable: do not spin on it
                await sleep(retry / 4)
            lost = True
            break  # lost the one that answered: start again from the first
        if not lost:
            on_status(FeedStatus(None, tuple(problems)))
            await sleep(retry)
