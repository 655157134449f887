"""What the dashboard needs from the world, as protocols: `syncmon.engine.poll.Engine` and
`ConflictsService` provide them; tests give frozen stand-ins that need no network."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from syncmon.core.conflicts import Conflict, Resolution, ResolveOutcome
from syncmon.core.endpoints import EndpointResult
from syncmon.core.rules import AlertRule
from syncmon.engine.evaluation import SinceFinder
from syncmon.engine.poll import PollRequest, Snapshot
from syncmon.sources.conflicts import ConflictList
from syncmon.sources.past import EpisodeContext, Timeline


class DashboardEngine(SinceFinder, Protocol):
    async def poll(self, request: PollRequest | None = None) -> Snapshot: ...

    async def poll_health(self) -> list[EndpointResult] | None: ...

    async def timeline(self, start: datetime, end: datetime) -> Timeline: ...

    async def episode(self, rule: AlertRule, since: datetime, end: datetime) -> EpisodeContext: ...

    async def close(self) -> None: ...


class ConflictsPort(Protocol):
    resolved_by: str

    async def list_open(self) -> ConflictList: ...

    async def resolve(
        self,
        conflict: Conflict,
        resolution: Resolution,
        *,
        note: str,
        merged: dict[str, Any] | None,
    ) -> ResolveOutcome: ...

    async def close(self) -> None: ...
