"""Naive timestamps across DST and clock skew: how exact, and what it costs. Prints numbers.

    python bench/dst_and_skew.py

1. Fold accuracy: eight writers insert concurrently through a fall-back on a simulated
   clock (120× real time), each transaction taking its NOW() and then waiting 0–150 ms
   (0–18 simulated seconds) before it inserts, as a busy writer's would. Each row keeps its
   true UTC instant in `error_message`. Reported: rows of the repeated hour, and how many
   syncmon reads in the wrong pass (its fold switch against the truth).
2. Cost: the median database time of one poll (5-minute window) at 20 writes/s, in a UTC
   database, in New York far from a change, and inside the second pass of the repeated
   hour; the one-off fold-switch probe; and the live poll's newest-row probe (clock skew)
   against a poll without it, with and without an index on `timestamp`.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from syncmon.core.clock import wall_clock
from syncmon.core.metrics import Source
from syncmon.embedded import schema_sql
from syncmon.embedded.postgres import EmbeddedPostgres
from syncmon.sources import database as database_module
from syncmon.sources import sql
from syncmon.sources.database import MetricsDatabase
from syncmon.sources.queries import Interval, MetricsQuery
from syncmon.sources.writer_clock import writer_clock
from syncmon.sources.writers_zone import FOLD_DROP, FOLD_EDGE

NEW_YORK = "America/New_York"
FALL = datetime(2026, 11, 1, 6, 0, tzinfo=UTC)
SPEED = 120.0
WRITERS = 8


async def fold_accuracy(dsn: str) -> tuple[int, int]:
    start_sim = FALL - timedelta(minutes=70)
    end_sim = FALL + timedelta(minutes=70)
    real_start = time.monotonic()

    def sim_now() -> datetime:
        return start_sim + timedelta(seconds=(time.monotonic() - real_start) * SPEED)

    async def writer(seed: int) -> None:
        rng = random.Random(seed)
        conn = await asyncpg.connect(dsn)
        try:
            while (moment := sim_now()) < end_sim:
                async with conn.transaction():
                    await conn.execute("SELECT 1")  # the transaction has begun: its NOW()
                    await asyncio.sleep(rng.uniform(0, 0.15))
                    await conn.execute(
                        "INSERT INTO sync_performance_metrics (user_id, operation_type,"
                        " duration_ms, success, error_message, timestamp)"
                        " VALUES (gen_random_uuid(), 'sync_push', 100, true, $1,"
                        " $2::timestamptz AT TIME ZONE current_setting('TimeZone'))",
                        moment.isoformat(),
                        moment,
                    )
                await asyncio.sleep(rng.uniform(0, 0.05))
        finally:
            await conn.close()

    await asyncio.gather(*(writer(k) for k in range(WRITERS)))
    clock = writer_clock(
        ZoneInfo(NEW_YORK), FALL + timedelta(minutes=20), FALL + timedelta(minutes=25)
    )
    [transition] = clock.transitions
    assert transition.repeated is not None
    conn = await asyncpg.connect(dsn)
    try:
        probe = sql.fold_switch(
            "sync_performance_metrics", transition.repeated, FOLD_DROP, FOLD_EDGE
        )
        switch = await conn.fetchval(probe.sql, *probe.args)
        rows = await conn.fetch(
            "SELECT error_message, ((xmin::text::bigint - $3) & 4294967295) < 2147483648 AS second"
            " FROM sync_performance_metrics WHERE timestamp >= $1 AND timestamp < $2",
            *transition.repeated,
            switch,
        )
    finally:
        await conn.close()
    wrong = sum((datetime.fromisoformat(r["error_message"]) >= FALL) != r["second"] for r in rows)
    return len(rows), wrong


async def fill(dsn: str, around: datetime, hours: float = 3.0) -> None:
    """20 rows a second for `hours` centred on `around`, one transaction per simulated
    minute, in time order (as writers would: a repeated hour's passes in write order)."""
    conn = await asyncpg.connect(dsn)
    try:
        first = around - timedelta(hours=hours / 2)
        for minute in range(int(hours * 60)):
            await conn.execute(
                "INSERT INTO sync_performance_metrics (user_id, operation_type, duration_ms,"
                " success, timestamp)"
                " SELECT gen_random_uuid(), 'sync_push', 100 + i % 900, i % 17 <> 0,"
                " ($1::timestamptz + make_interval(secs => i / 20.0))"
                "   AT TIME ZONE current_setting('TimeZone')"
                " FROM generate_series(0, 1199) AS i",
                first + timedelta(minutes=minute),
            )
        await conn.execute("ANALYZE sync_performance_metrics")
    finally:
        await conn.close()


async def poll_ms(dsn: str, at: datetime, *, live: bool, runs: int = 15) -> float:
    """Median database time of one poll; a live one looks at the newest row every time
    (syncmon does at most once a minute per table)."""
    database_module.SKEW_RECHECK = 0.0
    database = MetricsDatabase(dsn, clock=wall_clock)
    query = MetricsQuery(
        (Interval(at - timedelta(minutes=5), at),), frozenset({Source.PERFORMANCE}), live=live
    )
    samples = []
    try:
        await database.fetch(query)  # connect, find the fold switch
        for _ in range(runs):
            started = time.perf_counter()
            result = await database.fetch(query)
            samples.append((time.perf_counter() - started) * 1000)
            assert not result.failed, result.failed
    finally:
        await database.close()
    return statistics.median(samples)


async def database_for(pg: EmbeddedPostgres, name: str, zone: str) -> str:
    pg.psql(f"CREATE DATABASE {name}")
    pg.psql(f"ALTER DATABASE {name} SET timezone TO '{zone}'")
    dsn = pg.dsn_for(name)
    conn = await asyncpg.connect(dsn)
    await conn.execute(schema_sql())
    await conn.close()
    return dsn


async def main() -> None:
    with EmbeddedPostgres(timezone="UTC") as pg:
        folds = await database_for(pg, "folds", NEW_YORK)
        rows, wrong = await fold_accuracy(folds)
        print(
            f"fold accuracy: {rows} rows in the repeated hour, {wrong} read in the wrong pass "
            f"({WRITERS} concurrent writers, 0-18 s between NOW() and insert)"
        )

        summer = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)
        now = datetime.now(UTC).replace(microsecond=0)
        utc = await database_for(pg, "utc", "UTC")
        await fill(utc, now - timedelta(hours=1.5))  # up to now: nothing from the future
        ny = await database_for(pg, "ny", NEW_YORK)
        await fill(ny, summer)
        fall = await database_for(pg, "fall", NEW_YORK)
        await fill(fall, FALL)
        for label, index in (("no index on timestamp", False), ("B-tree on timestamp", True)):
            if index:
                for dsn in (utc, ny, fall):
                    conn = await asyncpg.connect(dsn)
                    await conn.execute("CREATE INDEX ON sync_performance_metrics (timestamp)")
                    await conn.execute("ANALYZE sync_performance_metrics")
                    await conn.close()
            second_pass = FALL + timedelta(minutes=22)
            print(f"-- 216k rows (3 h at 20/s), {label}: median ms of one poll (5-min window)")
            timings = [
                ("UTC database, --at", await poll_ms(utc, now, live=False)),
                ("UTC database, live, newest-row probe", await poll_ms(utc, now, live=True)),
                ("New York, far from a change, --at", await poll_ms(ny, summer, live=False)),
                (
                    "New York, second pass of fall-back",
                    await poll_ms(fall, second_pass, live=False),
                ),
            ]
            for name, ms in timings:
                print(f"   {name:<40} {ms:7.2f}")
            conn = await asyncpg.connect(fall)
            for edge, what in ((FOLD_EDGE, "edges"), (None, "whole hour")):
                probe = sql.fold_switch(
                    "sync_performance_metrics",
                    (datetime(2026, 11, 1, 1), datetime(2026, 11, 1, 2)),
                    FOLD_DROP,
                    edge,
                )
                started = time.perf_counter()
                assert await conn.fetchval(probe.sql, *probe.args) is not None
                probe_ms = (time.perf_counter() - started) * 1000
                print(f"   {'fold-switch probe, ' + what + ' (once)':<40} {probe_ms:7.2f}")
            await conn.close()


if __name__ == "__main__":
    asyncio.run(main())
