"""The dashboard's door to the conflicts API (the only write syncmon makes).

Screens call this instead of holding an HTTP client, and it answers with values
(`ConflictList`, `ResolveOutcome`), never exceptions.
"""

from __future__ import annotations

import os
from typing import Any

from syncmon.config.settings import Settings
from syncmon.core.conflicts import Conflict, OutcomeKind, Resolution, ResolveOutcome
from syncmon.redaction import describe_error
from syncmon.sources.conflicts import ConflictList, ConflictsClient


def operator_name(settings: Settings) -> str:
    """Who resolves and acknowledges: `dashboard.resolved_by`, else $USER, else "syncmon"."""
    configured = settings.config.model.dashboard.resolved_by
    return configured or os.environ.get("USER") or "syncmon"


class ConflictsService:
    def __init__(self, client: ConflictsClient | None, resolved_by: str) -> None:
        self.client = client
        self.resolved_by = resolved_by

    @classmethod
    def from_settings(cls, settings: Settings) -> ConflictsService:
        client = (
            ConflictsClient(
                settings.api_url,
                token=settings.api_token,
                timeout=settings.conflicts_timeout,
                verify=settings.verify_tls,
            )
            if settings.api_url
            else None
        )
        return cls(client, operator_name(settings))

    async def close(self) -> None:
        if self.client is not None:
            await self.client.close()

    async def list_open(self) -> ConflictList:
        if self.client is None:
            return ConflictList(error="no API URL configured (--api-url or SYNCMON_API_URL)")
        try:
            return await self.client.list_open()
        except Exception as exc:  # the client never raises; a bug must not crash the screen
            return ConflictList(error=describe_error(exc))

    async def resolve(
        self,
        conflict: Conflict,
        resolution: Resolution,
        *,
        note: str,
        merged: dict[str, Any] | None,
    ) -> ResolveOutcome:
        if self.client is None:
            return ResolveOutcome(OutcomeKind.FAILED, "no API URL configured")
        try:
            return await self.client.resolve(
                conflict, resolution, resolved_by=self.resolved_by, note=note, merged=merged
            )
        except Exception as exc:
            return ResolveOutcome(OutcomeKind.FAILED, f"request failed: {describe_error(exc)}")
