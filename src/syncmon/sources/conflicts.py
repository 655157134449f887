"""The conflicts API client (SPEC §1.3): list open conflicts, resolve one. Never raises."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import httpx

from syncmon.core.conflicts import Conflict, OutcomeKind, Resolution, ResolveOutcome
from syncmon.core.text import sanitize
from syncmon.net_errors import explain_connect_error
from syncmon.redaction import describe_error

CONFLICTS_PATH = "/api/v1/sync/conflicts"
MAX_BODY = 8 * 1024 * 1024


@dataclass
class ConflictList:
    conflicts: list[Conflict] = field(default_factory=list)
    error: str | None = None
    skipped: int = 0  # malformed entries left out


class ConflictsClient:
    def __init__(
        self,
        base_url: str,
        *,
        token: str | None = None,
        timeout: float = 15.0,
        verify: bool | str = True,
    ) -> None:
        headers = {"User-Agent": "syncmon", "Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self._client = httpx.AsyncClient(
            base_url=base_url.rstrip("/"),
            headers=headers,
            timeout=timeout,
            follow_redirects=False,
            verify=verify,
        )

    async def close(self) -> None:
        await self._client.aclose()

    async def list_open(self) -> ConflictList:
        """Open conflicts, oldest first."""
        try:
            response = await self._client.get(CONFLICTS_PATH, params={"status": "open"})
        except httpx.TimeoutException:
            return ConflictList(error="conflicts API timed out")
        except (httpx.HTTPError, OSError) as exc:
            return ConflictList(error=f"conflicts API: {_explain(exc)}")
        if response.status_code != 200:
            return ConflictList(error=f"conflicts API answered HTTP {response.status_code}")
        if len(response.content) > MAX_BODY:
            return ConflictList(error="conflicts API answer is too large")
        try:
            items = response.json()["conflicts"]
            if not isinstance(items, list):
                raise TypeError
        except (ValueError, KeyError, TypeError):
            return ConflictList(error='conflicts API answer is not {"conflicts": [...]}')
        result = ConflictList()
        for item in items:
            try:
                result.conflicts.append(Conflict.from_json(item))
            except ValueError:
                result.skipped += 1
        result.conflicts.sort(key=lambda c: (c.detected_at is None, c.detected_at or 0, c.id))
        return result

    async def resolve(
        self,
        conflict: Conflict,
        resolution: Resolution,
        *,
        resolved_by: str,
        note: str = "",
        merged: dict[str, Any] | None = None,
    ) -> ResolveOutcome:
        """POST one resolution. Only a 200 with status "resolved" counts as resolved."""
        body: dict[str, Any] = {
            "resolution": resolution.value,
            "version": conflict.version,
            "resolved_by": resolved_by,
            "note": note,
        }
        if resolution is Resolution.MERGE:
            body["merged"] = merged
        path = f"{CONFLICTS_PATH}/{conflict.id}/resolve"
        try:
            response = await self._client.post(path, json=body)
        except httpx.TimeoutException:
            return ResolveOutcome(
                OutcomeKind.FAILED,
                "the API did not answer in time; the conflict may or may not "
                "be resolved — refresh, or retry (a repeat gets 409 if it was)",
            )
        except (httpx.HTTPError, OSError) as exc:
            return ResolveOutcome(OutcomeKind.FAILED, f"request failed: {_explain(exc)}")
        return interpret_resolve_response(response.status_code, response.content)


def interpret_resolve_response(status: int, content: bytes) -> ResolveOutcome:
    try:
        data = json.loads(content) if content else {}
    except ValueError:
        data = {}
    if not isinstance(data, dict):
        data = {}

    def text(key: str) -> str | None:
        value = data.get(key)
        return sanitize(str(value), single_line=True, limit=200) if value is not None else None

    if status == 200 and data.get("status") == "resolved":
        return ResolveOutcome(
            OutcomeKind.RESOLVED, "resolved", text("resolution_id"), http_status=status
        )
    if status == 200:
        return ResolveOutcome(
            OutcomeKind.FAILED,
            'HTTP 200 without status "resolved": not counted as resolved',
            http_status=status,
        )
    if status == 409:
        by, when = text("resolved_by"), text("resolved_at")
        if by:
            message = f"already resolved by {by}" + (f" at {when}" if when else "")
        else:
            message = f"conflict changed: {text('error') or 'version mismatch'}; refresh"
        return ResolveOutcome(
            OutcomeKind.ALREADY_RESOLVED, message, resolved_by=by, http_status=status
        )
    if status == 404:
        return ResolveOutcome(OutcomeKind.NOT_FOUND, "no such conflict (404)", http_status=status)
    if 400 <= status < 500 and status not in (408, 429):
        detail = text("error") or text("detail") or "request rejected"
        return ResolveOutcome(OutcomeKind.REJECTED, f"HTTP {status}: {detail}", http_status=status)
    return ResolveOutcome(
        OutcomeKind.FAILED, f"HTTP {status}: nothing was resolved; retry", http_status=status
    )


def _explain(exc: BaseException) -> str:
    if isinstance(exc, httpx.ConnectError):
        return explain_connect_error(exc)
    return describe_error(exc)
