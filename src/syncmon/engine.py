"""One poll cycle shared by every front end: sources in parallel → metrics → rule observations.

`check`, `watch` and the dashboard all call `Engine.poll`; they differ only in what they do
with the `Snapshot` (a stateless verdict, a state machine, widgets).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol

from syncmon.config.settings import Settings
from syncmon.core.alerts import (
    AlertEvent,
    AlertTracker,
    CheckVerdict,
    Observation,
    check_verdict,
    history_offsets,
    observe,
)
from syncmon.core.latency import LatencyLog
from syncmon.core.metrics import (
    ConflictAggregates,
    EndpointAggregates,
    MetricValue,
    PerformanceAggregates,
    Source,
    conflict_metrics,
    endpoint_metrics,
    health_table_metrics,
    performance_metrics,
)
from syncmon.core.rules import AlertRule
from syncmon.sources.database import (
    TABLE_SOURCES,
    Interval,
    MetricsDatabase,
    MetricsQuery,
    MetricsResult,
    Series,
)
from syncmon.sources.health import EndpointResult, HealthPoller

DEFAULT_WINDOW = timedelta(minutes=5)
WindowKey = tuple[int, int]  # (window seconds, offset seconds back from the evaluation time)


def window_key(window: timedelta, offset: timedelta = timedelta(0)) -> WindowKey:
    return int(window.total_seconds()), int(offset.total_seconds())


@dataclass(frozen=True)
class PollRequest:
    at: datetime | None = None  # None: live, now; else a post-mortem moment
    display_window: timedelta = DEFAULT_WINDOW
    history: bool = False  # also evaluate the past points `for` needs
    chart_span: timedelta | None = None  # e.g. 1h of one-minute buckets for charts
    chart_buckets: int = 60
    top_errors: int = 0
    user_id: uuid.UUID | None = None
    # False: do not poll the endpoints now, use the latest `Engine.poll_health` results
    # (the dashboard polls them on their own, so a hung endpoint never holds back the rest)
    health: bool = True


@dataclass
class ChartSeries:
    start: datetime
    step: timedelta
    performance: list[PerformanceAggregates | None]
    conflicts: list[ConflictAggregates | None]


@dataclass
class Snapshot:
    """Everything one poll learned. Metrics are keyed by (window, offset) in seconds."""

    evaluated_at: datetime
    live: bool
    display_window: timedelta
    metrics: dict[WindowKey, dict[str, MetricValue]] = field(default_factory=dict)
    endpoints: list[EndpointResult] | None = None
    failed: dict[Source, str] = field(default_factory=dict)
    unavailable: dict[Source, str] = field(default_factory=dict)
    unconfigured: set[Source] = field(default_factory=set)  # failed because never set up
    chart: ChartSeries | None = None
    top_errors: list[tuple[str, int]] = field(default_factory=list)
    db_seconds: float = 0.0
    statements: int = 0
    poll_seconds: float = 0.0

    def window_metrics(
        self, window: timedelta, offset: timedelta = timedelta(0)
    ) -> dict[str, MetricValue]:
        return self.metrics.get(window_key(window, offset), {})

    @property
    def display_metrics(self) -> dict[str, MetricValue]:
        return self.window_metrics(self.display_window)

    @property
    def errors(self) -> list[str]:
        """Distinct human-readable failures of this poll."""
        return list(dict.fromkeys(self.failed.values()))

    def observe(self, rule: AlertRule, offset: timedelta = timedelta(0)) -> Observation:
        return observe(
            rule, self.window_metrics(rule.window, offset), self.failed, self.unavailable
        )


class HealthSource(Protocol):
    """Where endpoint results come from: the HTTP poller, or `syncmon test`'s series."""

    async def poll(self) -> list[EndpointResult]: ...

    async def close(self) -> None: ...


def utc_now() -> datetime:
    return datetime.now(UTC)


class Engine:
    """Owns the sources of one process; `poll` is safe to call repeatedly (never overlapping).

    `health` replaces the HTTP poller and `clock` the wall clock; `syncmon test` uses both to
    replay synthetic endpoints on a simulated timeline through the same code path.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        health: HealthSource | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.rules: tuple[AlertRule, ...] = settings.rules
        self.database = (
            MetricsDatabase(
                settings.dsn.get_secret_value(),  # unwrapped where the connection is made
                timestamp_timezone=settings.timestamp_timezone,
                plaid_pattern=settings.plaid_pattern,
            )
            if settings.dsn
            else None
        )
        self.health: HealthSource | None = health or (
            HealthPoller(
                settings.api_url,
                settings.endpoints,
                timeout=settings.health_timeout,
                token=settings.api_token,
                verify=settings.verify_tls,
            )
            if settings.api_url and settings.endpoints
            else None
        )
        self._latencies = LatencyLog()
        self._endpoints: list[EndpointResult] | None = None  # the latest health poll
        self._lock = asyncio.Lock()

    async def close(self) -> None:
        if self.database:
            await self.database.close()
        if self.health:
            await self.health.close()

    async def __aenter__(self) -> Engine:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    def _keys(self, request: PollRequest) -> list[tuple[timedelta, timedelta]]:
        keys = {(request.display_window, timedelta(0))}
        for rule in self.rules:
            offsets = history_offsets(rule) if request.history else [timedelta(0)]
            keys.update((rule.window, offset) for offset in offsets)
        return sorted(keys)

    async def poll(self, request: PollRequest | None = None) -> Snapshot:
        request = request or PollRequest()
        async with self._lock:
            started = time.perf_counter()
            snapshot = await self._poll(request)
            snapshot.poll_seconds = time.perf_counter() - started
            return snapshot

    async def _poll(self, request: PollRequest) -> Snapshot:
        live = request.at is None
        end = (request.at or self.clock()).astimezone(UTC)
        snapshot = Snapshot(end, live, request.display_window)
        keys = self._keys(request)
        intervals = tuple(Interval(end - offset - window, end - offset) for window, offset in keys)
        series = None
        if request.chart_span:
            step = request.chart_span / request.chart_buckets
            series = Series(end - request.chart_span, step, request.chart_buckets)
        query = MetricsQuery(
            intervals,
            series=series,
            top_errors=request.top_errors,
            top_errors_since=end - request.display_window,
            user_id=request.user_id,
        )

        if live and not request.health:
            db_result, endpoints = await self._fetch_database(query), self._endpoints
        else:
            db_task = self._fetch_database(query)
            health_task = self._poll_health(live)
            db_result, endpoints = await asyncio.gather(db_task, health_task)

        snapshot.failed.update(db_result.failed)
        snapshot.db_seconds, snapshot.statements = db_result.seconds, db_result.statements
        snapshot.top_errors = db_result.top_errors
        if not live:
            snapshot.unavailable[Source.ENDPOINTS] = (
                "not available (--at): health endpoints have no history"
            )
        elif self.health is None:
            snapshot.failed[Source.ENDPOINTS] = (
                "no API URL configured (--api-url, SYNCMON_API_URL or sources.api.base_url)"
            )
            snapshot.unconfigured.add(Source.ENDPOINTS)
        if self.database is None:
            snapshot.unconfigured.update(TABLE_SOURCES)
        snapshot.endpoints = endpoints

        for index, (window, offset) in enumerate(keys):
            values: list[MetricValue] = []
            seconds = int(window.total_seconds())
            if db_result.performance and db_result.performance[index] is not None:
                values += performance_metrics(db_result.performance[index], seconds)
            if db_result.conflicts and db_result.conflicts[index] is not None:
                values += conflict_metrics(db_result.conflicts[index], seconds)
            if db_result.health:
                values += health_table_metrics(db_result.health[index], seconds)
            if endpoints is not None and offset == timedelta(0):
                values += endpoint_metrics(
                    self._endpoint_aggregates(endpoints, end - window), seconds
                )
            snapshot.metrics[window_key(window, offset)] = {v.name: v for v in values}

        if series is not None:
            snapshot.chart = ChartSeries(
                series.start,
                series.step,
                [db_result.performance_series.get(i) for i in range(series.count)],
                [db_result.conflict_series.get(i) for i in range(series.count)],
            )
        return snapshot

    async def _fetch_database(self, query: MetricsQuery) -> MetricsResult:
        if self.database is None:
            reason = "no database configured (--dsn, SYNCMON_DATABASE_URL or sources.database.dsn)"
            return MetricsResult(failed={source: reason for source in TABLE_SOURCES})
        return await self.database.fetch(query)

    async def _poll_health(self, live: bool) -> list[EndpointResult] | None:
        if not live or self.health is None:
            return None
        return await self.poll_health()

    async def poll_health(self) -> list[EndpointResult] | None:
        """Poll the health endpoints alone; later `health=False` polls use these results."""
        if self.health is None:
            return None
        results = await self.health.poll()
        for result in results:
            if result.answered and result.latency_ms is not None:
                self._latencies.add(result.polled_at, result.latency_ms)
        self._endpoints = results
        return results

    def _endpoint_aggregates(
        self, endpoints: list[EndpointResult], since: datetime
    ) -> EndpointAggregates:
        latency_sum, samples = self._latencies.since(since)
        return EndpointAggregates(
            polled=len(endpoints),
            down=sum(1 for e in endpoints if e.status == "down"),
            insecure=sum(1 for e in endpoints if e.missing_security_headers),
            latency_sum_ms=latency_sum,
            latency_samples=samples,
        )


def check_verdicts(rules: Iterable[AlertRule], snapshot: Snapshot) -> list[CheckVerdict]:
    """Stateless verdicts for `check` (the snapshot must have been polled with history)."""
    verdicts = []
    for rule in rules:
        observations = [snapshot.observe(rule, offset) for offset in history_offsets(rule)]
        verdicts.append(check_verdict(rule, observations, snapshot.evaluated_at))
    return verdicts


class LiveAlerts:
    """The state machines of every rule, fed one snapshot at a time (watch, dashboard)."""

    def __init__(self, rules: Iterable[AlertRule]) -> None:
        self.trackers = {rule.name: AlertTracker(rule) for rule in rules}

    def restore(self, snapshot: Snapshot) -> None:
        """Resume pending/firing state from history (the snapshot must include history)."""
        for verdict, tracker in zip(
            check_verdicts([t.rule for t in self.trackers.values()], snapshot),
            self.trackers.values(),
            strict=True,
        ):
            if verdict.since is not None and tracker.rule.has_history:
                tracker.restore(verdict.since, snapshot.evaluated_at)

    def update(self, snapshot: Snapshot) -> list[AlertEvent]:
        events: list[AlertEvent] = []
        for tracker in self.trackers.values():
            events += tracker.update(snapshot.observe(tracker.rule), snapshot.evaluated_at)
        return events
