"""The watcher's state as JSON (`GET /api/v1/state`, each event of `/api/v1/stream`): what
the document holds, as the viewers read it. The watcher writes it with `feed.encode`; viewers
read it with `feed.decode`, which checks every field.

One document says everything a viewer shows: the metrics of every window the watcher
computes, the endpoints, what could not be read, every rule with its definition and its
state machine's position, the Alertmanager silences read back, when it was evaluated and
how often. Text in it is shown as text (sanitized by the views).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from syncmon.core.alerts import AlertState, Observation
from syncmon.core.endpoints import EndpointResult
from syncmon.core.episodes import Since
from syncmon.core.metrics import ConflictAggregates, MetricValue, PerformanceAggregates, Source
from syncmon.core.rules import AlertRule
from syncmon.core.silences import SilenceRead

SCHEMA = "syncmon.state/1"
MAX_ITEMS = 10_000  # any list longer than this is not a watcher's state


class StateInvalid(ValueError):
    """The document is not a watcher's state (a wrong URL, a proxy's page, tampering)."""


@dataclass(frozen=True)
class RuleState:
    """One rule and where its state machine stands in the watcher."""

    rule: AlertRule
    state: AlertState
    state_since: datetime | None
    since: Since | None
    episode: str | None
    false_since: datetime | None
    error: str | None
    observation: Observation | None
    ack: dict[str, Any] | None


@dataclass(frozen=True)
class ChartState:
    start: datetime
    step: timedelta
    performance: list[PerformanceAggregates | None]
    conflicts: list[ConflictAggregates | None]


@dataclass(frozen=True)
class WatcherState:
    seq: int
    evaluated_at: datetime
    interval: timedelta
    display_window: timedelta
    metrics: dict[int, dict[str, MetricValue]]
    endpoints: list[EndpointResult] | None
    failed: dict[Source, str]
    unavailable: dict[Source, str]
    unconfigured: frozenset[Source]
    top_errors: list[tuple[str, int]]
    chart: ChartState | None
    alerts: list[RuleState]
    alertmanagers: list[SilenceRead] = field(default_factory=list)
    poll_seconds: float = 0.0

    @property
    def display_metrics(self) -> dict[str, MetricValue]:
        return self.metrics.get(int(self.display_window.total_seconds()), {})

    def age(self, now: datetime) -> timedelta:
        return now - self.evaluated_at

    def stale(self, now: datetime) -> bool:
        """SPEC §16: a state older than two intervals says nothing about now."""
        return self.age(now) > 2 * self.interval
