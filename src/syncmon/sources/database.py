"""Metrics from the seed's three tables over asyncpg (SPEC §11, §12).

One statement per table per poll, all three at once within the process's connection budget
(`sources.database.connections`): a locked or slow table costs only its own rules, and a
table queued behind it waits at most its timeout. Every statement carries a server-side
`statement_timeout` and `lock_timeout` in its own read-only transaction (`connections.py`),
so a statement syncmon gave up on does not keep running in PostgreSQL, even behind a pooler;
the client waits a second longer than the server, then cancels.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import Enum

import asyncpg

from syncmon.config.models import PoolerMode
from syncmon.config.redaction import dsn_location
from syncmon.core.clock import Clock
from syncmon.core.durations import elapsed_text
from syncmon.core.history import StepHistory
from syncmon.core.metrics import TABLE_SOURCES, Source
from syncmon.sources import sql, sql_past
from syncmon.sources.connections import ConnectionBudget, Guard, in_transaction
from syncmon.sources.db_errors import explain_database_error
from syncmon.sources.queries import HistoryQuery, MetricsQuery
from syncmon.sources.tables import (
    TABLES,
    ConflictReading,
    HealthTableReading,
    PerformanceReading,
    Row,
    TableReading,
)
from syncmon.sources.writer_clock import WriterClock, ahead_note, writer_clock
from syncmon.sources.writers_zone import WritersZone

DEFAULT_STATEMENT_TIMEOUT = 5.0
CLIENT_GRACE = 1.0  # the server's own timeout should always fire first
# Rows stamped this far past the database's now() are the writers' clock running ahead;
# beyond the horizon a stray row (a test row, a year typo) is ignored.
SKEW_TOLERANCE = timedelta(seconds=30)
SKEW_HORIZON = timedelta(days=1)
SKEW_RECHECK = 60.0  # seconds between two looks at a table's newest row
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
    notes: dict[Source, str] = field(default_factory=dict)  # rows from the future, named

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


class _Stage(Enum):
    """How far a table's statement got when its deadline passed."""

    CONNECTING = "connecting"
    RUNNING = "running"


class MetricsDatabase:
    """Reads the metrics tables through a small budget of connections (`connections.py`)."""

    def __init__(
        self,
        dsn: str,
        *,
        timestamp_timezone: str | None = None,
        plaid_pattern: str = "plaid%",
        connect_timeout: float = 5.0,
        statement_timeout: float = DEFAULT_STATEMENT_TIMEOUT,
        schema: str = "public",
        pooler: PoolerMode = PoolerMode.AUTO,
        connections: int = 2,
        clock: Clock,
    ) -> None:
        self.location = f"database {dsn_location(dsn)}"
        self.clock = clock
        self.timestamp_timezone = timestamp_timezone
        self.plaid_pattern = plaid_pattern
        self.schema = schema
        self.statement_timeout = statement_timeout
        self.budget = ConnectionBudget(
            dsn,
            size=connections,
            mode=pooler,
            guard=Guard(statement_timeout),
            connect_timeout=min(connect_timeout, statement_timeout + CLIENT_GRACE),
        )
        self.writers = WritersZone(timestamp_timezone, schema, clock)
        self.skews: dict[Source, timedelta] = {}  # per table, the writers' clock ahead by
        self._skew_checked: dict[Source, float] = {}  # time.monotonic() of the last look

    def __repr__(self) -> str:  # never let the DSN (and its password) into a repr
        return f"MetricsDatabase({self.location!r})"

    async def close(self) -> None:
        await self.budget.close()

    # -- the two kinds of question -------------------------------------------------------------

    async def fetch(self, query: MetricsQuery, *, timeout: float | None = None) -> MetricsResult:
        """One poll: every table of the query at once. Failures are values, never raised;
        `timeout` caps the client's wait (a since search's deadline)."""
        started = time.perf_counter()
        sources = [s for s in TABLE_SOURCES if s in query.tables]
        outcomes = await asyncio.gather(*(self._poll_table(s, query, timeout) for s in sources))
        result = MetricsResult()
        for source, outcome in zip(sources, outcomes, strict=True):
            if isinstance(outcome, str):
                result.failed[source] = outcome
            else:
                result.readings[source], statements = outcome
                result.statements += statements
                if query.live and (skew := self.skews.get(source)):
                    zone = self.timestamp_timezone or "the database's TimeZone"
                    result.notes[source] = ahead_note(source.value, skew, zone)
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
        span: tuple[datetime, datetime],
        statement: Callable[[WriterClock], sql.Statement],
        *,
        timeout: float | None = None,
    ) -> Sequence[Row] | str:
        """One more read-only statement on `source` (the detail screen's "what changed")
        over `span`, in the same guarded transaction; the reason instead of rows."""
        try:
            return await self._run(source, span, statement, timeout)
        except TableFailure as exc:
            return str(exc)

    # -- one table ---------------------------------------------------------------------------

    async def _poll_table(
        self, source: Source, query: MetricsQuery, timeout: float | None = None
    ) -> tuple[TableReading, int] | str:
        """A live poll reads a skewed table's windows in the writers' clock: ending as far
        ahead of now as its newest row (clock skew), so rows from the future never make it
        look empty. The skew is remembered, so a second statement is needed only when it
        changes (first seen, or the writers' clock fixed). The newest row is looked up at
        most every `SKEW_RECHECK`: without an index on `timestamp` it costs a scan."""
        skew = self.skews.get(source, timedelta(0)) if query.live else timedelta(0)
        last = self._skew_checked.get(source)
        probe = query.live and (last is None or time.monotonic() - last >= SKEW_RECHECK)
        statements = 1
        try:
            reading, measured = await self._read_table(source, query, skew, timeout, probe=probe)
            if probe:
                self._skew_checked[source] = time.monotonic()
            if probe and abs(measured - skew) > SKEW_TOLERANCE:
                skew, statements = measured, 2
                reading, _ = await self._read_table(source, query, skew, timeout, probe=False)
        except TableFailure as exc:
            return str(exc)
        if query.live:
            self.skews[source] = skew
        return reading, statements

    async def _read_table(
        self,
        source: Source,
        query: MetricsQuery,
        skew: timedelta,
        timeout: float | None,
        *,
        probe: bool,
    ) -> tuple[TableReading, timedelta]:
        """The table's reading of `query` asked `skew` later, and (`probe`) how far its newest
        row is ahead of the database's now() (zero within the tolerance)."""
        table = TABLES[source]
        asked = query.shifted(skew) if skew else query
        now = query.bounds()[1]
        clocks: list[WriterClock] = []

        def statement(clock: WriterClock) -> sql.Statement:
            clocks.append(clock)
            stmt = table.statement(_shape(asked, clock, self.plaid_pattern, self.schema))
            if probe:
                name = sql.qualified(self.schema, source.value)
                stmt = sql.with_newest(stmt, name, clock.wall(now), SKEW_HORIZON)
            return stmt

        rows = await self._run(source, asked.bounds(), statement, timeout)
        reading = table.read(rows, query)  # the shifted windows, in order, keyed as asked
        measured = timedelta(0)
        if probe and rows and rows[0]["newest"] is not None:
            ahead = clocks[-1].instant(rows[0]["newest"]) - rows[0]["db_now"]
            if ahead > SKEW_TOLERANCE:
                measured = timedelta(seconds=round(ahead.total_seconds()))
        return reading, measured

    async def _history_table(
        self, source: Source, query: HistoryQuery, into: StepHistory, timeout: float | None
    ) -> str | None:
        table = TABLES[source]

        def statement(clock: WriterClock) -> sql.Statement:
            shape = sql_past.HistoryShape(
                _utc(query.start),
                _utc(query.end),
                query.bucket,
                query.histogram,
                query.health_types,
                self.plaid_pattern,
                self.schema,
                query.p95_splits,
                clock,
            )
            return table.history_statement(shape)

        try:
            rows = await self._run(source, (query.start, query.end), statement, timeout)
        except TableFailure as exc:
            return str(exc)
        table.read_history(rows, _same_bucket, into)  # buckets of the rows' UTC instants
        return None

    async def _run(
        self,
        source: Source,
        span: tuple[datetime, datetime],
        statement: Callable[[WriterClock], sql.Statement],
        timeout: float | None,
    ) -> Sequence[Row]:
        """Run one table's statement on a connection of the budget. Its deadline starts
        when it holds a connection (connecting included): a table queued behind a locked
        one waits at most that one's timeout. `timeout` caps queue and run together.
        Retries once on a connection the server dropped since it was last used (a
        restart). Raises TableFailure."""
        loop = asyncio.get_running_loop()
        give_up = None if timeout is None else loop.time() + max(0.01, timeout)
        queued = time.perf_counter()
        try:
            async with asyncio.timeout_at(give_up):
                await self.budget.acquire()
        except TimeoutError:
            took = elapsed_text(time.perf_counter() - queued, timeout or 0.0)
            raise TableFailure(
                f"{source.value}: no free database connection within {took} "
                f"(sources.database.connections: {self.budget.size})"
            ) from None
        try:
            wait = self.statement_timeout + CLIENT_GRACE
            if give_up is not None:
                wait = max(0.01, min(wait, give_up - loop.time()))
            stage: list[_Stage] = []
            started = time.perf_counter()
            try:
                async with asyncio.timeout(wait):
                    return await self._run_once(source, span, statement, stage)
            except TimeoutError:
                # The message says how long it really took: the connect timeout may be
                # shorter than the wait.
                took = elapsed_text(time.perf_counter() - started, wait)
                if stage[-1:] == [_Stage.CONNECTING]:
                    raise TableFailure(
                        f"{self.location}: timed out connecting after {took}"
                    ) from None
                # asyncpg cancels the statement; the server's own timeout is the backstop.
                raise TableFailure(
                    f"{source.value}: no answer within {took} "
                    f"({self.location} slow or unreachable?)"
                ) from None
        finally:
            self.budget.release()

    async def _run_once(
        self,
        source: Source,
        span: tuple[datetime, datetime],
        statement: Callable[[WriterClock], sql.Statement],
        stage: list[_Stage],
    ) -> Sequence[Row]:
        for attempt in (1, 2):
            conn = self.budget.take_idle() if attempt == 1 else None
            reused = conn is not None
            if conn is None:
                stage.append(_Stage.CONNECTING)
                try:
                    conn = await self.budget.open()
                except TimeoutError:
                    raise
                except _FAILURES as exc:
                    raise TableFailure(f"{self.location}: {explain_database_error(exc)}") from None
            stage.append(_Stage.RUNNING)

            async def work(c: asyncpg.Connection) -> Sequence[Row]:
                clock = writer_clock(await self.writers.zone(c), *span)
                stmt = statement(await self.writers.resolve_folds(source, c, clock))
                return await c.fetch(stmt.sql, *stmt.args)

            try:
                rows = await in_transaction(conn, self.budget.guard, work)
            except _CONNECTION_LOSS as exc:
                conn.terminate()
                self.budget.forget_idle()  # a restart took them all; don't try each in turn
                if attempt == 1 and reused:
                    continue
                raise TableFailure(f"{self.location}: {explain_database_error(exc)}") from None
            except asyncpg.PostgresError as exc:
                self.budget.give_back(conn)
                raise TableFailure(
                    f"{source.value}: {explain_database_error(exc, self.statement_timeout)}"
                ) from None
            except BaseException:  # cancelled (our deadline): the connection is mid-statement
                conn.terminate()
                raise
            self.budget.give_back(conn)
            return rows
        raise AssertionError("unreachable")


def _utc(moment: datetime) -> datetime:
    """A bound as the statements compare it with a row's instant: naive UTC."""
    return moment.astimezone(UTC).replace(tzinfo=None)


def _same_bucket(index: int) -> int:
    return index


def _shape(query: MetricsQuery, clock: WriterClock, plaid_pattern: str, schema: str) -> sql.Shape:
    lo, hi = query.bounds()
    series = query.series
    return sql.Shape(
        lo=_utc(lo),
        hi=_utc(hi),
        intervals=tuple((_utc(i.start), _utc(i.end)) for i in query.intervals),
        user_id=query.user_id,
        series_start=_utc(series.start) if series else None,
        series_step_seconds=series.step.total_seconds() if series else 60.0,
        top_errors=query.top_errors,
        top_errors_since=_utc(query.top_errors_since) if query.top_errors_since else None,
        plaid_pattern=plaid_pattern,
        schema=schema,
        clock=clock,
    )
