"""Database-side measurements: syncmon's poll vs hand-written SQL, statements per poll.

Pairs are measured side by side (A, B, A, B, … on the same server at the same moment) so a
neighbour's load on the shared cores hits both sides alike; each figure is a median.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
from pydantic import SecretStr

from syncmon.config.settings import Overrides, resolve_settings
from syncmon.core.clock import wall_clock
from syncmon.core.metrics import TABLE_SOURCES, Source
from syncmon.engine.poll import Engine, PollRequest
from syncmon.sources.database import MetricsDatabase
from syncmon.sources.queries import Interval, MetricsQuery

WINDOW = timedelta(minutes=5)

# The least SQL that yields the same numbers for one 5-minute window: what a person would
# write by hand, bounds computed by the client in the writers' zone (UTC here).
MINIMAL_PERFORMANCE = """
SELECT count(*) FILTER (WHERE operation_type NOT LIKE $3) AS sync_total,
       count(*) FILTER (WHERE operation_type NOT LIKE $3 AND NOT success) AS sync_failed,
       count(*) FILTER (WHERE operation_type LIKE $3) AS plaid_total,
       count(*) FILTER (WHERE operation_type LIKE $3 AND NOT success) AS plaid_failed,
       avg(duration_ms) FILTER (WHERE operation_type NOT LIKE $3) AS sync_avg_ms,
       percentile_cont(0.95) WITHIN GROUP (ORDER BY duration_ms)
           FILTER (WHERE operation_type NOT LIKE $3) AS sync_p95_ms
FROM sync_performance_metrics
WHERE timestamp >= $1 AND timestamp < $2
"""
MINIMAL_CONFLICTS = """
SELECT count(*), count(*) FILTER (WHERE auto_resolved)
FROM conflict_resolution_history WHERE timestamp >= $1 AND timestamp < $2
"""
MINIMAL_HEALTH = """
SELECT metric_type,
       avg(CASE jsonb_typeof(metric_value)
             WHEN 'number' THEN (metric_value #>> '{}')::float8
             WHEN 'object' THEN (metric_value ->> 'value')::float8 END)
FROM sync_health_metrics WHERE timestamp >= $1 AND timestamp < $2
GROUP BY metric_type
"""
_COUNT_STATEMENTS = """
SELECT coalesce(sum(calls) FILTER (WHERE query ~ 'sync_performance_metrics|'
                                   'conflict_resolution_history|sync_health_metrics'), 0),
       coalesce(sum(calls), 0)
FROM pg_stat_statements
WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
  AND query NOT LIKE '%pg_stat_statements%'
"""


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


async def _timed(action: Callable[[], Awaitable[object]]) -> float:
    started = time.perf_counter()
    await action()
    return time.perf_counter() - started


async def syncmon_vs_minimal(dsn: str, runs: int) -> dict[str, float]:
    """Medians (ms) of syncmon's fetch for one 5-minute window vs the minimal statements."""
    database = MetricsDatabase(dsn, clock=wall_clock)
    conn = await asyncpg.connect(dsn)
    samples: dict[str, list[float]] = {
        k: [] for k in ("syncmon", "minimal", "syncmon_perf", "minimal_perf")
    }
    try:
        for run in range(runs + 2):  # two warm-up rounds: caches, prepared statements
            now = datetime.now(UTC)
            query = MetricsQuery((Interval(now - WINDOW, now),))
            lo, hi = (now - WINDOW).replace(tzinfo=None), now.replace(tzinfo=None)
            perf_only = MetricsQuery(query.intervals, tables=frozenset({Source.PERFORMANCE}))

            async def minimal(lo: datetime = lo, hi: datetime = hi) -> None:
                await conn.fetch(MINIMAL_PERFORMANCE, lo, hi, "plaid%")
                await conn.fetch(MINIMAL_CONFLICTS, lo, hi)
                await conn.fetch(MINIMAL_HEALTH, lo, hi)

            async def minimal_perf(lo: datetime = lo, hi: datetime = hi) -> None:
                await conn.fetch(MINIMAL_PERFORMANCE, lo, hi, "plaid%")

            pairs = [
                ("syncmon", lambda q=query: _fetch_ok(database, q)),
                ("minimal", minimal),
                ("syncmon_perf", lambda q=perf_only: _fetch_ok(database, q)),
                ("minimal_perf", minimal_perf),
            ]
            if run % 2:
                pairs.reverse()  # alternate who goes first
            for name, action in pairs:
                elapsed = await _timed(action)
                if run >= 2:
                    samples[name].append(elapsed)
    finally:
        await database.close()
        await conn.close()
    return {name: median_ms(values) for name, values in samples.items()}


async def _fetch_ok(database: MetricsDatabase, query: MetricsQuery) -> None:
    result = await database.fetch(query)
    if result.failed:
        raise RuntimeError(f"syncmon's fetch failed: {result.failed}")


async def statements_per_poll(
    dsn: str, config: Path, request: PollRequest, runs: int
) -> tuple[int, int, float, int]:
    """(statements on the three tables, all statements, median poll ms, intervals) of a poll."""
    settings = resolve_settings(Overrides(config=str(config), dsn=SecretStr(dsn)), env={})
    admin = await asyncpg.connect(dsn)
    engine = Engine(settings)
    durations = []
    try:
        on_tables = total = 0
        for run in range(runs + 1):
            await admin.execute("SELECT pg_stat_statements_reset()")
            snapshot = await engine.poll(request)
            failed = {s: e for s, e in snapshot.failed.items() if s in TABLE_SOURCES}
            if failed:
                raise RuntimeError(f"poll failed: {failed}")
            if run == 0:
                counted = await admin.fetchrow(_COUNT_STATEMENTS)
                assert counted is not None  # an aggregate: always one row
                on_tables, total = counted
            else:
                durations.append(snapshot.db_seconds)
        intervals = len(snapshot.metrics)
    finally:
        await engine.close()
        await admin.close()
    return int(on_tables), int(total), median_ms(durations), intervals


async def index_sizes(dsn: str) -> dict[str, int]:
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch(
            "SELECT relname, pg_relation_size(oid) FROM pg_class "
            "WHERE relname LIKE 'idx_sync_performance_metrics_timestamp'"
        )
        return {r[0]: r[1] for r in rows}
    finally:
        await conn.close()


async def explain(dsn: str, sql: str, *args: object) -> str:
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", *args)
        return "\n".join(r[0] for r in rows)
    finally:
        await conn.close()


def always_true_config(path: Path, lookback: timedelta, p95: bool = False) -> Path:
    """A rule that holds at every point, so the since search reads the whole lookback:
    its cost is that of an episode exactly as long as the lookback."""
    condition = "p95_sync_duration > 1ms" if p95 else "sync_throughput > 0"
    path.write_text(
        f"evaluation: {{lookback: {int(lookback.total_seconds())}s}}\n"
        f"alerts:\n  - {{name: always, condition: '{condition}', severity: info,"
        " min_samples: 1}\n"
    )
    return path


async def since_search_cost(
    dsn: str, config: Path, runs: int, at: datetime
) -> tuple[float, int, float]:
    """(median search ms, statements on the tables, median plain poll ms) for `config`, as
    of `at`: a moment with unbroken history behind it (the top-up leaves a gap before it)."""
    settings = resolve_settings(Overrides(config=str(config), dsn=SecretStr(dsn)), env={})
    admin = await asyncpg.connect(dsn)
    engine = Engine(settings)
    searches, polls = [], []
    statements = 0
    try:
        for run in range(runs + 1):
            snapshot = await engine.poll(PollRequest(at=at))
            await admin.execute("SELECT pg_stat_statements_reset()")
            started = time.perf_counter()
            found = await engine.find_since(settings.rules, snapshot.evaluated_at, timeout=120)
            elapsed = time.perf_counter() - started
            if any(isinstance(v, str) for v in found.values()):
                raise RuntimeError(f"since search failed: {found}")
            if run == 0:
                counted = await admin.fetchrow(_COUNT_STATEMENTS)
                assert counted is not None
                statements = int(counted[0])
            else:
                searches.append(elapsed)
                polls.append(snapshot.db_seconds)
    finally:
        await engine.close()
        await admin.close()
    return median_ms(searches), statements, median_ms(polls)
