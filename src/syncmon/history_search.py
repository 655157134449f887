"""The since search's I/O (SPEC §4.1): fetch per-bucket aggregates, walk the rules' grids.

Reading a whole day of rows costs about a second at 20 writes a second, so the search
reads backwards in chunks and stops as soon as every rule's run has ended. The first chunk
(two minutes plus the longest window, about a poll and a half of rows) settles in one
statement per table every transition a running watcher or dashboard sees, whose run is at
most an interval old; a process that starts in the middle of a long incident reads on in
chunks four times longer each, so it reads at most about twice the episode's rows.
"""

from __future__ import annotations

import asyncio
import math
from datetime import UTC, datetime, timedelta

from syncmon.core.episodes import Since
from syncmon.core.history import (
    SinceSearch,
    StepHistory,
    bucket_seconds,
    health_types,
    needs_histogram,
)
from syncmon.core.rules import AlertRule
from syncmon.sources.database import MetricsDatabase
from syncmon.sources.queries import HistoryQuery

FIRST_CHUNK_SECONDS = 2 * 60
CHUNK_GROWTH = 4


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
    searches = [SinceSearch(rule, at, lookback, bucket) for rule in rules]
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
            health_types=health_types(s.rule for s in pending),
        )
        remaining = deadline - loop.time()
        if remaining <= 0:
            for search in pending:
                found[search.rule.name] = "the since search ran out of time"
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
            else:
                still.append(search)
        pending = still
        end = start
        span *= CHUNK_GROWTH
    return found
