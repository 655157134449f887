"""Naive timestamps across daylight saving time (SPEC §1.1, §14), on a real PostgreSQL whose
writers stamp rows with `NOW()` in a zone that changes its offset.

The rows are written as the writers would write them: in write order, one transaction per
ten seconds, each stamped with the wall time of its moment in the database's zone. What
every window must hold is computed here from the UTC moments alone.
"""

from __future__ import annotations

import io
import json
import math
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from syncmon.core.episodes import episode_id
from syncmon.engine.poll import Engine
from syncmon.headless.watch import Watcher, WatchOptions
from tests.conftest import PgServer, create_database, drop_database
from tests.integration.test_check_command import syncmon
from tests.integration.watch_support import settings_for, write_config

pytestmark = pytest.mark.database

RULE = """
alerts:
  - name: "High Sync Failure Rate"
    condition: "sync_failure_rate > 5%"
    severity: "critical"
    for: 2m
"""
BATCH = timedelta(seconds=10)  # one writer transaction per 10 s, five rows each
PER_BATCH = 5
WINDOW = timedelta(minutes=5)
STEP = 30

# (zone, the UTC instant of the change, whether the wall clock goes back)
NEW_YORK_FALL = ("America/New_York", datetime(2026, 11, 1, 6, 0, tzinfo=UTC))
NEW_YORK_SPRING = ("America/New_York", datetime(2026, 3, 8, 7, 0, tzinfo=UTC))
SYDNEY_FALL = ("Australia/Sydney", datetime(2026, 4, 4, 16, 0, tzinfo=UTC))


def failing_share(change: datetime) -> Callable[[datetime], int]:
    """The incident around the change: all fail from 10 min before it to 10 min after, three
    in five until 40 min after, then none; none before. Returns failures per batch."""

    def failures(moment: datetime) -> int:
        offset = moment - change
        if timedelta(minutes=-10) <= offset < timedelta(minutes=10):
            return PER_BATCH
        if timedelta(minutes=10) <= offset < timedelta(minutes=40):
            return 3
        return 0

    return failures


def batch_moments(start: datetime, end: datetime) -> list[datetime]:
    """Batches at x:x5 s, never on a window, grid or bucket boundary."""
    moments, moment = [], start + timedelta(seconds=5)
    while moment < end:
        moments.append(moment)
        moment += BATCH
    return moments


async def write_batches(
    dsn: str, moments: list[datetime], failures: Callable[[datetime], int]
) -> None:
    """One transaction per batch, in write order, stamped as `NOW()` would in the session's
    zone (the database's)."""
    conn = await asyncpg.connect(dsn)
    try:
        for moment in moments:
            failed = failures(moment)
            await conn.execute(
                "INSERT INTO sync_performance_metrics (user_id, operation_type, duration_ms,"
                " success, timestamp)"
                " SELECT gen_random_uuid(), 'sync_push', 300, k >= $2,"
                " $1::timestamptz AT TIME ZONE current_setting('TimeZone')"
                " FROM generate_series(0, $3 - 1) AS k",
                moment,
                failed,
                PER_BATCH,
            )
    finally:
        await conn.close()


@dataclass(frozen=True)
class Truth:
    """What the rows say at a moment, from their UTC instants alone."""

    moments: list[datetime]
    failures: Callable[[datetime], int]

    def window(self, at: datetime) -> tuple[int, int]:
        inside = [m for m in self.moments if at - WINDOW <= m < at]
        return len(inside) * PER_BATCH, sum(self.failures(m) for m in inside)

    def holds(self, at: datetime) -> bool:
        total, failed = self.window(at)
        return total >= 10 and failed / total > 0.05

    def since(self, at: datetime) -> datetime:
        point = math.floor(at.timestamp() / STEP) * STEP
        assert self.holds(datetime.fromtimestamp(point, UTC))
        while self.holds(datetime.fromtimestamp(point - STEP, UTC)):
            point -= STEP
        return datetime.fromtimestamp(point, UTC)


@pytest.fixture(
    params=[NEW_YORK_FALL, NEW_YORK_SPRING, SYDNEY_FALL], ids=lambda p: f"{p[0]}-{p[1]:%m-%d}"
)
async def changing_zone(
    request: pytest.FixtureRequest, pg_server: PgServer
) -> AsyncIterator[tuple[str, datetime, Truth]]:
    zone, change = request.param
    dsn = await create_database(pg_server, timezone=zone)
    failures = failing_share(change)
    moments = batch_moments(change - timedelta(minutes=75), change + timedelta(minutes=75))
    await write_batches(dsn, moments, failures)
    yield dsn, change, Truth(moments, failures)
    await drop_database(pg_server, dsn)


async def check_at(config: str, dsn: str, at: datetime) -> tuple[int, dict[str, Any]]:
    code, out, err = await syncmon(
        "check", "--config", config, "--dsn", dsn, "--format", "json", "--at", at.isoformat()
    )
    assert out, err
    return code, json.loads(out)


MINUTES_FROM_CHANGE = (-2, 2, 8, 25, 39, 45, 55, 62)


async def test_check_at_every_moment_around_a_change_reads_the_true_rows(
    changing_zone: tuple[str, datetime, Truth], tmp_path: Path
) -> None:
    dsn, change, truth = changing_zone
    config = str(write_config(tmp_path, RULE))
    ids = set()
    for minutes in MINUTES_FROM_CHANGE:
        at = change + timedelta(minutes=minutes, seconds=2)
        code, report = await check_at(config, dsn, at)
        total, failed = truth.window(at)
        metric = report["metrics"]["sync_failure_rate"]
        [alert] = report["alerts"]
        where = f"at {at:%H:%M:%S}Z ({minutes:+d} min)"
        assert metric["samples"] == total, where  # neither pass counted twice, none lost
        assert metric["value"] == pytest.approx(failed / total), where
        if truth.holds(at):
            assert (code, alert["state"]) == (2, "firing"), where
            since = truth.since(at)
            assert datetime.fromisoformat(alert["since"]) == since, where
            assert alert["id"] == episode_id(settings_for(Path(config), dsn).rules[0], since)
            ids.add(alert["id"])
        else:  # no phantom once the incident is over
            assert (code, alert["state"]) == (0, "inactive"), where
    assert len(ids) == 1  # one episode, one id, across the change


async def test_a_live_watch_across_the_fall_back_pages_once_and_resolves_once(
    pg_server: PgServer, tmp_path: Path
) -> None:
    """The writers write as time passes (the second pass does not exist before the change);
    the watcher's clock is the simulated one. One firing, one id, one resolved, at the
    moments the rows say."""
    zone, change = NEW_YORK_FALL
    dsn = await create_database(pg_server, timezone=zone)
    try:
        failures = failing_share(change)
        start = change - timedelta(minutes=70)
        moments = batch_moments(start, change + timedelta(minutes=75))
        truth = Truth(moments, failures)
        now = [start + timedelta(minutes=20)]
        written = [m for m in moments if m < now[0]]
        await write_batches(dsn, written, failures)
        config = write_config(tmp_path, RULE)
        engine = Engine(settings_for(config, dsn), clock=lambda: now[0])
        out = io.StringIO()
        watcher = Watcher(engine, WatchOptions(interval=timedelta(seconds=30)), out)
        try:
            while now[0] < change + timedelta(minutes=70):
                now[0] += timedelta(seconds=30)
                fresh = [m for m in moments if written[-1] < m < now[0]]
                await write_batches(dsn, fresh, failures)
                written += fresh
                await watcher.run_cycle()
        finally:
            await engine.close()
        events = [json.loads(line) for line in out.getvalue().splitlines()]
        kinds = [(e["event"], e.get("id")) for e in events]
        assert [k for k, _ in kinds] == ["pending", "firing", "resolved"], kinds
        assert len({i for _, i in kinds}) == 1
        since = truth.since(change - timedelta(minutes=9))
        assert all(datetime.fromisoformat(e["since"]) == since for e in events)
        resolved_at = datetime.fromisoformat(events[-1]["ts"])
        # resolved when the window first held no failure: 40 min + 5 min after the change
        assert change + timedelta(minutes=45) <= resolved_at <= change + timedelta(minutes=46)
    finally:
        await drop_database(pg_server, dsn)
