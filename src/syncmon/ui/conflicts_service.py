"""The dashboard's door to the conflicts API (the only write syncmon makes).

The app holds it as its `ConflictsPort` and calls it from its workers (screens post
messages); it answers with values (`ConflictList`, `ResolveOutcome`), never exceptions.
"""

from __future__ import annotations

import os
import pwd
from collections.abc import Mapping

from syncmon.config.redaction import describe_error
from syncmon.config.settings import Settings
from syncmon.core.conflicts import OutcomeKind, ResolveOutcome, ResolveRequest
from syncmon.core.text import sanitize
from syncmon.sources.conflicts import ConflictList, ConflictsClient


def login_name() -> str | None:
    """The account running syncmon, from the password database (no environment involved)."""
    try:
        return pwd.getpwuid(os.getuid()).pw_name or None
    except (KeyError, OSError, AttributeError):  # no entry (containers), or not POSIX
        return None


def operator_name(settings: Settings, env: Mapping[str, str] | None = None) -> str:
    """Who resolves and acknowledges: `dashboard.resolved_by`, else $USER, else the login
    name; sent to the API and to Alertmanager, so control characters are replaced."""
    env = os.environ if env is None else env
    name = settings.config.model.dashboard.resolved_by or env.get("USER") or login_name()
    return sanitize(name or "syncmon", single_line=True, limit=64)


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

    async def resolve(self, request: ResolveRequest) -> ResolveOutcome:
        if self.client is None:
            return ResolveOutcome(OutcomeKind.FAILED, "no API URL configured")
        try:
            return await self.client.resolve(
                request.conflict,
                request.resolution,
                resolved_by=self.resolved_by,
                note=request.note,
                merged=request.merged,
            )
        except Exception as exc:
            return ResolveOutcome(OutcomeKind.FAILED, f"request failed: {describe_error(exc)}")
