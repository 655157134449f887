"""What the dashboard needs from the world, as protocols. The launcher (`ui/launch.py`) gives
it `syncmon.engine.poll.Engine`, `ConflictsService` and `sinks.silences.SilenceKeeper`, or
`remote_feed.NoDatabase` under `--from`; tests give frozen stand-ins that need no network.
Screens never call these themselves: they post messages, and the app's workers call the ports
and post the answers back (`ui/messages.py`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from syncmon.core.conflicts import ResolveOutcome, ResolveRequest
from syncmon.core.endpoints import EndpointResult
from syncmon.core.rules import AlertRule
from syncmon.core.silences import SilenceMade, SilenceRead, SilenceRef
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
    """The conflicts API: answers are values, never exceptions."""

    resolved_by: str

    async def list_open(self) -> ConflictList: ...

    async def resolve(self, request: ResolveRequest) -> ResolveOutcome: ...

    async def close(self) -> None: ...


class SilencesPort(Protocol):
    """The Alertmanagers behind acknowledgements: answers are values, never exceptions."""

    urls: list[str]

    def follow(self, urls: list[str]) -> None: ...

    async def read_all(self) -> list[SilenceRead]: ...

    async def create_all(
        self, rule: AlertRule, by: str, now: datetime, *, until: datetime | None, comment: str
    ) -> list[SilenceMade]: ...

    async def expire_all(self, refs: list[SilenceRef]) -> list[tuple[SilenceRef, str | None]]: ...

    async def close(self) -> None: ...
