"""A raw asyncio HTTP server for health-poll tests: each path answers with a chosen behaviour,
including the hostile ones (hang, trickle, 50 MB, garbage, redirect)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "X-XSS-Protection": "1; mode=block",
}

Writer = asyncio.StreamWriter
Behaviour = Callable[[Writer], Awaitable[None]]


def response(
    status: int,
    body: bytes = b"",
    headers: dict[str, str] | None = None,
    content_type: str = "application/json",
) -> bytes:
    head = [
        f"HTTP/1.1 {status} X",
        f"Content-Length: {len(body)}",
        "Connection: close",
        f"Content-Type: {content_type}",
    ]
    head += [f"{k}: {v}" for k, v in (headers if headers is not None else SECURITY_HEADERS).items()]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


def answer(
    status: int,
    body: object = None,
    *,
    headers: dict[str, str] | None = None,
    delay: float = 0.0,
    raw: bytes | None = None,
) -> Behaviour:
    payload = raw if raw is not None else (b"" if body is None else json.dumps(body).encode())

    async def behave(writer: Writer) -> None:
        if delay:
            await asyncio.sleep(delay)
        writer.write(response(status, payload, headers))
        await writer.drain()

    return behave


def hang() -> Behaviour:
    async def behave(writer: Writer) -> None:
        await asyncio.sleep(3600)

    return behave


def huge(megabytes: int) -> Behaviour:
    async def behave(writer: Writer) -> None:
        size = megabytes * 1024 * 1024
        head = response(200, b"", None).replace(
            b"Content-Length: 0", f"Content-Length: {size}".encode()
        )
        writer.write(head)
        chunk = b'{"status": "pass", "pad": "' + b"x" * 65536
        sent = 0
        try:
            while sent < size:
                writer.write(chunk)
                sent += len(chunk)
                await writer.drain()
        except (ConnectionError, OSError):
            return

    return behave


def trickle(interval: float) -> Behaviour:
    """Headers at once, then one byte of body every `interval` seconds, forever."""

    async def behave(writer: Writer) -> None:
        writer.write(
            response(200, b"", None).replace(b"Content-Length: 0", b"Content-Length: 100000")
        )
        try:
            while True:
                writer.write(b" ")
                await writer.drain()
                await asyncio.sleep(interval)
        except (ConnectionError, OSError):
            return

    return behave


@dataclass
class EndpointServer:
    """Serves `routes` (path → behaviour) on 127.0.0.1; records request headers per path."""

    routes: dict[str, Behaviour] = field(default_factory=dict)
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    port: int = 0
    _server: asyncio.AbstractServer | None = None
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def __aenter__(self) -> EndpointServer:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _handle(self, reader: asyncio.StreamReader, writer: Writer) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            path = lines[0].split(" ")[1].split("?")[0]
            headers = {}
            for line in lines[1:]:
                if ":" in line:
                    key, value = line.split(":", 1)
                    headers[key.strip().lower()] = value.strip()
            self.requests.append((path, headers))
            behaviour = self.routes.get(path, answer(404, {"error": "not found"}))
            await behaviour(writer)
        except (asyncio.IncompleteReadError, ConnectionError, OSError):
            pass
        except asyncio.CancelledError:
            pass
        finally:
            writer.close()
            self._tasks.discard(task)


def healthy_routes() -> dict[str, Behaviour]:
    return {
        "/api/health/sync": answer(
            200, {"status": "pass", "checks": {"queue": [{"status": "pass"}]}}
        ),
        "/api/health/plaid": answer(200, {"status": "pass"}),
        "/api/health/database": answer(200, {"status": "ok"}),
        "/api/health/redis": answer(200, {"status": "UP"}),
    }
