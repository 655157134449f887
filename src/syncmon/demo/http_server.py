"""A deliberately small asyncio HTTP/1.1 server for the demo backend and for tests.

No web framework: the demo must run with nothing but syncmon's own dependencies, and tests
of other parts want a real socket with handlers they control. One request per connection
(`Connection: close`), bodies only by `Content-Length`, and every malformed or oversized
request answered with a 4xx instead of an exception.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from email.utils import formatdate
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 1024 * 1024
MAX_HEADER_BYTES = 64 * 1024
MAX_HEADERS = 100
_TOKEN = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")


@dataclass(frozen=True)
class Request:
    """A parsed request; header names are lower-cased, `path` is percent-decoded."""

    method: str
    path: str
    query: Mapping[str, list[str]]
    headers: Mapping[str, str]
    body: bytes = b""
    path_params: Mapping[str, str] = field(default_factory=dict)

    def query_value(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else default

    def json(self) -> Any:
        """The body as JSON; raises `ValueError` (incl. decode errors) when it is not."""
        return json.loads(self.body.decode("utf-8"))


@dataclass
class Response:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""

    @classmethod
    def json(
        cls,
        status: int,
        payload: Any,
        *,
        headers: Mapping[str, str] | None = None,
        content_type: str = "application/json",
    ) -> Response:
        merged = {"Content-Type": content_type, **(headers or {})}
        return cls(status, merged, json.dumps(payload).encode())


Handler = Callable[[Request], Awaitable[Response]]


def error_response(status: int, message: str | None = None) -> Response:
    return Response.json(status, {"error": message or HTTPStatus(status).phrase})


class Router:
    """Method + path-pattern dispatch; `{name}` matches one path segment."""

    def __init__(self) -> None:
        self._routes: list[tuple[str, re.Pattern[str], Handler]] = []

    def add(self, method: str, pattern: str, handler: Handler) -> None:
        regex = re.sub(r"\\{(\w+)\\}", r"(?P<\1>[^/]+)", re.escape(pattern))
        self._routes.append((method.upper(), re.compile(f"^{regex}$"), handler))

    async def __call__(self, request: Request) -> Response:
        allowed: list[str] = []
        for method, regex, handler in self._routes:
            match = regex.match(request.path)
            if not match:
                continue
            if method == request.method or (method == "GET" and request.method == "HEAD"):
                params = {**request.path_params, **match.groupdict()}
                return await handler(_with_params(request, params))
            allowed.append(method)
        if allowed:
            response = error_response(405)
            response.headers["Allow"] = ", ".join(sorted(set(allowed)))
            return response
        return error_response(404)


def _with_params(request: Request, params: dict[str, str]) -> Request:
    return Request(
        request.method, request.path, request.query, request.headers, request.body, params
    )


class BadRequest(Exception):
    """A request we refuse before any handler sees it; carries the status to answer."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class HttpServer:
    """Serve `handler` on `host:port` (port 0 picks a free one; read `port` after start)."""

    def __init__(
        self,
        handler: Handler,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        max_body: int = MAX_BODY_BYTES,
        read_timeout: float = 10.0,
        default_headers: Mapping[str, str] | None = None,
    ) -> None:
        self.handler = handler
        self.host = host
        self.port = port
        self.max_body = max_body
        self.read_timeout = read_timeout
        self.default_headers = dict(default_headers or {})
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[None]] = set()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def start(self) -> None:
        self._server = await asyncio.start_server(
            self._serve, self.host, self.port, limit=MAX_HEADER_BYTES
        )
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        """Stop listening and cut every open connection, including handlers still waiting."""
        if self._server is not None:
            self._server.close()
            for task in list(self._connections):
                task.cancel()
            if self._connections:
                await asyncio.gather(*self._connections, return_exceptions=True)
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2)
            self._server = None

    async def __aenter__(self) -> HttpServer:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        try:
            await self._exchange(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass  # the client went away; nobody is left to answer
        finally:
            self._connections.discard(task)
            writer.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(writer.wait_closed(), 1)

    async def _exchange(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        method = "GET"
        try:
            request = await asyncio.wait_for(self._read_request(reader), self.read_timeout)
            method = request.method
        except BadRequest as exc:
            response = error_response(exc.status, str(exc))
        except TimeoutError:
            response = error_response(408)
        else:
            try:
                response = await self.handler(request)
            except Exception:
                log.exception("handler failed for %s %s", request.method, request.path)
                response = error_response(500)
        writer.write(self._encode(response, head_only=method == "HEAD"))
        await writer.drain()

    async def _read_request(self, reader: asyncio.StreamReader) -> Request:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.LimitOverrunError as exc:
            raise BadRequest(431, "request header too large") from exc
        except asyncio.IncompleteReadError as exc:
            if not exc.partial:
                raise ConnectionResetError("closed before a request") from exc
            raise BadRequest(400, "incomplete request") from exc
        try:
            lines = head.decode("latin-1").split("\r\n")[:-2]
        except UnicodeDecodeError as exc:  # pragma: no cover - latin-1 decodes anything
            raise BadRequest(400, "undecodable request") from exc
        method, target = _parse_request_line(lines[0])
        headers = _parse_headers(lines[1:])
        if "transfer-encoding" in headers:
            raise BadRequest(501, "Transfer-Encoding is not supported; send Content-Length")
        body = b""
        if "content-length" in headers:
            raw_length = headers["content-length"]
            if not raw_length.isdigit():
                raise BadRequest(400, "invalid Content-Length")
            length = int(raw_length)
            if length > self.max_body:
                raise BadRequest(413, f"request body over {self.max_body} bytes")
            body = await reader.readexactly(length)
        parts = urlsplit(target)
        return Request(
            method=method,
            path=unquote(parts.path) or "/",
            query=parse_qs(parts.query, keep_blank_values=True),
            headers=headers,
            body=body,
        )

    def _encode(self, response: Response, *, head_only: bool) -> bytes:
        try:
            reason = HTTPStatus(response.status).phrase
        except ValueError:
            reason = "Unknown"
        headers = {**self.default_headers, **response.headers}
        headers["Content-Length"] = str(len(response.body))
        headers["Connection"] = "close"
        headers.setdefault("Date", formatdate(usegmt=True))
        headers.setdefault("Server", "syncmon-demo")
        lines = [f"HTTP/1.1 {response.status} {reason}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", errors="replace")
        return head if head_only else head + response.body


def _parse_request_line(line: str) -> tuple[str, str]:
    parts = line.split(" ")
    if len(parts) != 3:
        raise BadRequest(400, "malformed request line")
    method, target, version = parts
    if not _TOKEN.match(method) or version not in ("HTTP/1.0", "HTTP/1.1"):
        raise BadRequest(400, "malformed request line")
    if not target.startswith("/"):
        raise BadRequest(400, "only origin-form request targets are supported")
    return method, target


def _parse_headers(lines: list[str]) -> dict[str, str]:
    if len(lines) > MAX_HEADERS:
        raise BadRequest(431, "too many headers")
    headers: dict[str, str] = {}
    for line in lines:
        name, sep, value = line.partition(":")
        if not sep or not _TOKEN.match(name):
            raise BadRequest(400, "malformed header line")
        key = name.lower()
        value = value.strip()
        if key in headers:
            if key == "content-length" and headers[key] != value:
                raise BadRequest(400, "conflicting Content-Length headers")
            headers[key] = value if key == "content-length" else f"{headers[key]}, {value}"
        else:
            headers[key] = value
    return headers
