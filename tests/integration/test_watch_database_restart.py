"""The database dies and comes back under a running watcher (SPEC §4, §7, §11)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest

from syncmon.core.metrics import Source
from syncmon.embedded.postgres import EmbeddedPostgres
from tests.conftest import SCHEMA_SQL
from tests.integration.watch_support import (
    FAILURE_RULE,
    RunningWatcher,
    insert_operations,
    settings_for,
    wait_until,
    write_config,
)

pytestmark = pytest.mark.database
DATABASE_SOURCES = (Source.PERFORMANCE, Source.CONFLICTS, Source.HEALTH_TABLE)


@pytest.fixture
def private_pg() -> Iterator[EmbeddedPostgres]:
    pg = EmbeddedPostgres(timezone="UTC")
    pg.start()
    yield pg
    pg.cleanup()


async def test_killed_database_gives_error_not_resolved_and_recovers_within_an_interval(
    private_pg: EmbeddedPostgres, tmp_path: Path
) -> None:
    private_pg.psql("CREATE DATABASE metrics")
    dsn = private_pg.dsn_for("metrics")
    conn = await asyncpg.connect(dsn)
    await conn.execute(SCHEMA_SQL)
    await conn.close()
    settings = settings_for(write_config(tmp_path, FAILURE_RULE.format(for_="0s")), dsn)
    interval = 0.2

    async with RunningWatcher(settings) as running:
        watcher = running.watcher
        await wait_until(lambda: "nodata" in running.out.kinds())
        await insert_operations(dsn, ok=10, failed=10)
        await wait_until(lambda: "firing" in running.out.kinds())
        # The test cluster runs with synchronous_commit=off: make the rows survive SIGKILL.
        private_pg.psql("CHECKPOINT")

        await asyncio.to_thread(private_pg.kill)
        await wait_until(lambda: "error" in running.out.kinds())
        blind_from = watcher.stats.cycles
        await wait_until(lambda: watcher.stats.cycles >= blind_from + 5)  # a while blind
        assert running.task is not None and not running.task.done()

        await asyncio.to_thread(private_pg.start)
        back = time.monotonic()
        await wait_until(
            lambda: (
                watcher.last_snapshot is not None
                and not any(s in watcher.last_snapshot.failed for s in DATABASE_SOURCES)
            ),
            timeout=5,
        )
        recovered_after = time.monotonic() - back
        cycles = watcher.stats.cycles
        await wait_until(lambda: watcher.stats.cycles >= cycles + 3)
        tracker = watcher.alerts.trackers["High Sync Failure Rate"]
        assert tracker.firing and tracker.error is None

    # never a false "resolved"; re-announced once readable (SPEC §4.2)
    assert running.out.kinds() == ["nodata", "firing", "error", "firing"]
    assert recovered_after < interval + 0.5, f"recovered {recovered_after:.2f}s after restart"


async def test_a_blocked_query_is_cut_at_the_cycle_budget_and_the_connection_recovers(
    seed_db: str, tmp_path: Path
) -> None:
    """A table locked by someone else: the cycle is bounded, rules are blind (error), and the
    very next cycle after the lock goes reads again."""
    settings = settings_for(write_config(tmp_path, FAILURE_RULE.format(for_="0s")), seed_db)
    async with RunningWatcher(settings, source_timeout=0.3) as running:  # budget 1.3 s
        watcher = running.watcher
        await wait_until(lambda: "nodata" in running.out.kinds())
        await insert_operations(seed_db, ok=10, failed=10)
        await wait_until(lambda: "firing" in running.out.kinds())
        locker = await asyncpg.connect(seed_db)
        try:
            transaction = locker.transaction()
            await transaction.start()
            await locker.execute("LOCK TABLE sync_performance_metrics IN ACCESS EXCLUSIVE MODE")
            await wait_until(lambda: "error" in running.out.kinds(), timeout=5)
            cycles = watcher.stats.cycles
            started = time.monotonic()
            await wait_until(lambda: watcher.stats.cycles >= cycles + 2, timeout=5)
            assert (time.monotonic() - started) / 2 < 1.3 + 0.5  # each cycle within budget
            await transaction.rollback()
        finally:
            await locker.close()
        await wait_until(
            lambda: (
                watcher.last_snapshot is not None
                and not any(s in watcher.last_snapshot.failed for s in DATABASE_SOURCES)
            ),
            timeout=3,
        )
        assert watcher.alerts.trackers["High Sync Failure Rate"].firing
        await wait_until(lambda: len(running.out.kinds()) == 4)
    assert running.out.kinds() == ["nodata", "firing", "error", "firing"]  # re-announced
