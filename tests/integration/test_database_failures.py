"""A database that restarts, dies and comes back under a running engine (SPEC §11: no crash)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
from pydantic import SecretStr

from syncmon.config.settings import Overrides, resolve_settings
from syncmon.core.metrics import Source
from syncmon.embedded.postgres import EmbeddedPostgres
from syncmon.engine.poll import Engine
from tests.conftest import SCHEMA_SQL
from tests.integration.rows import Op, insert_operations

pytestmark = pytest.mark.database


@pytest.fixture
async def private_pg() -> AsyncIterator[EmbeddedPostgres]:
    pg = EmbeddedPostgres(timezone="UTC", settings={"synchronous_commit": "on"})  # survive kill -9
    pg.start()
    conn = await asyncpg.connect(pg.dsn)
    await conn.execute(SCHEMA_SQL)
    await conn.close()
    yield pg
    pg.cleanup()


async def test_restart_between_polls_is_invisible(
    private_pg: EmbeddedPostgres, tmp_path: Path
) -> None:
    await insert_operations(private_pg.dsn, [Op(10, "sync_push", 100, True)] * 12)
    (tmp_path / "a.yaml").write_text("alerts: []\n")
    settings = resolve_settings(
        Overrides(config=str(tmp_path / "a.yaml"), dsn=SecretStr(private_pg.dsn)), {}
    )
    async with Engine(settings) as engine:
        first = await engine.poll()
        assert first.display_metrics["sync_throughput"].samples == 12
        private_pg.restart()
        second = await engine.poll()  # the old connection is dead; one reconnect cures it
        assert not any(s in second.failed for s in (Source.PERFORMANCE, Source.CONFLICTS))
        assert second.display_metrics["sync_throughput"].samples == 12


async def test_dead_database_is_error_then_recovers(
    private_pg: EmbeddedPostgres, tmp_path: Path
) -> None:
    await insert_operations(private_pg.dsn, [Op(10, "sync_push", 100, True)] * 12)
    (tmp_path / "a.yaml").write_text("alerts: []\n")
    settings = resolve_settings(
        Overrides(config=str(tmp_path / "a.yaml"), dsn=SecretStr(private_pg.dsn)), {}
    )
    async with Engine(settings) as engine:
        await engine.poll()
        private_pg.kill()
        down = await engine.poll()
        assert Source.PERFORMANCE in down.failed
        # the error names where, never the password (SPEC §12)
        where = f"database 127.0.0.1:{private_pg.port}/postgres"
        assert down.failed[Source.PERFORMANCE] == f"{where}: connection refused"
        assert private_pg.password not in " ".join(down.errors)
        again = await engine.poll()  # still down: still an error, no exception
        assert Source.PERFORMANCE in again.failed
        private_pg.start()
        back = await engine.poll()
        assert Source.PERFORMANCE not in back.failed
        assert back.display_metrics["sync_throughput"].samples == 12
