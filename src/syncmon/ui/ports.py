"""What the dashboard needs from the world, as protocols: `syncmon.engine.Engine` and
`ConflictsService` provide them; tests give frozen stand-ins that need no network."""

from __future__ import annotations

from typing import Any, Protocol

from syncmon.core.conflicts import Conflict, Resolution, ResolveOutcome
from syncmon.engine import PollRequest, Snapshot
from syncmon.evaluation import SinceFinder
from syncmon.sources.conflicts import ConflictList
from syncmon.sources.health import EndpointResult


class DashboardEngine(SinceFinder, Protocol):
    async def poll(self, request: PollRequest | None = None) -> Snapshot: ...

    async def poll_health(self) -> list[EndpointResult] | None: ...

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
