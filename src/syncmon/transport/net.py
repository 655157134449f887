"""The one HTTP layer: every request syncmon makes (health polls, the conflicts API,
Alertmanager, webhooks) is built, bounded, explained and classified here.

- `build_client`: User-Agent, the Bearer token (unwrapped here, where the connection is
  made), TLS, connection limits, redirects never followed, raw bytes only.
- `request`: one overall deadline for connect + headers + the whole body (a server that
  trickles a byte a second cannot hold a poll past it) and a size cap checked while the
  body streams in (a 300 MB answer costs a megabyte of memory, not 300). A body is decoded
  as its `Content-Encoding` says (gzip, deflate) and the cap counts decoded bytes, so a
  gzip bomb is cut at the cap like any other long answer.
- `failure_kind`: which failures may heal with a retry and which never will.
- `explain_connect_error`: why a connection failed, in words an on-call engineer acts on.
"""

from __future__ import annotations

import asyncio
import os
import socket
import ssl
import time
import zlib
from dataclasses import dataclass
from enum import Enum
from functools import lru_cache
from typing import Any

import httpx
from pydantic import SecretStr

from syncmon import __version__
from syncmon.config.redaction import describe_error, redact
from syncmon.core.durations import elapsed_text

USER_AGENT = f"syncmon/{__version__}"
TlsVerify = bool | str  # verify with the default CAs, do not verify, or a CA bundle path
# What a request to an untrusted server can raise besides timeouts and refused connections:
# protocol errors, a bad URL (port 99999 reaches `connect` as OverflowError), a broken stream.
_UNUSABLE = (
    httpx.HTTPError,
    httpx.InvalidURL,
    httpx.StreamError,
    ssl.SSLError,
    OSError,
    ValueError,
    OverflowError,
)


class ClientSetupError(Exception):
    """A client cannot be built (an unreadable CA bundle); the message is safe to print."""


class FailureKind(Enum):
    """Whether the same request, sent again later, may succeed."""

    TRANSIENT = "transient"
    """No answer (timeout, refused, DNS, TLS), 408, 429, 5xx, or a redirect we do not follow
    (it may be a maintenance page): retry with backoff."""
    PERMANENT = "permanent"
    """Any other 4xx: the request itself is wrong and would be refused the same way forever."""


def failure_kind(status: int | None) -> FailureKind:
    """The retry rule for every client; `status` is None when no answer came at all."""
    if status is not None and 400 <= status < 500 and status not in (408, 429):
        return FailureKind.PERMANENT
    return FailureKind.TRANSIENT


class HttpFailure(Exception):
    """No usable answer: the message names where (`sync http://…/health: timed out after 5s`)."""

    def __init__(
        self,
        where: str,
        reason: str,
        *,
        status: int | None = None,
        elapsed_ms: float = 0.0,
        timed_out: bool = False,
    ) -> None:
        self.where = redact(where)
        self.reason = redact(reason)
        self.status = status
        self.elapsed_ms = elapsed_ms
        self.timed_out = timed_out  # the request may have reached the server: state unknown
        super().__init__(f"{self.where}: {self.reason}")

    @property
    def kind(self) -> FailureKind:
        return failure_kind(self.status)


@dataclass(frozen=True)
class Reply:
    """An answer read whole (or up to its cap, when the caller accepts a truncated body).

    `undecodable` says why the body could not be decoded (an encoding syncmon does not
    read, a corrupt gzip stream); `body` is then empty: what it said is unknown.
    """

    status: int
    reason: str
    headers: httpx.Headers
    body: bytes
    truncated: bool
    elapsed_ms: float
    undecodable: str | None = None

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


def tls_context(base_url: str, verify: TlsVerify) -> ssl.SSLContext:
    """The TLS context for a client of `base_url`; raises ClientSetupError if it cannot be built.

    A plain-http URL never uses TLS (redirects are not followed), so it gets an empty context
    that trusts nothing, which costs nothing: loading CAs takes 30-50 ms, a tenth of `check`.
    """
    if not base_url.lower().startswith("https://"):
        return ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    return _verifying_context(verify)


@lru_cache(maxsize=8)
def _verifying_context(verify: TlsVerify) -> ssl.SSLContext:
    """Built once per setting and shared by every client (health, conflicts) of the process."""
    if isinstance(verify, bool):
        return httpx.create_ssl_context(verify=verify)
    try:
        if os.path.isdir(verify):
            return ssl.create_default_context(capath=verify)
        return ssl.create_default_context(cafile=verify)
    except OSError as exc:
        reason = exc.strerror or describe_error(exc)
        raise ClientSetupError(
            f"sources.api.ca_bundle {verify}: cannot read it: {reason}"
        ) from None
    except ssl.SSLError as exc:
        raise ClientSetupError(
            f"sources.api.ca_bundle {verify}: not a PEM certificate bundle ({exc.reason})"
        ) from None


def build_client(
    base_url: str,
    *,
    timeout: float,
    token: SecretStr | None = None,
    verify: TlsVerify = True,
    accept: str = "application/json",
    max_connections: int = 10,
) -> httpx.AsyncClient:
    """An httpx client for requests to `base_url`, as every syncmon request needs it.

    `Accept-Encoding: identity` (health bodies are small) and raw reads that `read_capped`
    decodes itself, when a proxy compresses anyway, within the size cap. The token leaves
    its SecretStr here and nowhere else. Raises ClientSetupError when the TLS context
    cannot be built.
    """
    headers = {"User-Agent": USER_AGENT, "Accept": accept, "Accept-Encoding": "identity"}
    if token is not None and token.get_secret_value():
        headers["Authorization"] = f"Bearer {token.get_secret_value()}"
    return httpx.AsyncClient(
        headers=headers,
        timeout=timeout,
        follow_redirects=False,
        verify=tls_context(base_url, verify),
        limits=httpx.Limits(max_connections=max_connections),
    )


async def request(
    client: httpx.AsyncClient,
    method: str,
    url: str,
    *,
    where: str,
    deadline: float,
    max_body: int,
    truncate: bool = False,
    **options: Any,
) -> Reply:
    """Send one request and read its answer within `deadline` seconds, at most `max_body` bytes.

    A non-2xx answer is a Reply (the caller decides what it means); no answer in time, a
    connection failure, or a body over the cap (unless `truncate`) raises HttpFailure.
    """
    started = time.perf_counter()

    def failure(reason: str, status: int | None = None, timed_out: bool = False) -> HttpFailure:
        elapsed = round((time.perf_counter() - started) * 1000, 1)
        return HttpFailure(where, reason, status=status, elapsed_ms=elapsed, timed_out=timed_out)

    status: int | None = None
    undecodable: str | None = None
    try:
        async with asyncio.timeout(deadline):
            async with client.stream(method, url, **options) as response:
                status = response.status_code
                try:
                    body, truncated = await read_capped(response, max_body)
                except UndecodableBody as exc:
                    body, truncated, undecodable = b"", False, str(exc)
    except (TimeoutError, httpx.TimeoutException):
        took = elapsed_text(time.perf_counter() - started, deadline)  # httpx's may fire first
        raise failure(f"timed out after {took}", timed_out=True) from None
    except httpx.ConnectError as exc:
        raise failure(explain_connect_error(exc)) from None
    except _UNUSABLE as exc:
        raise failure(describe_error(exc), status) from None
    if truncated and not truncate:
        raise failure(f"answer larger than {_size(max_body)}: not read further", status)
    return Reply(
        status=response.status_code,
        reason=response.reason_phrase,
        headers=response.headers,
        body=body,
        truncated=truncated,
        elapsed_ms=round((time.perf_counter() - started) * 1000, 1),
        undecodable=undecodable,
    )


class UndecodableBody(Exception):
    """The body's Content-Encoding cannot be undone; the message says which and why."""


# zlib's wbits per Content-Encoding token: gzip framing, or the zlib framing of `deflate`
# (RFC 9110). `br` and `zstd` would need a new dependency; they are refused by name.
_WBITS = {"gzip": 16 + zlib.MAX_WBITS, "x-gzip": 16 + zlib.MAX_WBITS, "deflate": zlib.MAX_WBITS}
DECODED_ENCODINGS = ("gzip", "deflate")


class _Inflater:
    """One zlib stream, decompressed at most `room` bytes at a time: a 1,000:1 gzip bomb
    never expands past what the cap still allows, whatever size its chunks arrive in."""

    def __init__(self, encoding: str) -> None:
        self.encoding = encoding
        self._z = zlib.decompressobj(_WBITS[encoding])
        self._raw_deflate = encoding == "deflate"  # some servers send deflate without a header
        self._started = False

    def feed(self, data: bytes, room: int) -> bytes:
        try:
            if not self._started and self._raw_deflate and data:
                self._started = True
                probe = zlib.decompressobj(zlib.MAX_WBITS)
                try:
                    probe.decompress(data[:2])
                except zlib.error:
                    self._z = zlib.decompressobj(-zlib.MAX_WBITS)
            self._started = True
            return self._z.decompress(self._z.unconsumed_tail + data, room)
        except zlib.error as exc:
            raise UndecodableBody(f"body is not valid {self.encoding} ({exc})") from None

    def finish(self, room: int) -> bytes:
        """What the stream still holds once the raw body has ended, up to `room` bytes."""
        out = self.feed(b"", room) if self._z.unconsumed_tail else b""
        if len(out) < room and not self._z.eof and not self._z.unconsumed_tail:
            raise UndecodableBody(f"{self.encoding} body ends early (truncated stream)")
        return out


def _inflater(headers: httpx.Headers) -> _Inflater | None:
    """The decoder for the response's Content-Encoding, None for identity; raises
    UndecodableBody for an encoding syncmon does not read."""
    codings = [
        c.strip().lower()
        for c in ",".join(headers.get_list("content-encoding")).split(",")
        if c.strip() and c.strip().lower() != "identity"
    ]
    if not codings:
        return None
    if len(codings) == 1 and codings[0] in _WBITS:
        return _Inflater(codings[0])
    shown = ", ".join(c[:20] for c in codings[:3])
    raise UndecodableBody(
        f"body sent with Content-Encoding {shown!r}, which syncmon does not decode "
        f"(it reads {' and '.join(DECODED_ENCODINGS)})"
    )


async def read_capped(response: httpx.Response, cap: int) -> tuple[bytes, bool]:
    """Up to `cap` bytes of the body as sent (decoded per Content-Encoding), and whether
    there was more (then left unread). Raises UndecodableBody."""
    inflater = _inflater(response.headers)
    chunks: list[bytes] = []
    size = 0
    async for raw in response.aiter_raw():
        chunk = raw if inflater is None else inflater.feed(raw, cap + 1 - size)
        chunks.append(chunk)
        size += len(chunk)
        if size > cap:
            return b"".join(chunks)[:cap], True
    if inflater is not None:
        tail = inflater.finish(cap + 1 - size)
        chunks.append(tail)
        size += len(tail)
        if size > cap:
            return b"".join(chunks)[:cap], True
    return b"".join(chunks), False


def explain_connect_error(exc: BaseException) -> str:
    """`connection refused`, `host not found (DNS)`, a TLS error: what httpx buries in a chain."""
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and len(chain) < 10:
        chain.append(current)
        current = current.__cause__ or current.__context__
    causes = [c for c in chain if isinstance(c, OSError)]
    for cause in causes:
        if isinstance(cause, ConnectionRefusedError) or cause.errno == 111:
            return "connection refused"
        for inner in getattr(cause, "exceptions", ()):  # anyio groups per-address failures
            if isinstance(inner, ConnectionRefusedError):
                return "connection refused"
    text = " ".join(str(c) for c in chain).lower()
    if "refused" in text:
        return "connection refused"
    if any(isinstance(c, socket.gaierror) for c in chain) or "name or service not known" in text:
        return "host not found (DNS)"
    if "certificate" in text or "ssl" in text:
        return redact(f"TLS error: {exc}")
    return redact(f"cannot connect: {exc}" if str(exc) else "cannot connect")


def _size(count: int) -> str:
    if count >= 1024 * 1024:
        return f"{count / (1024 * 1024):g} MiB"
    return f"{count / 1024:g} KiB"
