"""Messages posted by the background workers; handlers on the app update the widgets."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from syncmon.engine import Snapshot
from syncmon.sources.conflicts import ConflictList
from syncmon.sources.health import EndpointResult


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


@dataclass
class HealthPolled(Message):
    """The health endpoints answered (or timed out), apart from the database poll."""

    endpoints: list[EndpointResult] | None
    error: str | None = None


@dataclass
class ConflictsLoaded(Message):
    result: ConflictList
