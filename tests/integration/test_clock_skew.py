"""Rows from the future are clock skew, named as such, and never make a table look empty
(SPEC §14), on a real PostgreSQL whose writers' clock runs 10 minutes ahead."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import asyncpg
import pytest

from syncmon.engine.poll import Engine, PollRequest
from syncmon.sources import database as database_module
from tests.conftest import PgServer, create_database, drop_database
from tests.integration.test_check_command import syncmon
from tests.integration.watch_support import settings_for, write_config

pytestmark = pytest.mark.database

RULE = """
alerts:
  - name: "High Sync Failure Rate"
    condition: "sync_failure_rate > 5%"
    severity: "critical"
"""
AHEAD = timedelta(minutes=10)
NAMED = "sync_performance_metrics: newest row is 10m ahead of the database's now()"


async def write_ahead(dsn: str, ahead: timedelta, *, rows: int = 300) -> None:
    """One sync every 2 s for the last 10 minutes of a writer whose clock is `ahead`; every
    other one fails. Stamped as its NOW() would be."""
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(
            "INSERT INTO sync_performance_metrics (user_id, operation_type, duration_ms,"
            " success, timestamp)"
            " SELECT gen_random_uuid(), 'sync_push', 300, k % 2 = 0,"
            " localtimestamp + $1::interval - make_interval(secs => 2 * k + 0.5)"
            " FROM generate_series(0, $2 - 1) AS k",
            ahead,
            rows,
        )
    finally:
        await conn.close()


@pytest.fixture
async def new_york_db(pg_server: PgServer) -> AsyncIterator[str]:
    dsn = await create_database(pg_server, timezone="America/New_York")
    yield dsn
    await drop_database(pg_server, dsn)


async def test_a_writers_clock_ten_minutes_ahead_is_read_and_named_not_nodata(
    new_york_db: str, tmp_path: Path
) -> None:
    await write_ahead(new_york_db, AHEAD)
    config = str(write_config(tmp_path, RULE))
    code, out, err = await syncmon(
        "check", "--config", config, "--dsn", new_york_db, "--format", "json"
    )
    report = json.loads(out)
    [alert] = report["alerts"]
    metric = report["metrics"]["sync_failure_rate"]
    # the last five minutes of the writers' rows: 150 of them, half failing
    assert (code, alert["state"]) == (2, "firing"), err
    assert 148 <= metric["samples"] <= 151
    assert metric["value"] == pytest.approx(0.5, abs=0.01)
    assert NAMED in alert["note"] and "clock skew, not a time zone" in alert["note"]
    assert "zone differs" not in alert["note"]

    code, text, _ = await syncmon("check", "--config", config, "--dsn", new_york_db)
    assert code == 2 and NAMED in text


async def test_a_watcher_remembers_the_skew_one_statement_per_table_and_forgets_it_when_fixed(
    new_york_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(database_module, "SKEW_RECHECK", 0.0)  # look at every poll
    await write_ahead(new_york_db, AHEAD)
    settings = settings_for(write_config(tmp_path, RULE), new_york_db)
    async with Engine(settings) as engine:
        first = await engine.poll(PollRequest(health=False))
        assert [NAMED in note for note in first.notes.values()] == [True]
        assert first.statements == 4  # the skew first seen: that table read again, shifted
        again = await engine.poll(PollRequest(health=False))
        assert again.statements == 3  # remembered: one statement per table
        assert again.display_metrics["sync_failure_rate"].samples >= 148
        assert engine.database is not None
        [skew] = set(engine.database.skews.values()) - {timedelta(0)}
        assert AHEAD - timedelta(seconds=30) < skew <= AHEAD

        conn = await asyncpg.connect(new_york_db)  # the writers' clock is fixed
        await conn.execute("DELETE FROM sync_performance_metrics")
        await conn.close()
        await write_ahead(new_york_db, timedelta(0))
        fixed = await engine.poll(PollRequest(health=False))
        assert fixed.notes == {}
        assert 140 <= fixed.display_metrics["sync_failure_rate"].samples <= 150


async def test_a_stray_row_a_year_ahead_does_not_move_the_windows(
    new_york_db: str, tmp_path: Path
) -> None:
    await write_ahead(new_york_db, timedelta(0))
    await write_ahead(new_york_db, timedelta(days=365), rows=1)
    config = str(write_config(tmp_path, RULE))
    code, out, _ = await syncmon(
        "check", "--config", config, "--dsn", new_york_db, "--format", "json"
    )
    report = json.loads(out)
    # the rows of the last five minutes (a few may have aged out since they were written)
    assert code == 2 and 140 <= report["metrics"]["sync_failure_rate"]["samples"] <= 150
    assert "ahead" not in (report["alerts"][0]["note"] or "")


def test_doctor_names_the_skew_and_does_not_blame_the_zone(
    pg_server: PgServer, capsys: pytest.CaptureFixture[str]
) -> None:
    import asyncio

    from tests.integration.test_doctor import run_doctor

    dsn = asyncio.run(create_database(pg_server, timezone="America/New_York"))
    try:
        asyncio.run(write_ahead(dsn, AHEAD))
        code, output = run_doctor(dsn, capsys)
        flat = " ".join(output.split())
        assert code == 1
        assert NAMED in flat
        assert "clock runs ahead (clock skew, not a time zone)" in flat
        assert "writers' zone differs" not in flat
        # and the zone's daylight saving time, with the fix
        assert "America/New_York observes daylight saving time" in flat
        assert "SET timezone TO 'UTC';" in output
    finally:
        asyncio.run(drop_database(pg_server, dsn))
