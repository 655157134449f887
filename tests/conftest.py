"""Shared fixtures: one real PostgreSQL per test session, a fresh seed-schema database per test.

The server is `$SYNCMON_TEST_DSN` when set (an existing server; the tests create and drop
their own databases in it), else an embedded cluster started here from pgserver's
binaries. Database tests are never skipped: if no server can be had, they fail.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

from syncmon.embedded import schema_sql
from syncmon.embedded.postgres import EmbeddedPostgres

if TYPE_CHECKING:
    from tests.integration.watch_support import Alertmanager

SCHEMA_SQL = schema_sql()


@dataclass
class PgServer:
    """A server the tests may create databases in; `embedded` is set when we own it."""

    admin_dsn: str
    embedded: EmbeddedPostgres | None

    def dsn_for(self, database: str) -> str:
        parts = urlsplit(self.admin_dsn)
        return urlunsplit(parts._replace(path=f"/{database}"))


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    dsn = os.environ.get("SYNCMON_TEST_DSN")
    if dsn:
        yield PgServer(dsn, None)
        return
    with EmbeddedPostgres(timezone="UTC") as pg:
        yield PgServer(pg.dsn, pg)


async def create_database(
    server: PgServer, *, timezone: str | None = None, schema: bool = True
) -> str:
    """Create a uniquely named database (optionally with its own TimeZone) and the seed schema."""
    name = f"syncmon_test_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(server.admin_dsn)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        if timezone:
            await admin.execute(f"ALTER DATABASE \"{name}\" SET timezone TO '{timezone}'")
    finally:
        await admin.close()
    if schema:
        conn = await asyncpg.connect(server.dsn_for(name))
        try:
            await conn.execute(SCHEMA_SQL)
        finally:
            await conn.close()
    return server.dsn_for(name)


async def drop_database(server: PgServer, dsn: str) -> None:
    name = urlsplit(dsn).path.lstrip("/")
    admin = await asyncpg.connect(server.admin_dsn)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture
async def seed_db(pg_server: PgServer) -> AsyncIterator[str]:
    """DSN of a fresh database holding the seed's three tables (server TimeZone: UTC)."""
    dsn = await create_database(pg_server)
    yield dsn
    await drop_database(pg_server, dsn)


@pytest.fixture
def alertmanager() -> Iterator[Alertmanager]:
    """The real Alertmanager binary on a free port, for one test (integration and UI)."""
    from tests.integration.watch_support import Alertmanager

    am = Alertmanager()
    am.start()
    yield am
    am.stop()
