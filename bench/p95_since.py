"""What a p95 rule's since search costs when the histogram cannot decide (issue 16, SPEC §15).

    python bench/p95_since.py [--runs 5]

The since search reads p95 from per-bucket histograms of 2 %-wide bins. Where their bounds
straddle the threshold, the points are re-checked with the live poll's statement. This
measures, on an embedded PostgreSQL, at 20 sync operations a second and a 5-minute window
(`p95_sync_duration > 2000ms`, a 30 s grid), an episode of 40 minutes or 4 hours where:
- *decided*: 6 % of operations take 2003 ms (the threshold's own 2 % bin, but the bins are
  split at the threshold): every point is decided by the histogram;
- *straddling*: exactly 5 % take 22 s, so percentile_cont interpolates between the slowest
  fast row and the first slow one (2055.7 ms): the worst case, where every point of the
  episode needs the exact statement, up to the cap (CONFIRM_MAX_POINTS) past which since
  is reported as "≥" the earliest point checked.
It prints the median wall time of `search_since`, the statements it ran, and a live poll of
one window for scale.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from syncmon.core.clock import wall_clock  # noqa: E402
from syncmon.core.conditions import parse_condition  # noqa: E402
from syncmon.core.rules import AlertRule, Severity  # noqa: E402
from syncmon.embedded.postgres import EmbeddedPostgres  # noqa: E402
from syncmon.engine.history_search import search_since  # noqa: E402
from syncmon.sources.database import HistoryResult, MetricsDatabase, MetricsResult  # noqa: E402
from syncmon.sources.queries import HistoryQuery, Interval, MetricsQuery  # noqa: E402

SCHEMA = (REPO / "src" / "syncmon" / "embedded" / "schema.sql").read_text()
RATE = 20  # operations a second
BEFORE = timedelta(minutes=15)  # healthy rows before the episode
CONDITION = "p95_sync_duration > 2000ms"
# slow duration, `count` slow rows in every `modulus`, episode length
SCENARIOS = {
    "decided, 40 min": (2003, 100, 6, timedelta(minutes=40)),
    "straddling, 40 min": (22_000, 20, 1, timedelta(minutes=40)),
    "decided, 4 h": (2003, 100, 6, timedelta(hours=4)),
    "straddling, 4 h": (22_000, 20, 1, timedelta(hours=4)),
}


class CountingDatabase(MetricsDatabase):
    """Counts the statements a since search runs (history chunks and exact re-checks)."""

    statements = 0

    async def fetch(self, query: MetricsQuery, *, timeout: float | None = None) -> MetricsResult:
        result = await super().fetch(query, timeout=timeout)
        self.statements += result.statements
        return result

    async def fetch_history(
        self, query: HistoryQuery, *, timeout: float | None = None
    ) -> HistoryResult:
        result = await super().fetch_history(query, timeout=timeout)
        self.statements += result.statements
        return result


async def build(
    admin_dsn: str,
    dsn: str,
    name: str,
    scenario: tuple[int, int, int, timedelta],
    now: datetime,
) -> None:
    slow_ms, modulus, count, episode = scenario
    admin = await asyncpg.connect(admin_dsn)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(SCHEMA)
        rows = int((episode + BEFORE).total_seconds() * RATE)
        start = int(episode.total_seconds() * RATE)
        # row i is i/RATE seconds before now; in the episode, `count` of every `modulus` slow
        await conn.execute(
            """INSERT INTO sync_performance_metrics
                   (user_id, operation_type, duration_ms, success, timestamp)
               SELECT gen_random_uuid(), 'sync_transactions',
                      CASE WHEN i < $2 AND i % $6 < $7 THEN $3 ELSE 1000 + i % 7 END, true,
                      ($4::timestamptz - make_interval(secs => (i + 0.5) / $5))::timestamp
               FROM generate_series(0, $1 - 1) AS i""",
            rows,
            start,
            slow_ms,
            now,
            float(RATE),
            modulus,
            count,
        )
        await conn.execute("ANALYZE sync_performance_metrics")
    finally:
        await conn.close()


def rule() -> AlertRule:
    return AlertRule("p95", CONDITION, parse_condition(CONDITION), Severity.CRITICAL)


async def measure(dsn: str, now: datetime, runs: int) -> dict[str, Any]:
    times, live = [], []
    statements = 0
    since = None
    for _ in range(runs):
        database = CountingDatabase(dsn, statement_timeout=60, clock=wall_clock)
        try:
            started = time.perf_counter()
            found = await search_since(database, [rule()], now, timedelta(hours=24), timeout=120)
            times.append(time.perf_counter() - started)
            statements, since = database.statements, found["p95"]
            started = time.perf_counter()
            await database.fetch(MetricsQuery((Interval(now - timedelta(minutes=5), now),)))
            live.append(time.perf_counter() - started)
        finally:
            await database.close()
    return {
        "search_ms": statistics.median(times) * 1000,
        "statements": statements,
        "live_ms": statistics.median(live) * 1000,
        "since": since,
    }


async def main(runs: int) -> None:
    now = datetime.fromtimestamp(time.time() // 60 * 60, UTC)
    with EmbeddedPostgres() as pg:
        results = {}
        for n, (label, scenario) in enumerate(SCENARIOS.items()):
            name = f"p95_since_{n}"
            dsn = pg.dsn_for(name)
            await build(pg.dsn, dsn, name, scenario, now)
            results[label] = await measure(dsn, now, runs)
    print(f"p95 since search, {RATE} ops/s, 5 m window, 30 s grid, medians of {runs}")
    print(f"{'episode':<20} {'search ms':>10} {'statements':>11} {'live poll ms':>13}  since")
    for label, r in results.items():
        since = r["since"]
        if hasattr(since, "at"):
            mark = "≥ " if since.bounded else ""
            age = f"{mark}{(now - since.at) / timedelta(minutes=1):.1f} min ago"
        else:
            age = str(since)
        figures = f"{r['search_ms']:>10.0f} {r['statements']:>11} {r['live_ms']:>13.0f}"
        print(f"{label:<20} {figures}  {age}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    asyncio.run(main(parser.parse_args().runs))
