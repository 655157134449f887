"""Metrics from the seed's three tables over asyncpg: one statement per table per poll."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import asyncpg

from syncmon.core.metrics import (
    TABLE_SOURCES,
    ConflictAggregates,
    HealthReading,
    PerformanceAggregates,
    Source,
)
from syncmon.redaction import describe_error, redact
from syncmon.sources import sql

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
        self._fixed_zone: tzinfo | None = None
        self._lock = asyncio.Lock()

    def __repr__(self) -> str:  # never let the DSN (and its password) into a repr
        return "MetricsDatabase(<dsn hidden>)"

    async def close(self) -> None:
        conn, self._conn = self._conn, None
        self._fixed_zone = None
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

    async def _zone(self, conn: asyncpg.Connection) -> tzinfo:
        """The zone the writers' NOW() ran in: the override, else the session's TimeZone.

        asyncpg tracks TimeZone from the server's ParameterStatus, so this costs no query
        unless the zone is not an IANA name (e.g. a POSIX offset), when we ask once.
        """
        name = self.timestamp_timezone or getattr(conn.get_settings(), "TimeZone", "UTC")
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            if self._fixed_zone is None:
                seconds = await conn.fetchval("SELECT extract(timezone FROM now())::int")
                self._fixed_zone = timezone(timedelta(seconds=seconds), name)
            return self._fixed_zone

    async def _fetch_all(self, query: MetricsQuery, result: MetricsResult) -> None:
        conn = await self.connection()
        zone = await self._zone(conn)

        def local(moment: datetime) -> datetime:
            return moment.astimezone(zone).replace(tzinfo=None)

        lo, hi = query.bounds()
        series = query.series
        shape = sql.Shape(
            lo=local(lo),
            hi=local(hi),
            intervals=tuple((local(i.start), local(i.end)) for i in query.intervals),
            user_id=query.user_id,
            series_start=local(series.start) if series else None,
            series_step_seconds=series.step.total_seconds() if series else 60.0,
            top_errors=query.top_errors,
            top_errors_since=local(query.top_errors_since) if query.top_errors_since else None,
        )
        for source in TABLE_SOURCES:
            if source not in query.tables:
                continue
            try:
                if source is Source.PERFORMANCE:
                    stmt = sql.performance(shape, self.plaid_pattern)
                    _read_performance(await conn.fetchrow(stmt.sql, *stmt.args), query, result)
                elif source is Source.CONFLICTS:
                    stmt = sql.conflicts(shape)
                    _read_conflicts(await conn.fetchrow(stmt.sql, *stmt.args), query, result)
                else:
                    stmt = sql.health(shape)
                    _read_health(await conn.fetch(stmt.sql, *stmt.args), query, result)
                result.statements += 1
            except (
                asyncpg.UndefinedTableError,
                asyncpg.UndefinedColumnError,
                asyncpg.InsufficientPrivilegeError,
                asyncpg.DataError,
                asyncpg.QueryCanceledError,
            ) as exc:
                # A problem with this table alone: the others can still be read.
                result.failed[source] = f"{source.value}: {explain_database_error(exc)}"


def _json(value: Any) -> list[Any]:
    return json.loads(value) if value else []


def _read_performance(row: Any, query: MetricsQuery, result: MetricsResult) -> None:
    result.performance = [
        PerformanceAggregates(*values)
        for values in zip(
            row["sync_total"],
            row["sync_failed"],
            row["plaid_total"],
            row["plaid_failed"],
            row["sync_avg_ms"],
            row["sync_p95_ms"],
            strict=True,
        )
    ]
    if query.series and "buckets" in row:
        for index, *values in _json(row["buckets"]):
            if 0 <= index < query.series.count:
                result.performance_series[index] = PerformanceAggregates(*values)
    if query.top_errors and "top_errors" in row:
        result.top_errors = [(message, count) for message, count in _json(row["top_errors"])]


def _read_conflicts(row: Any, query: MetricsQuery, result: MetricsResult) -> None:
    result.conflicts = [
        ConflictAggregates(total, auto)
        for total, auto in zip(row["total"], row["auto_resolved"], strict=True)
    ]
    if query.series and "buckets" in row:
        for index, total, auto in _json(row["buckets"]):
            if 0 <= index < query.series.count:
                result.conflict_series[index] = ConflictAggregates(total, auto)


def _read_health(rows: Sequence[Any], query: MetricsQuery, result: MetricsResult) -> None:
    per_interval: list[list[HealthReading]] = [[] for _ in query.intervals]
    for row in rows:
        for index, (samples, mean) in enumerate(
            zip(row["numeric_samples"], row["mean"], strict=True)
        ):
            per_interval[index].append(
                HealthReading(row["metric_type"], samples, mean, row["latest"])
            )
    for readings in per_interval:
        readings.sort(key=lambda r: r.metric_type)
    result.health = per_interval


def _is_connection_loss(exc: BaseException) -> bool:
    return isinstance(
        exc,
        (
            asyncpg.ConnectionDoesNotExistError,
            asyncpg.InterfaceError,
            asyncpg.AdminShutdownError,
            asyncpg.CannotConnectNowError,
            ConnectionError,
            OSError,
        ),
    )


def _all_failed(query: MetricsQuery, exc: BaseException) -> MetricsResult:
    message = f"database: {explain_database_error(exc)}"
    return MetricsResult(failed={source: message for source in query.tables})


def explain_database_error(exc: BaseException) -> str:
    """A one-line, secret-free account of a database failure."""
    if isinstance(exc, asyncio.TimeoutError):
        return "timed out (connecting or running the query)"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused (is PostgreSQL running and listening there?)"
    if isinstance(
        exc, asyncpg.InvalidPasswordError | asyncpg.InvalidAuthorizationSpecificationError
    ):
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
