"""One poll cycle shared by every front end: sources in parallel → metrics → observations.

`check`, `watch` and the dashboard all call `Engine.poll`; they differ only in what they do
with the `Snapshot` (a stateless verdict, a state machine, widgets). When a rule starts to
hold, `Engine.find_since` asks the database since when (core/history.py, §4.1).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol

from syncmon.config.settings import Settings
from syncmon.core.alerts import Observation, observe
from syncmon.core.clock import Clock, wall_clock
from syncmon.core.endpoints import EndpointResult
from syncmon.core.episodes import Since
from syncmon.core.latency import LatencyLog
from syncmon.core.metrics import (
    CATALOGUE,
    TABLE_SOURCES,
    ConflictAggregates,
    EndpointAggregates,
    EndpointStatus,
    MetricValue,
    PerformanceAggregates,
    Source,
    endpoint_metrics,
)
from syncmon.core.rules import ENDPOINT_LABEL, AlertRule, LabelSet
from syncmon.engine.history_search import search_since, window_metrics
from syncmon.sources.database import CLIENT_GRACE, MetricsDatabase, MetricsResult
from syncmon.sources.health import HealthPoller
from syncmon.sources.past import EpisodeContext, Timeline, read_episode, read_timeline
from syncmon.sources.queries import Interval, MetricsQuery, Series

DEFAULT_WINDOW = timedelta(minutes=5)
NO_DATABASE = "no database configured (--dsn, SYNCMON_DATABASE_URL or sources.database.dsn)"
NO_API = "no API URL configured (--api-url, SYNCMON_API_URL or sources.api.base_url)"
WindowKey = int  # window length in whole seconds


ENDPOINT_METRICS = frozenset(m.name for m in CATALOGUE.values() if m.source is Source.ENDPOINTS)


def window_key(window: timedelta) -> WindowKey:
    return int(window.total_seconds())


@dataclass(frozen=True)
class PollRequest:
    at: datetime | None = None  # None: live, now; else a post-mortem moment
    display_window: timedelta = DEFAULT_WINDOW
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
    """Everything one poll learned. Metrics are keyed by window length in seconds."""

    evaluated_at: datetime
    live: bool
    display_window: timedelta
    metrics: dict[WindowKey, dict[str, MetricValue]] = field(default_factory=dict)
    # The same metrics per label set (per endpoint), for rules with one alert per label set
    series: dict[WindowKey, dict[LabelSet, dict[str, MetricValue]]] = field(default_factory=dict)
    endpoints: list[EndpointResult] | None = None
    failed: dict[Source, str] = field(default_factory=dict)
    unavailable: dict[Source, str] = field(default_factory=dict)
    unconfigured: set[Source] = field(default_factory=set)  # failed because never set up
    notes: dict[Source, str] = field(default_factory=dict)  # read, but mind this (clock skew)
    chart: ChartSeries | None = None
    top_errors: list[tuple[str, int]] = field(default_factory=list)
    db_seconds: float = 0.0
    statements: int = 0
    poll_seconds: float = 0.0

    def window_metrics(self, window: timedelta) -> dict[str, MetricValue]:
        return self.metrics.get(window_key(window), {})

    @property
    def display_metrics(self) -> dict[str, MetricValue]:
        return self.window_metrics(self.display_window)

    @property
    def errors(self) -> list[str]:
        """Distinct human-readable failures of this poll."""
        return list(dict.fromkeys(self.failed.values()))

    def observe(self, rule: AlertRule) -> Observation:
        """One alert's condition: a rule's label set (`rule.series`) reads its own metrics."""
        metrics = self.window_metrics(rule.window)
        if rule.series:  # its own metrics, none at all when its label set is not reported
            own = self.series.get(window_key(rule.window), {}).get(rule.series, {})
            metrics = {n: m for n, m in metrics.items() if n not in ENDPOINT_METRICS} | own
        return observe(rule, metrics, self.failed, self.unavailable, self.notes)

    def alerts_of(self, rule: AlertRule) -> list[AlertRule]:
        """The rule's alerts in this snapshot (SPEC §15): one per label set its metrics
        have (per endpoint polled), else the rule itself (endpoints not polled: its error
        or nodata is the rule's)."""
        if not rule.split_by:
            return [rule]
        sets = self.series.get(window_key(rule.window), {})
        wanted = [s for s in sets if {name for name, _ in s} == set(rule.split_by)]
        return [rule.instance(s) for s in sorted(wanted)] or [rule]


class HealthSource(Protocol):
    """Where endpoint results come from: the HTTP poller, or `syncmon test`'s series."""

    async def poll(self) -> list[EndpointResult]: ...

    async def close(self) -> None: ...


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
        clock: Clock = wall_clock,
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.rules: tuple[AlertRule, ...] = settings.rules
        self.database = (
            MetricsDatabase(
                settings.dsn.get_secret_value(),  # unwrapped where the connection is made
                timestamp_timezone=settings.timestamp_timezone,
                plaid_pattern=settings.plaid_pattern,
                statement_timeout=settings.statement_timeout,
                schema=settings.database_schema,
                pooler=settings.pooler,
                connections=settings.connections,
                clock=clock,
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
                clock=clock,
            )
            if settings.api_url and settings.endpoints
            else None
        )
        self._latencies = LatencyLog()
        self._endpoint_latencies: dict[str, LatencyLog] = {}  # per endpoint, for its alerts
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

    @property
    def database_deadline(self) -> float:
        """Seconds a poll of the database may take, connecting included."""
        return self.settings.statement_timeout + CLIENT_GRACE

    def _windows(self, request: PollRequest) -> list[timedelta]:
        windows = {request.display_window, *(rule.window for rule in self.rules)}
        return sorted(windows)

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
        windows = self._windows(request)
        intervals = {window: Interval(end - window, end) for window in windows}
        series = None
        if request.chart_span:
            step = request.chart_span / request.chart_buckets
            series = Series(end - request.chart_span, step, request.chart_buckets)
        query = MetricsQuery(
            tuple(intervals.values()),
            series=series,
            top_errors=request.top_errors,
            top_errors_since=end - request.display_window,
            user_id=request.user_id,
            live=live,
        )

        # The database and the endpoints never wait for each other (SPEC §12).
        if live and not request.health:
            db_result, endpoints = await self._fetch_database(query), self._endpoints
        else:
            db_result, endpoints = await asyncio.gather(
                self._fetch_database(query), self._poll_health(live)
            )

        snapshot.failed.update(db_result.failed)
        snapshot.notes.update(db_result.notes)
        snapshot.db_seconds, snapshot.statements = db_result.seconds, db_result.statements
        if db_result.performance:
            snapshot.top_errors = db_result.performance.top_errors
        if not live:
            snapshot.unavailable[Source.ENDPOINTS] = (
                "not available (--at): health endpoints have no history"
            )
        elif self.health is None:
            snapshot.failed[Source.ENDPOINTS] = NO_API
            snapshot.unconfigured.add(Source.ENDPOINTS)
        if self.database is None:
            snapshot.unconfigured.update(TABLE_SOURCES)
        snapshot.endpoints = endpoints

        for window, interval in intervals.items():
            seconds = int(window.total_seconds())
            metrics = window_metrics(db_result, interval, seconds)
            if endpoints is not None:
                aggregates = self._endpoint_aggregates(endpoints, end - window)
                metrics.update({v.name: v for v in endpoint_metrics(aggregates, seconds)})
                snapshot.series[window_key(window)] = self._per_endpoint(
                    endpoints, end - window, seconds
                )
            snapshot.metrics[window_key(window)] = metrics

        if series is not None:
            perf_series = db_result.performance.series if db_result.performance else {}
            conflict_series = db_result.conflicts.series if db_result.conflicts else {}
            snapshot.chart = ChartSeries(
                series.start,
                series.step,
                [perf_series.get(i) for i in range(series.count)],
                [conflict_series.get(i) for i in range(series.count)],
            )
        return snapshot

    async def _fetch_database(self, query: MetricsQuery) -> MetricsResult:
        if self.database is None:
            return MetricsResult(failed={source: NO_DATABASE for source in TABLE_SOURCES})
        return await self.database.fetch(query)

    async def find_since(
        self, rules: Iterable[AlertRule], at: datetime, *, timeout: float | None = None
    ) -> dict[str, Since | str]:
        """Since when each rule (over the database, holding at `at`) has held: one extra
        statement per table in the common case (core/history.py). A rule whose history
        could not be read maps to the reason."""
        rules = [rule for rule in rules if rule.has_history]
        if not rules:
            return {}
        if self.database is None:
            return {rule.name: NO_DATABASE for rule in rules}
        return await search_since(
            self.database,
            rules,
            at.astimezone(UTC),
            self.settings.lookback,
            timeout=self.database_deadline if timeout is None else timeout,
        )

    async def timeline(self, start: datetime, end: datetime) -> Timeline:
        """Every database rule's episodes in [start, end] (the dashboard's `t`, SPEC §17)."""
        if self.database is None:
            return Timeline(start, end, failed={r.name: NO_DATABASE for r in self.rules})
        return await read_timeline(
            self.database, list(self.rules), start, end, timeout=self.database_deadline
        )

    async def episode(self, rule: AlertRule, since: datetime, end: datetime) -> EpisodeContext:
        """One episode's chart and what changed at its since (the detail screen)."""
        if self.database is None:
            return EpisodeContext(error=NO_DATABASE)
        return await read_episode(
            self.database,
            rule,
            since,
            end,
            self.settings.lookback,
            timeout=self.database_deadline,
        )

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
                self._own_latencies(result.name).add(result.polled_at, result.latency_ms)
        self._endpoints = results
        return results

    def _per_endpoint(
        self, endpoints: list[EndpointResult], since: datetime, seconds: int
    ) -> dict[LabelSet, dict[str, MetricValue]]:
        """Each endpoint's own metrics: down and insecure are 0 or 1 (its latest poll),
        `api_response_time` the mean of its own answered polls in the window."""
        per: dict[LabelSet, dict[str, MetricValue]] = {}
        for e in endpoints:
            own = self._endpoint_aggregates([e], since, self._own_latencies(e.name))
            per[((ENDPOINT_LABEL, e.name),)] = {v.name: v for v in endpoint_metrics(own, seconds)}
        return per

    def _own_latencies(self, endpoint: str) -> LatencyLog:
        return self._endpoint_latencies.setdefault(endpoint, LatencyLog())

    def _endpoint_aggregates(
        self, endpoints: list[EndpointResult], since: datetime, latencies: LatencyLog | None = None
    ) -> EndpointAggregates:
        """Over every endpoint, or over one with its own `latencies` (its alerts' metrics)."""
        log = self._latencies if latencies is None else latencies  # an empty log is falsy
        latency_sum, samples = log.since(since)
        return EndpointAggregates(
            polled=len(endpoints),
            down=sum(1 for e in endpoints if e.status is EndpointStatus.DOWN),
            insecure=sum(1 for e in endpoints if e.missing_security_headers),
            latency_sum_ms=latency_sum,
            latency_samples=samples,
        )
