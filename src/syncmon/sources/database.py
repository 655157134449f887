"""Metrics from the seed's three tables over asyncpg (SPEC §11, §12).

One statement per table per poll, each table on a connection of its own and all three at
once: a locked or slow table costs only its own rules. Every session carries a server-side
`statement_timeout` and `lock_timeout`, so a statement syncmon gave up on does not keep
running in PostgreSQL; the client waits a second longer than the server, then cancels.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import asyncpg

from syncmon.core.history import StepHistory
from syncmon.core.metrics import TABLE_SOURCES, Source
from syncmon.redaction import describe_error, dsn_location, redact
from syncmon.sources import sql
from syncmon.sources.queries import HistoryQuery, MetricsQuery
from syncmon.sources.tables import (
    TABLES,
    ConflictReading,
    HealthTableReading,
    PerformanceReading,
    Row,
    TableReading,
)

DEFAULT_STATEMENT_TIMEOUT = 5.0
CLIENT_GRACE = 1.0  # the server's own timeout should always fire first
_CONNECTION_LOSS = (
    asyncpg.ConnectionDoesNotExistError,
    asyncpg.InterfaceError,
    asyncpg.AdminShutdownError,
    asyncpg.CannotConnectNowError,
    asyncpg.InternalClientError,  # a connection the server dropped while it sat idle
    ConnectionError,
    OSError,
)
_FAILURES = (TimeoutError, OSError, asyncpg.PostgresError, asyncpg.InterfaceError)


@dataclass
class MetricsResult:
    """What one poll read, keyed by table; a table that failed is in `failed` instead."""

    readings: dict[Source, TableReading] = field(default_factory=dict)
    failed: dict[Source, str] = field(default_factory=dict)
    statements: int = 0
    seconds: float = 0.0

    @property
    def performance(self) -> PerformanceReading | None:
        reading = self.readings.get(Source.PERFORMANCE)
        return reading if isinstance(reading, PerformanceReading) else None

    @property
    def conflicts(self) -> ConflictReading | None:
        reading = self.readings.get(Source.CONFLICTS)
        return reading if isinstance(reading, ConflictReading) else None

    @property
    def health(self) -> HealthTableReading | None:
        reading = self.readings.get(Source.HEALTH_TABLE)
        return reading if isinstance(reading, HealthTableReading) else None


@dataclass
class HistoryResult:
    """Per-bucket aggregates of a since search's range, and the tables that failed."""

    history: StepHistory
    failed: dict[Source, str] = field(default_factory=dict)
    statements: int = 0
    seconds: float = 0.0


class TableFailure(Exception):
    """One table could not be read; the message names it and says why, without secrets."""


class MetricsDatabase:
    """Reads the metrics tables: one lazily opened connection per table, replaced when broken."""

    def __init__(
        self,
        dsn: str,
        *,
        timestamp_timezone: str | None = None,
        plaid_pattern: str = "plaid%",
        connect_timeout: float = 5.0,
        statement_timeout: float = DEFAULT_STATEMENT_TIMEOUT,
    ) -> None:
        self._dsn = dsn
        self.location = f"database {dsn_location(dsn)}"
        self.timestamp_timezone = timestamp_timezone
        self.plaid_pattern = plaid_pattern
        self.connect_timeout = min(connect_timeout, statement_timeout + CLIENT_GRACE)
        self.statement_timeout = statement_timeout
        self._connections: dict[Source, asyncpg.Connection] = {}
        self._locks = {source: asyncio.Lock() for source in TABLE_SOURCES}
        self._fixed_zone: tzinfo | None = None

    def __repr__(self) -> str:  # never let the DSN (and its password) into a repr
        return f"MetricsDatabase({self.location!r})"

    async def close(self) -> None:
        await asyncio.gather(*(self._drop(source) for source in list(self._connections)))

    async def _drop(self, source: Source) -> None:
        conn = self._connections.pop(source, None)
        if conn is None:
            return
        try:
            await asyncio.wait_for(conn.close(), timeout=1)
        except (TimeoutError, OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
            conn.terminate()

    # -- the two kinds of question -------------------------------------------------------------

    async def fetch(self, query: MetricsQuery) -> MetricsResult:
        """One poll: every table of the query at once. Failures are values, never raised."""
        started = time.perf_counter()
        sources = [s for s in TABLE_SOURCES if s in query.tables]
        outcomes = await asyncio.gather(*(self._poll_table(s, query) for s in sources))
        result = MetricsResult()
        for source, outcome in zip(sources, outcomes, strict=True):
            if isinstance(outcome, str):
                result.failed[source] = outcome
            else:
                result.readings[source] = outcome
                result.statements += 1
        result.seconds = time.perf_counter() - started
        return result

    async def fetch_history(
        self, query: HistoryQuery, *, timeout: float | None = None
    ) -> HistoryResult:
        """Per-bucket aggregates for a since search; `timeout` caps the client's wait."""
        started = time.perf_counter()
        history = StepHistory(
            query.bucket,
            int(query.start.timestamp()) // query.bucket,
            int(query.end.timestamp()) // query.bucket,
        )
        sources = [s for s in TABLE_SOURCES if s in query.tables]
        outcomes = await asyncio.gather(
            *(self._history_table(s, query, history, timeout) for s in sources)
        )
        result = HistoryResult(history)
        for source, outcome in zip(sources, outcomes, strict=True):
            if outcome is None:
                result.statements += 1
            else:
                result.failed[source] = outcome
        result.seconds = time.perf_counter() - started
        return result

    async def read(
        self,
        source: Source,
        statement: Callable[[tzinfo], sql.Statement],
        *,
        timeout: float | None = None,
    ) -> Sequence[Row] | str:
        """One more read-only statement on `source`'s connection (the detail screen's "what
        changed"), under the same server-side timeouts; the reason instead of rows."""
        try:
            return await self._run(source, statement, timeout)
        except TableFailure as exc:
            return str(exc)

    # -- one table ---------------------------------------------------------------------------

    async def _poll_table(self, source: Source, query: MetricsQuery) -> TableReading | str:
        table = TABLES[source]

        def statement(zone: tzinfo) -> sql.Statement:
            return table.statement(_shape(query, zone, self.plaid_pattern))

        try:
            rows = await self._run(source, statement, None)
        except TableFailure as exc:
            return str(exc)
        return table.read(rows, query)

    async def _history_table(
        self, source: Source, query: HistoryQuery, into: StepHistory, timeout: float | None
    ) -> str | None:
        table = TABLES[source]
        zones: list[tzinfo] = []

        def statement(zone: tzinfo) -> sql.Statement:
            zones.append(zone)
            shape = sql.HistoryShape(
                _local(query.start, zone),
                _local(query.end, zone),
                query.bucket,
                query.histogram,
                query.health_types,
                self.plaid_pattern,
            )
            return table.history_statement(shape)

        try:
            rows = await self._run(source, statement, timeout)
        except TableFailure as exc:
            return str(exc)
        zone, bucket = zones[-1], query.bucket

        def utc_bucket(local_index: int) -> int:
            local = datetime(1970, 1, 1) + timedelta(seconds=local_index * bucket)
            return int(local.replace(tzinfo=zone).timestamp()) // bucket

        table.read_history(rows, utc_bucket, into)
        return None

    async def _run(
        self,
        source: Source,
        statement: Callable[[tzinfo], sql.Statement],
        timeout: float | None,
    ) -> Sequence[Row]:
        """Run one table's statement on its connection, connecting included within the
        deadline; retry once on a connection the server dropped since the last poll (a
        restart). Raises TableFailure."""
        wait = self.statement_timeout + CLIENT_GRACE
        if timeout is not None:
            wait = max(0.01, min(wait, timeout))
        async with self._locks[source]:
            try:
                async with asyncio.timeout(wait):
                    return await self._run_once(source, statement)
            except TimeoutError:
                # asyncpg cancels the statement; the server's own timeout is the backstop.
                connected = source in self._connections
                await self._drop(source)
                if not connected:
                    raise TableFailure(
                        f"{self.location}: timed out connecting after {wait:g}s"
                    ) from None
                raise TableFailure(
                    f"{source.value}: no answer within {wait:g}s "
                    f"({self.location} slow or unreachable?)"
                ) from None

    async def _run_once(
        self, source: Source, statement: Callable[[tzinfo], sql.Statement]
    ) -> Sequence[Row]:
        for attempt in (1, 2):
            reused = source in self._connections
            try:
                conn = await self._connection(source)
            except TimeoutError:
                raise
            except _FAILURES as exc:
                raise TableFailure(f"{self.location}: {explain_database_error(exc)}") from None
            try:
                stmt = statement(await self._zone(conn))
                return await conn.fetch(stmt.sql, *stmt.args)
            except _CONNECTION_LOSS as exc:
                await self._drop(source)
                if attempt == 1 and reused:
                    continue
                raise TableFailure(f"{self.location}: {explain_database_error(exc)}") from None
            except asyncpg.PostgresError as exc:
                raise TableFailure(
                    f"{source.value}: {explain_database_error(exc, self.statement_timeout)}"
                ) from None
        raise AssertionError("unreachable")

    async def _connection(self, source: Source) -> asyncpg.Connection:
        conn = self._connections.get(source)
        if conn is None or conn.is_closed():
            conn = await self._connect()
            self._connections[source] = conn
        return conn

    async def _connect(self) -> asyncpg.Connection:
        milliseconds = str(max(1, math.ceil(self.statement_timeout * 1000)))
        conn = await asyncpg.connect(
            self._dsn,
            timeout=self.connect_timeout,
            command_timeout=None,
            statement_cache_size=32,
            server_settings={
                "application_name": "syncmon",
                # syncmon only reads; a read-only session makes that a guarantee.
                "default_transaction_read_only": "on",
                # Never hurt what we watch: the server ends what runs (or waits) too long.
                "statement_timeout": milliseconds,
                "lock_timeout": milliseconds,
                "idle_in_transaction_session_timeout": "60000",
            },
        )
        if conn.get_server_version().major >= 14:
            # a client that vanished (killed, network gone) ends its query within 1 s
            with contextlib.suppress(asyncpg.PostgresError):
                await conn.execute("SET client_connection_check_interval = 1000")
        return conn

    async def _zone(self, conn: asyncpg.Connection) -> tzinfo:
        """The zone the writers' NOW() ran in: the override, else the session's TimeZone.

        asyncpg tracks TimeZone from the server's ParameterStatus, so this costs no query
        unless the zone is not an IANA name (e.g. a POSIX offset), when we ask once.
        """
        name = str(self.timestamp_timezone or getattr(conn.get_settings(), "TimeZone", "UTC"))
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            if self._fixed_zone is None:
                seconds = await conn.fetchval("SELECT extract(timezone FROM now())::int")
                self._fixed_zone = timezone(timedelta(seconds=seconds), name)
            return self._fixed_zone


def _local(moment: datetime, zone: tzinfo) -> datetime:
    return moment.astimezone(zone).replace(tzinfo=None)


def _shape(query: MetricsQuery, zone: tzinfo, plaid_pattern: str) -> sql.Shape:
    lo, hi = query.bounds()
    series = query.series
    return sql.Shape(
        lo=_local(lo, zone),
        hi=_local(hi, zone),
        intervals=tuple((_local(i.start, zone), _local(i.end, zone)) for i in query.intervals),
        user_id=query.user_id,
        series_start=_local(series.start, zone) if series else None,
        series_step_seconds=series.step.total_seconds() if series else 60.0,
        top_errors=query.top_errors,
        top_errors_since=_local(query.top_errors_since, zone) if query.top_errors_since else None,
        plaid_pattern=plaid_pattern,
    )


def explain_database_error(exc: BaseException, statement_timeout: float | None = None) -> str:
    """A one-line, secret-free account of a database failure."""
    if isinstance(exc, asyncpg.LockNotAvailableError):
        return (
            f"waited {statement_timeout or 0:g}s for a lock another session holds "
            "(LOCK TABLE, a migration?); gave up"
        )
    if isinstance(exc, asyncpg.QueryCanceledError):
        if "statement timeout" in str(exc):
            return f"statement timed out after {statement_timeout or 0:g}s (a lock? a huge window?)"
        return redact(f"query cancelled: {exc}")
    if isinstance(exc, asyncio.TimeoutError):
        return "timed out connecting"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
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
