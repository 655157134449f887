"""The conflicts API client (SPEC §1.3): list open conflicts, resolve one. Never raises."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from pydantic import SecretStr

from syncmon.config.redaction import redact
from syncmon.core.conflicts import (
    Conflict,
    OutcomeKind,
    Resolution,
    ResolveOutcome,
    is_conflict_id,
)
from syncmon.core.text import sanitize
from syncmon.transport import net
from syncmon.transport.bounded_json import JsonRejected, decode, decode_strict, first_out_of_range

CONFLICTS_PATH = "/api/v1/sync/conflicts"
MAX_BODY = 8 * 1024 * 1024
MAX_REPLY = 64 * 1024  # the answer to a resolve is a few fields


@dataclass
class ConflictList:
    conflicts: list[Conflict] = field(default_factory=list)
    error: str | None = None
    skipped: int = 0  # malformed entries left out


class ConflictsClient:
    """Every request has one deadline (connect + headers + body) and a size cap."""

    def __init__(
        self,
        base_url: str,
        *,
        token: SecretStr | None = None,
        timeout: float = 15.0,
        verify: net.TlsVerify = True,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self._client = net.build_client(self.base_url, timeout=timeout, token=token, verify=verify)

    def __repr__(self) -> str:
        return f"ConflictsClient({redact(self.base_url)!r})"

    async def close(self) -> None:
        await self._client.aclose()

    async def list_open(self) -> ConflictList:
        """Open conflicts, oldest first; a malformed entry is left out and counted, alone."""
        url = self.base_url + CONFLICTS_PATH
        where = f"conflicts {url}"
        try:
            reply = await net.request(
                self._client,
                "GET",
                url,
                params={"status": "open"},
                where=where,
                deadline=self.timeout,
                max_body=MAX_BODY,
            )
        except net.HttpFailure as failure:
            return ConflictList(error=str(failure))
        if reply.status != 200:
            return ConflictList(error=f"{where}: HTTP {reply.status}")
        if reply.undecodable:
            return ConflictList(error=f"{where}: {reply.undecodable}")
        try:
            document = decode(reply.body)
        except JsonRejected as exc:
            return ConflictList(error=f"{where}: answer {exc}")
        items = document.get("conflicts") if isinstance(document, dict) else None
        if not isinstance(items, list):
            return ConflictList(error=f'{where}: answer is not {{"conflicts": [...]}}')
        result = ConflictList()
        for item in items:
            try:
                if first_out_of_range(item) is not None:
                    raise ValueError("a number is outside a double's range")
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
        if not is_conflict_id(conflict.id):  # never let an id choose the URL
            shown = sanitize(conflict.id, single_line=True, limit=60)
            return ResolveOutcome(
                OutcomeKind.REJECTED, f"conflict id {shown!r} is not a UUID: nothing was sent"
            )
        body: dict[str, Any] = {
            "resolution": resolution.value,
            "version": conflict.version,
            "resolved_by": resolved_by,
            "note": note,
        }
        if resolution is Resolution.MERGE:
            body["merged"] = merged
        url = f"{self.base_url}{CONFLICTS_PATH}/{quote(conflict.id, safe='')}/resolve"
        try:
            reply = await net.request(
                self._client,
                "POST",
                url,
                json=body,
                where=f"conflicts {url}",
                deadline=self.timeout,
                max_body=MAX_REPLY,
                truncate=True,
            )
        except net.HttpFailure as failure:
            if failure.timed_out:
                return ResolveOutcome(
                    OutcomeKind.FAILED,
                    "the API did not answer in time; the conflict may or may not "
                    "be resolved — refresh, or retry (a repeat gets 409 if it was)",
                )
            return ResolveOutcome(OutcomeKind.FAILED, f"request failed: {failure.reason}")
        if reply.undecodable and reply.ok:
            return ResolveOutcome(
                OutcomeKind.FAILED,
                f"the API answered HTTP {reply.status} but {reply.undecodable}; the conflict "
                "may be resolved — refresh, or retry (a repeat gets 409 if it was)",
            )
        return interpret_resolve_response(reply.status, reply.body)


def interpret_resolve_response(status: int, content: bytes) -> ResolveOutcome:
    try:
        data = decode_strict(content) if content else {}
    except JsonRejected:
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
    if net.failure_kind(status) is net.FailureKind.PERMANENT:
        detail = text("error") or text("detail") or "request rejected"
        return ResolveOutcome(OutcomeKind.REJECTED, f"HTTP {status}: {detail}", http_status=status)
    return ResolveOutcome(
        OutcomeKind.FAILED, f"HTTP {status}: nothing was resolved; retry", http_status=status
    )
