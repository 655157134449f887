"""A parsed, checked test file: what the replay needs, one value per interval everywhere."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from syncmon.config.loader import Config
from syncmon.core.metrics import EndpointStatus
from syncmon.core.rules import AlertRule

ENDPOINT_STATUSES = tuple(status.value for status in EndpointStatus)


@dataclass(frozen=True)
class PerformanceInput:
    operation_type: str
    counts: tuple[int, ...]
    failures: tuple[int, ...]
    durations: tuple[int, ...]  # duration_ms per interval (0 where there are no rows)
    error_message: str


@dataclass(frozen=True)
class ConflictInput:
    resolution_type: str
    counts: tuple[int, ...]
    auto_resolved: tuple[int, ...]


@dataclass(frozen=True)
class HealthInput:
    metric_type: str
    counts: tuple[int, ...]
    values: tuple[float | None, ...]


@dataclass(frozen=True)
class EndpointInput:
    """What one endpoint answers in each interval; `None` status: not polled then."""

    name: str
    statuses: tuple[str | None, ...]
    latencies: tuple[float | None, ...]
    missing_headers: tuple[int, ...]


@dataclass(frozen=True)
class ExpectedAlert:
    name: str
    since: timedelta | None = None  # offset from the first row; None: not compared


@dataclass(frozen=True)
class Expectation:
    at: timedelta
    firing: tuple[ExpectedAlert, ...]
    pending: tuple[ExpectedAlert, ...]
    nodata: frozenset[str] | None  # None: not compared
    line: int


@dataclass(frozen=True)
class Case:
    name: str
    line: int
    interval: timedelta
    intervals: int  # the length of every series of the case
    performance: tuple[PerformanceInput, ...]
    conflicts: tuple[ConflictInput, ...]
    health: tuple[HealthInput, ...]
    endpoints: tuple[EndpointInput, ...]
    expectations: tuple[Expectation, ...]

    @property
    def rows(self) -> int:
        tables: list[tuple[int, ...]] = [item.counts for item in self.performance]
        tables += [item.counts for item in self.conflicts]
        tables += [item.counts for item in self.health]
        return sum(sum(counts) for counts in tables)


@dataclass(frozen=True)
class RuleTestFile:
    path: str
    config: Config  # every rule of every rule file, in order
    evaluation_interval: timedelta
    cases: tuple[Case, ...]

    @property
    def rules(self) -> tuple[AlertRule, ...]:
        return self.config.rules
