"""Metrics from the seed's three tables over asyncpg: one statement per table per poll."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import asyncpg

from syncmon.core.metrics import (
    ConflictAggregates,
    HealthReading,
    PerformanceAggregates,
    Source,
)
from syncmon.redaction import describe_error, redact
from syncmon.sources import sql

TABLE_SOURCES = (Source.PERFORMANCE, Source.CONFLICTS, Source.HEALTH_TABLE)
_FAILURES = (TimeoutError, OSError, asyncpg.PostgresError, asyncpg.InterfaceError)


@dataclass(frozen=True)
class Interval:
    """[start, end) in absolute time."""

    start: datetime
    end: datetime


@dataclass(frozen=True)
class Series:
    """`count` equal buckets of `step` from `start`, for charts."""

    start: datetime
    step: timedelta
    count: int

    @property
    def end(self) -> datetime:
        return self.start + self.step * self.count


@dataclass(frozen=True)
class MetricsQuery:
    intervals: tuple[Interval, ...]
    tables: frozenset[Source] = frozenset(TABLE_SOURCES)
    series: Series | None = None
    top_errors: int = 0
    top_errors_since: datetime | None = None
    user_id: uuid.UUID | None = None

    def bounds(self) -> tuple[datetime, datetime]:
        starts = [i.start for i in self.intervals]
        ends = [i.end for i in self.intervals]
        if self.series:
            starts.append(self.series.start)
            ends.append(self.series.end)
        if self.top_errors_since:
            starts.append(self.top_errors_since)
        return min(starts), max(ends)


@dataclass
class MetricsResult:
    """Aggregates per interval (same order as the query), chart buckets, failures by table."""

    performance: list[PerformanceAggregates | None] = field(default_factory=list)
    conflicts: list[ConflictAggregates | None] = field(default_factory=list)
    health: list[list[HealthReading]] = field(default_factory=list)
    performance_series: dict[int, PerformanceAggregates] = field(default_factory=dict)
    conflict_series: dict[int, ConflictAggregates] = field(default_factory=dict)
    top_errors: list[tuple[str, int]] = field(default_factory=list)
    failed: dict[Source, str] = field(default_factory=dict)
    statements: int = 0
    seconds: float = 0.0


class MetricsDatabase:
    """Reads the metrics tables; keeps one connection and replaces it when it breaks."""

    def __init__(
        self,
        dsn: str,
        *,
        timestamp_timezone: str | None = None,
        plaid_pattern: str = "plaid%",
        connect_timeout: float = 5.0,
        statement_timeout: float = 10.0,
    ) -> None:
        self._dsn = dsn
        self.timestamp_timezone = timestamp_timezone
        self.plaid_pattern = plaid_pattern
        self.connect_timeout = connect_timeout
        self.statement_timeout = statement_timeout
        self._conn: asyncpg.Connection | None = None
        self._lock = asyncio.Lock()

    def __repr__(self) -> str:  # never let the DSN (and its password) into a repr
        return "MetricsDatabase(<dsn hidden>)"

    async def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                await asyncio.wait_for(conn.close(), timeout=2)
            except (TimeoutError, OSError, asyncpg.PostgresError):
                conn.terminate()

    async def _connect(self) -> asyncpg.Connection:
        return await asyncpg.connect(
            self._dsn,
            timeout=self.connect_timeout,
            command_timeout=self.statement_timeout,
            server_settings={
                "application_name": "syncmon",
                # syncmon only reads; a read-only session makes that a guarantee.
                "default_transaction_read_only": "on",
            },
        )

    async def connection(self) -> asyncpg.Connection:
        if self._conn is None or self._conn.is_closed():
            self._conn = await self._connect()
        return self._conn

    async def fetch(self, query: MetricsQuery) -> MetricsResult:
        """Run the query; a failure becomes `failed` entries, never an exception."""
        async with self._lock:
            started = time.perf_counter()
            result = MetricsResult()
            try:
                await self._fetch_all(query, result)
            except _FAILURES as exc:
                # A stale connection (the server restarted since the last poll) fails once;
                # a fresh connection is the cure, so try exactly once more.
                had_connection = self._conn is not None
                await self.close()
                result = MetricsResult()
                if had_connection and _is_connection_loss(exc):
                    try:
                        await self._fetch_all(query, result)
                    except _FAILURES as retry_exc:
                        await self.close()
                        result = _all_failed(query, retry_exc)
                else:
                    result = _all_failed(query, exc)
            result.seconds = time.perf_counter() - started
            return result

    async def _fetch_all(self, query: MetricsQuery, result: MetricsResult) -> None:
        conn = await self.connection()
        lo, hi = query.bounds()
        common = [lo, hi, self.timestamp_timezone, query.user_id,
                  [i.start for i in query.intervals], [i.end for i in query.intervals]]
        series = query.series
        series_args = [series.start if series else None,
                       series.step.total_seconds() if series else 1.0]
        for source in TABLE_SOURCES:
            if source not in query.tables:
                continue
            try:
                if source is Source.PERFORMANCE:
                    rows = await conn.fetch(
                        sql.PERFORMANCE, *common, *series_args,
                        query.top_errors_since or lo, query.top_errors, self.plaid_pattern)
                    _read_performance(rows, query, result)
                elif source is Source.CONFLICTS:
                    rows = await conn.fetch(sql.CONFLICTS, *common, *series_args)
                    _read_conflicts(rows, query, result)
                else:
                    rows = await conn.fetch(sql.HEALTH, *common)
                    _read_health(rows, query, result)
                result.statements += 1
            except (asyncpg.UndefinedTableError, asyncpg.UndefinedColumnError,
                    asyncpg.InsufficientPrivilegeError, asyncpg.DataError,
                    asyncpg.QueryCanceledError) as exc:
                # A problem with this table alone: the others can still be read.
                result.failed[source] = f"{source.value}: {_explain(exc)}"


def _read_performance(rows: Sequence[Any], query: MetricsQuery, result: MetricsResult) -> None:
    per_interval: list[PerformanceAggregates | None] = [None] * len(query.intervals)
    for row in rows:
        agg = PerformanceAggregates(
            sync_total=row["sync_total"], sync_failed=row["sync_failed"],
            plaid_total=row["plaid_total"], plaid_failed=row["plaid_failed"],
            sync_avg_ms=row["sync_avg_ms"], sync_p95_ms=row["sync_p95_ms"])
        if row["kind"] == "window":
            per_interval[row["idx"] - 1] = agg
        elif row["kind"] == "bucket":
            if query.series and 0 <= row["idx"] < query.series.count:
                result.performance_series[row["idx"]] = agg
        else:
            result.top_errors.append((row["message"], row["sync_total"]))
    result.performance = per_interval


def _read_conflicts(rows: Sequence[Any], query: MetricsQuery, result: MetricsResult) -> None:
    per_interval: list[ConflictAggregates | None] = [None] * len(query.intervals)
    for row in rows:
        agg = ConflictAggregates(total=row["total"], auto_resolved=row["auto_resolved"])
        if row["kind"] == "window":
            per_interval[row["idx"] - 1] = agg
        elif query.series and 0 <= row["idx"] < query.series.count:
            result.conflict_series[row["idx"]] = agg
    result.conflicts = per_interval


def _read_health(rows: Sequence[Any], query: MetricsQuery, result: MetricsResult) -> None:
    per_interval: list[list[HealthReading]] = [[] for _ in query.intervals]
    for row in rows:
        per_interval[row["idx"] - 1].append(HealthReading(
            metric_type=row["metric_type"], numeric_samples=row["numeric_samples"],
            mean=row["mean"], latest_raw=row["latest"]))
    for readings in per_interval:
        readings.sort(key=lambda r: r.metric_type)
    result.health = per_interval


def _is_connection_loss(exc: BaseException) -> bool:
    return isinstance(exc, (asyncpg.ConnectionDoesNotExistError, asyncpg.InterfaceError,
                            asyncpg.AdminShutdownError, asyncpg.CannotConnectNowError,
                            ConnectionError, OSError))


def _all_failed(query: MetricsQuery, exc: BaseException) -> MetricsResult:
    message = f"database: {_explain(exc)}"
    return MetricsResult(failed={source: message for source in query.tables})


def _explain(exc: BaseException) -> str:
    """A one-line, secret-free account of a database failure."""
    if isinstance(exc, asyncio.TimeoutError):
        return "timed out (connecting or running the query)"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused (is PostgreSQL running and listening there?)"
    if isinstance(exc, asyncpg.InvalidPasswordError
                  | asyncpg.InvalidAuthorizationSpecificationError):
        return redact(f"authentication failed: {exc}")
    if isinstance(exc, asyncpg.InvalidCatalogNameError):
        return redact(f"no such database: {exc}")
    if isinstance(exc, asyncpg.UndefinedTableError):
        return redact(f"{exc} (run `syncmon doctor` to check the schema)")
    if isinstance(exc, asyncpg.InsufficientPrivilegeError):
        return redact(f"{exc} (syncmon needs SELECT on the metrics tables)")
    if isinstance(exc, OSError) and exc.strerror:
        return redact(f"cannot connect: {exc.strerror}")
    return describe_error(exc)
