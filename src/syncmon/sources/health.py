"""Polling the health endpoints (SPEC §1.2): concurrent, bounded in time and size, never raising."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from pydantic import SecretStr

from syncmon.config.redaction import redact
from syncmon.core.clock import Clock
from syncmon.core.endpoints import EndpointResult
from syncmon.core.metrics import EndpointStatus
from syncmon.transport import net
from syncmon.transport.bounded_json import JsonRejected, decode, first_out_of_range

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


def classify(body: bytes, truncated: bool) -> tuple[EndpointStatus, str | None]:
    """Map a 2xx response body to (status, note) per SPEC §1.2; the note names the nested
    checks that fail, so the tile says why an endpoint is degraded or down.

    Total over every byte sequence: a body that is not JSON, too deep or too long is
    "up, not understood" (the server did answer 2xx); a number no double can hold leaves
    out only the `checks` it sits in.
    """
    if not body.strip():
        return EndpointStatus.UP, "empty body"
    if truncated:
        return (
            EndpointStatus.UP,
            f"body over {MAX_BODY // 1024} KiB not read in full; not understood",
        )
    try:
        document = decode(body)
    except JsonRejected as exc:
        reason = "body is not JSON" if str(exc).startswith("not JSON") else f"body {exc}"
        return EndpointStatus.UP, f"{reason}; not understood"
    if not isinstance(document, dict) or not isinstance(document.get("status"), str):
        return EndpointStatus.UP, "JSON body has no status field; not understood"
    checks = document.get("checks") or document.get("components") or document.get("details")
    notes = []
    bad = first_out_of_range(checks)
    if bad is not None:
        checks = None
        notes.append(f"checks not read: {bad.text} is outside a double's range")
    written = document["status"]
    value = written.strip().lower()
    if value in _UP:
        return EndpointStatus.UP, "; ".join(notes) or None
    if value in _DEGRADED or value in _DOWN:
        status = EndpointStatus.DEGRADED if value in _DEGRADED else EndpointStatus.DOWN
        notes.insert(0, f"status {written[:40]!r}")
    else:
        status = EndpointStatus.DEGRADED
        notes.insert(0, f"unrecognised status {written[:40]!r}")
    failing = failing_checks(checks)
    if failing:
        notes.insert(1, f"failing: {failing}")
    return status, "; ".join(notes)


def failing_checks(checks: Any, limit: int = 4) -> str:
    """The names of nested checks that are not healthy: IETF's `{"name": [{"status"}]}`
    and Spring's `{"name": {"status"}}`; at most `limit`, each name cut short."""
    if not isinstance(checks, dict):
        return ""
    names = []
    for name, entry in checks.items():
        entries = entry if isinstance(entry, list) else [entry]
        statuses = [
            e["status"].strip().lower()
            for e in entries
            if isinstance(e, dict) and isinstance(e.get("status"), str)
        ]
        if any(s not in _UP for s in statuses):
            names.append(str(name)[:30])
    shown = ", ".join(names[:limit])
    return shown + (f" (+{len(names) - limit} more)" if len(names) > limit else "")


def missing_headers(headers: httpx.Headers) -> tuple[str, ...]:
    missing = []
    for name, required in SECURITY_HEADERS.items():
        value = headers.get(name)
        if value is None or (required is not None and value.strip().lower() != required.lower()):
            missing.append(name)
    return tuple(missing)


class HealthPoller:
    """Polls every endpoint at once; one slow endpoint costs only its own deadline."""

    def __init__(
        self,
        base_url: str,
        endpoints: dict[str, str],
        *,
        timeout: float = 5.0,
        token: SecretStr | None = None,
        verify: net.TlsVerify = True,
        clock: Clock,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.clock = clock  # stamps each result's polled_at
        self.endpoints = dict(endpoints)
        self.timeout = timeout
        self._client = net.build_client(
            self.base_url,
            timeout=timeout,
            token=token,
            verify=verify,
            accept="application/health+json, application/json",
            max_connections=max(4, len(endpoints)),
        )

    def __repr__(self) -> str:
        return f"HealthPoller({redact(self.base_url)!r})"

    async def close(self) -> None:
        await self._client.aclose()

    async def poll(self) -> list[EndpointResult]:
        return list(
            await asyncio.gather(
                *(self.poll_one(name, path) for name, path in self.endpoints.items())
            )
        )

    async def poll_one(self, name: str, path: str) -> EndpointResult:
        """One endpoint, stamped with this poller's clock when its answer (or failure) came."""
        url = self.base_url + path
        try:
            reply = await net.request(
                self._client,
                "GET",
                url,
                where=f"{name} {url}",
                deadline=self.timeout,
                max_body=MAX_BODY,
                truncate=True,
            )
        except net.HttpFailure as failure:
            return EndpointResult(
                name,
                url,
                EndpointStatus.DOWN,
                failure.elapsed_ms,
                None,
                failure.reason,
                (),
                self.clock(),
            )
        code = reply.status
        missing = missing_headers(reply.headers)
        status, note = EndpointStatus.DOWN, None
        if 300 <= code < 400:
            target = redact(reply.headers.get("location", "?"))
            note = f"HTTP {code} redirect to {target[:200]} (not followed)"
        elif not reply.ok:
            note = f"HTTP {code} {reply.reason[:100]}".strip()
        elif reply.undecodable:  # 2xx, but what the body says is unknown: not a plain up
            status, note = EndpointStatus.DEGRADED, f"{reply.undecodable}: status unknown"
        else:
            status, note = classify(reply.body, reply.truncated)
        return EndpointResult(
            name, url, status, reply.elapsed_ms, code, note, missing, self.clock()
        )
