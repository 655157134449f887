"""Messages posted by the background workers; handlers on the app update the state."""

from __future__ import annotations

from dataclasses import dataclass, field

from textual.message import Message

from syncmon.core.conflicts import ResolveOutcome, ResolveRequest
from syncmon.core.endpoints import EndpointResult
from syncmon.core.episodes import Since
from syncmon.core.rules import AlertRule
from syncmon.core.silences import SilenceMade, SilenceRead, SilenceRef
from syncmon.engine.poll import Snapshot
from syncmon.sources.conflicts import ConflictList
from syncmon.ui.views import ListKind


@dataclass
class PollFinished(Message):
    """One poll cycle ended: `snapshot` for display, `alerts_snapshot` for the rules.

    They differ only while a user filter is on (alerts are always fleet-wide).
    `error` is set when the poll itself crashed (sources never raise; this is a bug guard).
    """

    snapshot: Snapshot | None
    alerts_snapshot: Snapshot | None
    generation: int
    error: str | None = None
    since: dict[str, Since | str] = field(default_factory=dict)  # for rules that start to hold


@dataclass
class HealthPolled(Message):
    """The health endpoints answered (or timed out), apart from the database poll."""

    endpoints: list[EndpointResult] | None
    error: str | None = None


@dataclass
class ConflictsLoaded(Message):
    result: ConflictList


@dataclass
class ConflictsWanted(Message):
    """A screen asks for a fresh list of open conflicts (`r`, or coming back to the list);
    the app reads it through its port and answers every conflicts screen."""


@dataclass
class ResolveRequested(Message):
    """The engineer confirmed a resolution; the app sends it through its port. The request
    outlives the screen: leaving the detail never cancels a resolution in flight."""

    request: ResolveRequest


@dataclass
class ResolveAnswered(Message):
    """The API's answer to one `ResolveRequested` (matched by the request itself)."""

    request: ResolveRequest
    outcome: ResolveOutcome


@dataclass
class SilencesRead(Message):
    """Every Alertmanager's active silences (or why one could not be read)."""

    reads: list[SilenceRead]


@dataclass
class SilencesMade(Message):
    """The silences asked for by `a`, one answer per Alertmanager."""

    rule: AlertRule
    made: list[SilenceMade]


@dataclass
class SilencesExpired(Message):
    """Silences asked to expire: (reference, None or why it failed)."""

    results: list[tuple[SilenceRef, str | None]]
    quiet: bool = False  # expired because the alert resolved: no notice unless it failed


@dataclass
class FilterChanged(Message):
    """`/` typed into (or cleared from) one list's filter on the dashboard."""

    kind: ListKind
    text: str
