"""Reading watchers (`--from URL[,URL…]`): one GET for `check`, a followed stream for `tui`.

The standard library only (no httpx, no pydantic, not even asyncio here): `check --from`
is a process that Nagios starts every minute and must be done in a quarter of a second.
The stream (`feed/stream.py`) shares the URL rules and the request.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from syncmon.core.clock import Clock
from syncmon.feed.decode import decode
from syncmon.feed.wire import StateInvalid, WatcherState

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


def request_bytes(target: Target, path: str, token: str | None, accept: str) -> bytes:
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


def _connect(target: Target, timeout: float) -> socket.socket:
    sock = socket.create_connection((target.host, target.port), timeout=timeout)
    if not target.tls:
        return sock
    import ssl  # only for https: plain http is most of what `check --from` does

    return ssl.create_default_context().wrap_socket(sock, server_hostname=target.host)


def split_response(raw: bytes) -> tuple[int, dict[str, str], bytes]:
    """(status, headers, body) of a whole HTTP/1.1 response read until the server closed."""
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(maxsplit=2)
    status = int(parts[1]) if len(parts) >= 2 and parts[1].isdigit() else 0
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    if "chunked" in headers.get("transfer-encoding", "").lower():
        body = _dechunk(body)
    return status, headers, body


def _dechunk(body: bytes) -> bytes:
    out, rest = bytearray(), body
    while rest:
        size_line, _, rest = rest.partition(b"\r\n")
        size = int(size_line.split(b";")[0].strip() or b"0", 16)
        if size == 0:
            break
        out += rest[:size]
        rest = rest[size + 2 :]
    return bytes(out)


def unreachable(url: str, status: int) -> WatcherUnreachable:
    if status == 401:
        return WatcherUnreachable(
            f"{url}: refused the token (401): set SYNCMON_WATCH_TOKEN to the watcher's"
        )
    return WatcherUnreachable(f"{url}: answered HTTP {status or '?'}")


def fetch_state(url: str, token: str | None, timeout: float = CONNECT_TIMEOUT) -> WatcherState:
    """One `GET /api/v1/state` within `timeout` in all; WatcherUnreachable when it gives no
    usable state (the message names the watcher and why)."""
    target = Target.of(url)
    deadline = time.monotonic() + timeout
    raw = bytearray()
    try:
        with _connect(target, timeout) as sock:
            sock.sendall(request_bytes(target, STATE_PATH, token, "application/json"))
            while len(raw) <= MAX_DOCUMENT:
                sock.settimeout(max(0.001, deadline - time.monotonic()))
                chunk = sock.recv(65536)
                if not chunk:
                    break
                raw += chunk
    except TimeoutError:
        raise WatcherUnreachable(f"{url}: no answer within {timeout:g}s") from None
    except OSError as exc:
        raise WatcherUnreachable(f"{url}: {exc.strerror or exc}") from None
    status, _, body = split_response(bytes(raw))
    if status != 200:
        raise unreachable(url, status)
    try:
        return decode(json.loads(body))
    except (ValueError, StateInvalid) as exc:
        raise WatcherUnreachable(f"{url}: not a watcher's state: {str(exc)[:120]}") from None


def first_fresh_state(
    urls: Sequence[str], token: str | None, timeout: float = CONNECT_TIMEOUT, *, clock: Clock
) -> tuple[str, WatcherState] | list[str]:
    """The first watcher (in order) whose state is fresh; else the freshest stale one; else
    why each failed. All are asked at once; the order decides among the answers, and a
    fresh answer is used as soon as every watcher before it has answered (fresh by `clock`
    when its turn comes)."""
    answers: list[WatcherState | str | None] = [None] * len(urls)

    def ask(i: int) -> None:
        try:
            answers[i] = fetch_state(urls[i], token, timeout)
        except WatcherUnreachable as exc:
            answers[i] = str(exc)
        except Exception as exc:  # a bug must still leave an answer (UNKNOWN, not a hang)
            answers[i] = f"{urls[i]}: {exc!r}"[:200]

    threads = [threading.Thread(target=ask, args=(i,), daemon=True) for i in range(len(urls))]
    for thread in threads:
        thread.start()
    for i, thread in enumerate(threads):
        thread.join(timeout + 1.0)
        answer = answers[i]
        if isinstance(answer, WatcherState) and not answer.stale(clock()):
            return urls[i], answer
    states = [(u, a) for u, a in zip(urls, answers, strict=True) if isinstance(a, WatcherState)]
    if states:
        return max(states, key=lambda pair: pair[1].evaluated_at)
    return [
        a if isinstance(a, str) else f"{u}: no answer" for u, a in zip(urls, answers, strict=True)
    ]
