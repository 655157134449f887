"""`sources.database.connections` (SPEC §14): a process never holds more PostgreSQL
connections than its budget, and a locked table still blinds only its own rules."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from tests.integration.incident import INCIDENT_RULE, RULE_NAME, write_incident
from tests.integration.watch_support import RunningWatcher, settings_for, wait_until, write_config

pytestmark = pytest.mark.database

RULES = (
    INCIDENT_RULE
    + """
  - name: "Low Auto-Resolve Rate"
    condition: "conflict_auto_resolve_rate < 80%"
    severity: "warning"
  - name: "Health table"
    condition: "health.cpu > 90"
    severity: "info"
sources:
  database: {statement_timeout: 1s, connections: CONNECTIONS}
"""
)


async def syncmon_backends(dsn: str) -> int:
    conn = await asyncpg.connect(dsn)
    try:
        return int(
            await conn.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'syncmon'"
                " AND datname = current_database()"
            )
        )
    finally:
        await conn.close()


@pytest.fixture
async def incident_db(seed_db: str) -> str:
    await write_incident(seed_db)
    return seed_db


@contextlib.asynccontextmanager
async def locked_conflicts(dsn: str) -> AsyncIterator[None]:
    holder = await asyncpg.connect(dsn)
    transaction = holder.transaction()
    await transaction.start()
    await holder.execute("LOCK TABLE conflict_resolution_history IN ACCESS EXCLUSIVE MODE")
    try:
        yield
    finally:
        await transaction.rollback()
        await holder.close()


@pytest.mark.parametrize("connections", [1, 2])
async def test_a_watcher_never_holds_more_connections_than_its_budget(
    incident_db: str, tmp_path: Path, connections: int
) -> None:
    config = write_config(tmp_path, RULES.replace("CONNECTIONS", str(connections)))
    settings = settings_for(config, incident_db, interval="200ms")
    seen: list[int] = []
    async with RunningWatcher(settings) as running:

        async def sampled_many_polls() -> bool:
            seen.append(await syncmon_backends(incident_db))
            return len(running.out.events()) >= 3 and len(seen) >= 40

        await wait_until(sampled_many_polls, timeout=30, step=0.02)
    assert max(seen) == connections, seen  # used all of it, never more
    kinds = {(e["rule"], e["event"]) for e in running.out.events()}
    assert (RULE_NAME, "firing") in kinds


async def test_with_one_connection_a_locked_table_blinds_only_its_own_rules(
    incident_db: str, tmp_path: Path
) -> None:
    """Tables queue for the single connection; the locked one ends by the server's
    lock_timeout and the others are read after it, in the same poll."""
    config = write_config(tmp_path, RULES.replace("CONNECTIONS", "1"))
    settings = settings_for(config, incident_db, interval="500ms")
    async with (
        locked_conflicts(incident_db),
        RunningWatcher(settings, source_timeout=4.0) as running,
    ):
        await wait_until(lambda: len(running.out.events()) >= 3, timeout=20)
        backends = await syncmon_backends(incident_db)
    events = {(e["rule"], e["event"]) for e in running.out.events()}
    assert (RULE_NAME, "firing") in events
    assert ("Low Auto-Resolve Rate", "error") in events
    assert ("Health table", "nodata") in events
    assert backends <= 1
