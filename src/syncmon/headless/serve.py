"""What `watch --metrics-port` serves (SPEC §7, §16): `/metrics`, `/api/v1/state`, `/api/v1/stream`.

One asyncio server in the watcher's own loop, so the state a viewer reads is the one the
last evaluation produced, serialized once however many viewers follow it. The stream is
Server-Sent Events: `curl -N` prints it as it comes and a browser's `EventSource` reads it
(JSON lines would need a client of our own in the browser). A slow viewer is never queued
for: it gets the latest state when it can take it, never a backlog.

Beyond loopback every request needs `Authorization: Bearer $SYNCMON_WATCH_TOKEN`
(compared in constant time); the watcher refuses to start there without one. TLS is a
reverse proxy's job (README, "Team setup").
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import ipaddress
import json
import logging
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

log = logging.getLogger("syncmon.watch")

MAX_HEAD = 16 * 1024
HEAD_TIMEOUT = 5.0
MAX_STREAMS = 500
HEARTBEAT_CAP = 15.0
DRAIN_TIMEOUT = 60.0  # a viewer that reads nothing for this long is dropped


def is_loopback(host: str) -> bool:
    """True for `localhost`, 127.0.0.0/8 and ::1; anything else (0.0.0.0, a name) is beyond."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def token_problem(host: str, token: str | None) -> str | None:
    """Why a watcher must not start serving on `host` (None: it may)."""
    if token or is_loopback(host):
        return None
    return (
        f"--metrics-host {host} listens beyond loopback: set SYNCMON_WATCH_TOKEN to a secret "
        "that viewers send as a bearer token (and put TLS in front, see README "
        "'Team setup'), or serve on 127.0.0.1"
    )


def authorized(header: str | None, token: str | None) -> bool:
    if not token:
        return True
    scheme, _, given = (header or "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(
        given.strip().encode(), token.encode()
    )


class StateServer:
    """The HTTP side of a watcher. `publish` after each evaluation; `close` at shutdown."""

    def __init__(
        self,
        registry: CollectorRegistry,
        *,
        token: str | None,
        heartbeat: float,
        head_timeout: float = HEAD_TIMEOUT,
    ) -> None:
        self.registry = registry
        self.head_timeout = head_timeout  # request line and headers, in all
        self.token = token
        self.heartbeat = min(max(heartbeat, 0.2), HEARTBEAT_CAP)
        self.latest: bytes | None = None  # the state document, serialized once
        self.version = 0
        self._changed = asyncio.Condition()
        self._server: asyncio.Server | None = None
        self._streams: set[asyncio.Task[Any]] = set()
        self._closing = False

    @property
    def port(self) -> int | None:
        if self._server is None or not self._server.sockets:
            return None
        return int(self._server.sockets[0].getsockname()[1])

    async def start(self, host: str, port: int) -> None:
        """Listen (OSError when the port is taken)."""
        self._server = await asyncio.start_server(self._handle, host, port, limit=MAX_HEAD)

    async def publish(self, document: dict[str, Any]) -> None:
        self.latest = json.dumps(document, separators=(",", ":"), allow_nan=False).encode()
        self.version += 1
        async with self._changed:
            self._changed.notify_all()

    async def close(self) -> None:
        self._closing = True
        async with self._changed:
            self._changed.notify_all()
        if self._server is not None:
            self._server.close()
        for task in list(self._streams):
            task.cancel()
        if self._streams:
            await asyncio.wait(self._streams, timeout=1.0)
        if self._server is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._server.wait_closed(), 1.0)

    # -- one connection -----------------------------------------------------------------------
    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            async with asyncio.timeout(self.head_timeout):
                head = await reader.readuntil(b"\r\n\r\n")
        except (TimeoutError, OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            writer.close()
            return
        lines = head.decode("latin-1").split("\r\n")
        method, path = ([*lines[0].split(), "", ""])[:2]
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        path = path.split("?", 1)[0]
        try:
            if method not in ("GET", "HEAD"):
                await self._reply(writer, 405, b"only GET\n", "text/plain", allow="GET, HEAD")
            elif not authorized(headers.get("authorization"), self.token):
                await self._reply(
                    writer,
                    401,
                    b'{"error": "a bearer token is needed"}\n',
                    "application/json",
                    www_authenticate='Bearer realm="syncmon"',
                )
            elif path == "/metrics":
                await self._reply(writer, 200, generate_latest(self.registry), CONTENT_TYPE_LATEST)
            elif path == "/api/v1/state":
                await self._state(writer)
            elif path == "/api/v1/stream":
                await self._stream(writer, method)
            else:
                body = b'{"error": "not found: try /api/v1/state, /api/v1/stream, /metrics"}\n'
                await self._reply(writer, 404, body, "application/json")
        except (OSError, TimeoutError, asyncio.CancelledError):
            pass
        finally:
            writer.close()

    async def _reply(
        self, writer: asyncio.StreamWriter, status: int, body: bytes, kind: str, **extra: str
    ) -> None:
        reason = {
            200: "OK",
            401: "Unauthorized",
            404: "Not Found",
            405: "Method Not Allowed",
            503: "Service Unavailable",
        }[status]
        head = [
            f"HTTP/1.1 {status} {reason}",
            f"Content-Type: {kind}",
            f"Content-Length: {len(body)}",
            "Cache-Control: no-store",
            "Connection: close",
            *(f"{k.replace('_', '-').title()}: {v}" for k, v in extra.items()),
        ]
        writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + body)
        await writer.drain()

    async def _state(self, writer: asyncio.StreamWriter) -> None:
        if self.latest is None:
            body = b'{"error": "no evaluation yet"}\n'
            await self._reply(writer, 503, body, "application/json", retry_after="1")
            return
        await self._reply(writer, 200, self.latest + b"\n", "application/json")

    async def _stream(self, writer: asyncio.StreamWriter, method: str) -> None:
        if len(self._streams) >= MAX_STREAMS:
            await self._reply(writer, 503, b"too many viewers\n", "text/plain", retry_after="5")
            return
        task = asyncio.current_task()
        assert task is not None
        self._streams.add(task)
        try:
            head = (
                "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                "Cache-Control: no-store\r\nX-Accel-Buffering: no\r\nConnection: close\r\n\r\n"
            )
            writer.write(head.encode())
            if method == "HEAD":
                await writer.drain()
                return
            sent = 0
            while not self._closing:
                if self.latest is not None and self.version != sent:
                    sent = self.version
                    writer.write(b"event: state\ndata: " + self.latest + b"\n\n")
                else:
                    writer.write(b": heartbeat\n\n")
                async with asyncio.timeout(DRAIN_TIMEOUT):  # a viewer that stopped reading
                    await writer.drain()
                async with self._changed:
                    if self.version == sent and not self._closing:
                        with contextlib.suppress(TimeoutError):
                            await asyncio.wait_for(self._changed.wait(), self.heartbeat)
        finally:
            self._streams.discard(task)
