"""The one HTTP layer: every request syncmon makes (health polls, the conflicts API,
Alertmanager, webhooks) is built, bounded, explained and classified here.

- `build_client`: User-Agent, the Bearer token (unwrapped here, where the connection is
  made), TLS, connection limits, redirects never followed, raw bytes only.
- `request`: one overall deadline for connect + headers + the whole body (a server that
  trickles a byte a second cannot hold a poll past it) and a size cap checked while the
  body streams in (a 300 MB answer costs a megabyte of memory, not 300).
- `failure_kind`: which failures may heal with a retry and which never will.
- `explain_connect_error`: why a connection failed, in words an on-call engineer acts on.
"""

from __future__ import annotations

import asyncio
import os
import socket
import ssl
import time
from dataclasses import dataclass
from enum import Enum
from functools import lru_cache
from typing import Any

import httpx
from pydantic import SecretStr

from syncmon import __version__
from syncmon.redaction import describe_error, redact

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
    """An answer read whole (or up to its cap, when the caller accepts a truncated body)."""

    status: int
    reason: str
    headers: httpx.Headers
    body: bytes
    truncated: bool
    elapsed_ms: float

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

    `Accept-Encoding: identity` and raw reads: a compressed body could expand far past the
    size cap. The token leaves its SecretStr here and nowhere else. Raises ClientSetupError
    when the TLS context cannot be built.
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
    try:
        async with asyncio.timeout(deadline):
            async with client.stream(method, url, **options) as response:
                status = response.status_code
                body, truncated = await read_capped(response, max_body)
    except (TimeoutError, httpx.TimeoutException):
        raise failure(f"timed out after {deadline:g}s", timed_out=True) from None
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
    )


async def read_capped(response: httpx.Response, cap: int) -> tuple[bytes, bool]:
    """Up to `cap` bytes of the raw body, and whether there was more (then left unread)."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_raw():
        chunks.append(chunk)
        size += len(chunk)
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
