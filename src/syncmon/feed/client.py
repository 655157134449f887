"""Reading watchers (`--from URL[,URL…]`): one GET for `check`, a followed stream for `tui`.

The standard library only (no httpx, no pydantic): `check --from` is a process that Nagios
starts every minute and must be done in a quarter of a second. Watchers are tried in the
order given; the stream goes back to the first one that answers whenever it loses one.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

from syncmon.feed.wire import StateInvalid, WatcherState, decode

TOKEN_VARIABLE = "SYNCMON_WATCH_TOKEN"
STATE_PATH = "/api/v1/state"
STREAM_PATH = "/api/v1/stream"
MAX_DOCUMENT = 16 * 1024 * 1024  # a state with a day of charts is well under 1 MiB
CONNECT_TIMEOUT = 3.0


class WatcherUnreachable(Exception):
    """One watcher did not give a usable state; the message names it and why."""


def parse_urls(text: str) -> list[str]:
    """`URL[,URL…]` → base URLs; ValueError naming the first that is not http(s)://host."""
    urls = [u.strip().rstrip("/") for u in text.split(",") if u.strip()]
    if not urls:
        raise ValueError("--from: no watcher URL given")
    for url in urls:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"--from: {url!r} is not an http:// or https:// URL")
        try:
            parts.port  # noqa: B018  # raises on a port out of range
        except ValueError:
            raise ValueError(f"--from: {url!r} has an invalid port") from None
    return urls


def watch_token(env: dict[str, str] | None = None) -> str | None:
    return (env if env is not None else os.environ).get(TOKEN_VARIABLE) or None


@dataclass(frozen=True)
class Target:
    host: str
    port: int
    tls: bool
    prefix: str

    @classmethod
    def of(cls, url: str) -> Target:
        parts = urlsplit(url)
        tls = parts.scheme == "https"
        return cls(parts.hostname or "", parts.port or (443 if tls else 80), tls, parts.path)


def _request(target: Target, path: str, token: str | None, accept: str) -> bytes:
    host = f"[{target.host}]" if ":" in target.host else target.host
    lines = [
        f"GET {target.prefix}{path} HTTP/1.1",
        f"Host: {host}:{target.port}",
        f"Accept: {accept}",
        "User-Agent: syncmon",
        "Connection: close",
    ]
    if token:
        lines.append(f"Authorization: Bearer {token}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


async def _open(
    url: str, path: str, token: str | None, accept: str, timeout: float
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter, bool]:
    """Connect, send the GET, read the head; (reader, writer, chunked). Raises
    WatcherUnreachable naming the watcher and what happened."""
    target = Target.of(url)
    context = None
    if target.tls:
        import ssl  # only for https: plain http is most of what `check --from` does

        context = ssl.create_default_context()
    try:
        async with asyncio.timeout(timeout):
            reader, writer = await asyncio.open_connection(
                target.host, target.port, ssl=context, limit=MAX_DOCUMENT
            )
            writer.write(_request(target, path, token, accept))
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
        reason = {401: "refused the token (401): set SYNCMON_WATCH_TOKEN to the watcher's"}
        raise WatcherUnreachable(f"{url}: " + reason.get(status, f"answered HTTP {status or '?'}"))
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
    plain._pump = task  # type: ignore[attr-defined]  # kept alive with the reader
    return plain


async def fetch_state(
    url: str, token: str | None, timeout: float = CONNECT_TIMEOUT
) -> WatcherState:
    """One `GET /api/v1/state`; WatcherUnreachable when it gives no usable state."""
    reader, writer, chunked = await _open(url, STATE_PATH, token, "application/json", timeout)
    try:
        async with asyncio.timeout(timeout):
            body = await (await _body_chunks(reader, chunked)).read(MAX_DOCUMENT)
        return decode(json.loads(body))
    except TimeoutError:
        raise WatcherUnreachable(f"{url}: state not sent within {timeout:g}s") from None
    except (ValueError, StateInvalid) as exc:
        raise WatcherUnreachable(f"{url}: not a watcher's state: {str(exc)[:120]}") from None
    finally:
        writer.close()


async def first_fresh_state(
    urls: Sequence[str], token: str | None, timeout: float = CONNECT_TIMEOUT
) -> tuple[str, WatcherState] | list[str]:
    """The first watcher (in order) whose state is fresh; else the freshest stale one;
    else why each failed. All are asked at once; the order decides among answers."""
    answers = await asyncio.gather(
        *(fetch_state(url, token, timeout) for url in urls), return_exceptions=True
    )
    now = datetime.now(UTC)
    states = [(u, a) for u, a in zip(urls, answers, strict=True) if isinstance(a, WatcherState)]
    for url, state in states:
        if not state.stale(now):
            return url, state
    if states:
        return max(states, key=lambda pair: pair[1].evaluated_at)
    return [str(a) for a in answers]


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


async def follow(
    urls: Sequence[str],
    token: str | None,
    on_state: StateCallback,
    on_status: StatusCallback,
    *,
    retry: float = 1.0,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> None:
    """Follow the first watcher that answers, in order, for ever (until cancelled).

    A watcher that closes the stream, sends a broken document, or is silent for longer than
    its interval plus a second (it sends a heartbeat every half interval) is left at once
    for the next one in the list; when none answers the status says so, and every `retry`
    seconds the list is tried again from the first."""
    interval = [CONNECT_TIMEOUT]  # the watcher's own, once it said it

    def idle() -> float:
        return interval[0] + 1.0

    while True:
        problems: list[str] = []
        for url in urls:
            interval[0] = CONNECT_TIMEOUT
            try:
                reader, writer, chunked = await _open(
                    url, STREAM_PATH, token, "text/event-stream", CONNECT_TIMEOUT
                )
            except WatcherUnreachable as exc:
                problems.append(str(exc))
                continue
            on_status(FeedStatus(url))
            received = 0
            try:
                body = await _body_chunks(reader, chunked)
                async for data in _events(body, idle):
                    state = decode(json.loads(data))
                    interval[0] = state.interval.total_seconds()
                    on_state(url, state)
                    received += 1
                problems.append(f"{url}: closed the stream")
            except TimeoutError:
                problems.append(f"{url}: silent for {interval[0] + 1.0:g}s")
            except (OSError, ValueError, StateInvalid) as exc:
                problems.append(f"{url}: {str(exc)[:120]}")
            finally:
                writer.close()
            if not received:  # it answers but sends nothing usable: do not spin on it
                await sleep(retry / 4)
            break  # lost the one that answered: start again from the first
        else:
            on_status(FeedStatus(None, tuple(problems)))
            await sleep(retry)
