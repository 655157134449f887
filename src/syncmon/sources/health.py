"""Polling the health endpoints (SPEC §1.2): concurrent, bounded in time and size, never raising."""

from __future__ import annotations

import asyncio
import json
import ssl
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

from syncmon.net_errors import explain_connect_error
from syncmon.redaction import describe_error, redact

MAX_BODY = 1024 * 1024
SECURITY_HEADERS: dict[str, str | None] = {
    # header -> required value (case-insensitive), None when any value will do
    "Content-Security-Policy": None,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "X-XSS-Protection": None,
}
_UP = {"pass", "ok", "up", "healthy"}
_DEGRADED = {"warn", "degraded"}
_DOWN = {"fail", "down", "error", "unhealthy"}


@dataclass(frozen=True)
class EndpointResult:
    """One poll of one endpoint. `error` is the reason when not up, or a note about the body."""

    name: str
    url: str
    status: str  # up | degraded | down
    latency_ms: float | None
    http_status: int | None
    error: str | None
    missing_security_headers: tuple[str, ...] = ()
    checks: Any = None
    body_excerpt: str | None = None
    polled_at: datetime = field(default_factory=lambda: datetime.now(UTC))


def tls_verification(base_url: str, verify: bool | str) -> bool | str | ssl.SSLContext:
    """What to pass httpx as `verify`.

    Building a verifying context loads the CA bundle (30-50 ms, a tenth of `check`'s run).
    A plain-http base URL never uses TLS (redirects are not followed), so it gets an empty
    context that verifies everything and trusts nothing: any TLS through it would fail.
    """
    if base_url.lower().startswith("https://"):
        return verify
    return ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)


def classify(body: bytes, truncated: bool) -> tuple[str, str | None, Any]:
    """Map a 2xx response body to (status, note, checks) per SPEC §1.2."""
    if not body.strip():
        return "up", "empty body", None
    if truncated:
        return "up", f"body over {MAX_BODY // 1024} KiB not read in full; not understood", None
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return "up", "body is not JSON; not understood", None
    if not isinstance(document, dict) or not isinstance(document.get("status"), str):
        return "up", "JSON body has no status field; not understood", None
    checks = document.get("checks") or document.get("components") or document.get("details")
    value = document["status"].strip().lower()
    if value in _UP:
        return "up", None, checks
    if value in _DEGRADED:
        return "degraded", f"status {document['status']!r}", checks
    if value in _DOWN:
        return "down", f"status {document['status']!r}", checks
    return "degraded", f"unrecognised status {document['status'][:40]!r}", checks


def missing_headers(headers: httpx.Headers) -> tuple[str, ...]:
    missing = []
    for name, required in SECURITY_HEADERS.items():
        value = headers.get(name)
        if value is None or (required is not None and value.strip().lower() != required.lower()):
            missing.append(name)
    return tuple(missing)


class HealthPoller:
    """Polls every endpoint at once; one slow endpoint costs only its own timeout."""

    def __init__(
        self,
        base_url: str,
        endpoints: dict[str, str],
        *,
        timeout: float = 5.0,
        token: str | None = None,
        verify: bool | str = True,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.endpoints = dict(endpoints)
        self.timeout = timeout
        headers = {
            "User-Agent": "syncmon",
            "Accept": "application/health+json, application/json",
            # raw bytes only: a compressed body could expand far past the size cap
            "Accept-Encoding": "identity",
        }
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self._client = httpx.AsyncClient(
            headers=headers,
            timeout=timeout,
            follow_redirects=False,
            verify=tls_verification(self.base_url, verify),
            limits=httpx.Limits(max_connections=max(4, len(endpoints))),
        )

    async def close(self) -> None:
        await self._client.aclose()

    async def poll(self) -> list[EndpointResult]:
        return list(
            await asyncio.gather(
                *(self.poll_one(name, path) for name, path in self.endpoints.items())
            )
        )

    async def poll_one(self, name: str, path: str) -> EndpointResult:
        url = self.base_url + path
        started = time.perf_counter()

        def elapsed() -> float:
            return round((time.perf_counter() - started) * 1000, 1)

        try:
            async with asyncio.timeout(self.timeout):
                async with self._client.stream("GET", url) as response:
                    body, truncated = await _read_capped(response)
        except TimeoutError:
            return EndpointResult(
                name, url, "down", elapsed(), None, f"timed out after {self.timeout:g}s"
            )
        except httpx.ConnectError as exc:
            return EndpointResult(name, url, "down", elapsed(), None, explain_connect_error(exc))
        except httpx.TimeoutException:
            return EndpointResult(
                name, url, "down", elapsed(), None, f"timed out after {self.timeout:g}s"
            )
        except (httpx.HTTPError, ssl.SSLError, OSError, ValueError) as exc:
            return EndpointResult(name, url, "down", elapsed(), None, describe_error(exc))
        latency = elapsed()
        code = response.status_code
        missing = missing_headers(response.headers)
        excerpt = body[:500].decode("utf-8", "replace") if body else None
        if 300 <= code < 400:
            target = redact(response.headers.get("location", "?"))
            return EndpointResult(
                name,
                url,
                "down",
                latency,
                code,
                f"HTTP {code} redirect to {target} (not followed)",
                missing,
                None,
                excerpt,
            )
        if not 200 <= code < 300:
            return EndpointResult(
                name,
                url,
                "down",
                latency,
                code,
                f"HTTP {code} {response.reason_phrase}".strip(),
                missing,
                None,
                excerpt,
            )
        status, note, checks = classify(body, truncated)
        return EndpointResult(name, url, status, latency, code, note, missing, checks, excerpt)


async def _read_capped(response: httpx.Response) -> tuple[bytes, bool]:
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_raw():
        chunks.append(chunk)
        size += len(chunk)
        if size > MAX_BODY:
            return b"".join(chunks)[:MAX_BODY], True
    return b"".join(chunks), False
