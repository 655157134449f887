"""The since search's I/O (SPEC §4.1): fetch per-bucket aggregates, walk the rules' grids.

Reading a whole day of rows costs about a second at 20 writes a second, so the search
reads backwards in chunks and stops as soon as every rule's run has ended. The first chunk
(two minutes plus the longest window, about a poll and a half of rows) settles in one
statement per table every transition a running watcher or dashboard sees, whose run is at
most an interval old; a process that starts in the middle of a long incident reads on in
chunks four times longer each, so it reads at most about twice the episode's rows.

A p95 rule whose histogram bounds cannot decide some points (its p95 near the threshold) has
them re-evaluated by the live poll's statement, latest first, `CONFIRM_BATCH` points a
statement, until one does not hold: the since it returns is one the live poll agrees with.
"""

from __future__ import annotations

import asyncio
import math
from datetime import UTC, datetime, timedelta

from syncmon.core.alerts import Verdict, observe
from syncmon.core.episodes import Since
from syncmon.core.history import (
    SinceSearch,
    StepHistory,
    bucket_seconds,
    health_types,
    needs_histogram,
    p95_splits,
)
from syncmon.core.metrics import (
    MetricValue,
    conflict_metrics,
    health_table_metrics,
    performance_metrics,
)
from syncmon.core.rules import AlertRule
from syncmon.sources.database import MetricsDatabase, MetricsResult
from syncmon.sources.queries import HistoryQuery, Interval, MetricsQuery

FIRST_CHUNK_SECONDS = 2 * 60
CHUNK_GROWTH = 4
CONFIRM_BATCH = 16  # unconfirmed points re-evaluated per statement
CONFIRM_MAX_POINTS = 128  # at most this many (8 statements); past them since is "≥"
OUT_OF_TIME = "the since search ran out of time"


async def search_since(
    database: MetricsDatabase,
    rules: list[AlertRule],
    at: datetime,
    lookback: timedelta,
    *,
    timeout: float,
) -> dict[str, Since | str]:
    """Since when each of `rules` has held up to `at`; the reason instead when unreadable.

    `timeout` bounds the whole search (all chunks), so a caller's deadline holds.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    bucket = bucket_seconds(rules)
    splits = p95_splits(rules)  # the same bins in every chunk
    searches = [SinceSearch(rule, at, lookback, bucket, splits) for rule in rules]
    found: dict[str, Since | str] = {}
    history: StepHistory | None = None
    end = max(s.first_point for s in searches)  # a multiple of every step, so of `bucket`
    span = FIRST_CHUNK_SECONDS
    pending = searches
    while pending:
        oldest = min(s.oldest_needed for s in pending)
        start = max(oldest, min(s.needs_from for s in pending) - span)
        start = math.floor(start / bucket) * bucket
        query = HistoryQuery(
            tables=frozenset(t for s in pending for t in s.tables),
            start=datetime.fromtimestamp(start, UTC),
            end=datetime.fromtimestamp(end, UTC),
            bucket=bucket,
            histogram=needs_histogram(s.rule for s in pending),
            p95_splits=splits,
            health_types=health_types(s.rule for s in pending),
        )
        remaining = deadline - loop.time()
        if remaining <= 0:
            for search in pending:
                found[search.rule.name] = OUT_OF_TIME
            break
        chunk = await database.fetch_history(query, timeout=remaining)
        if history is None:
            history = chunk.history
        else:
            history.merge_older(chunk.history)
        still: list[SinceSearch] = []
        for search in pending:
            failures = [chunk.failed[t] for t in sorted(search.tables) if t in chunk.failed]
            if failures:
                found[search.rule.name] = "; ".join(failures)
            elif (since := search.advance(history)) is not None:
                found[search.rule.name] = since
            elif search.awaits_confirmation:
                found[search.rule.name] = await _confirm(database, search, deadline - loop.time())
            else:
                still.append(search)
        pending = still
        end = start
        span *= CHUNK_GROWTH
    return found


async def _confirm(database: MetricsDatabase, search: SinceSearch, timeout: float) -> Since | str:
    """Re-evaluate the points the histogram could not decide with the live poll's statement,
    latest first, until the run's start is settled."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    points = search.unconfirmed[:CONFIRM_MAX_POINTS]
    held: dict[int, bool] = {}
    for i in range(0, len(points), CONFIRM_BATCH):
        remaining = deadline - loop.time()
        if remaining <= 0:
            return OUT_OF_TIME
        batch = points[i : i + CONFIRM_BATCH]
        intervals = {
            point: Interval(
                datetime.fromtimestamp(point - search.window, UTC),
                datetime.fromtimestamp(point, UTC),
            )
            for point in batch
        }
        query = MetricsQuery(tuple(intervals.values()), tables=frozenset(search.tables))
        result = await database.fetch(query, timeout=remaining)
        if result.failed:
            return "; ".join(result.failed[t] for t in sorted(result.failed))
        for point, interval in intervals.items():
            metrics = window_metrics(result, interval, search.window)
            held[point] = observe(search.rule, metrics).verdict is Verdict.TRUE
        last = i + CONFIRM_BATCH >= len(points)
        if (since := search.confirm(held, last=last)) is not None:
            return since
    raise AssertionError("every point was evaluated, so confirm settled the since")


def window_metrics(
    result: MetricsResult, interval: Interval, seconds: int
) -> dict[str, MetricValue]:
    """The table metrics of one interval of a poll, computed as the engine computes them."""
    values: list[MetricValue] = []
    if (perf := result.performance) and interval in perf.windows:
        values += performance_metrics(perf.windows[interval], seconds)
    if (conflicts := result.conflicts) and interval in conflicts.windows:
        values += conflict_metrics(conflicts.windows[interval], seconds)
    if (health := result.health) and interval in health.windows:
        values += health_table_metrics(health.windows[interval], seconds)
    return {v.name: v for v in values}
