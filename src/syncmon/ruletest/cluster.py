"""The PostgreSQL of one `syncmon test` run: one server, a fresh database for every case.

The CLI starts an embedded cluster (never a server the user names: DSN flags and the
environment are not read). Each case gets a database cloned from a template holding the
seed schema, which takes ~40 ms where creating the schema again would take more.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator, Iterator
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from syncmon.embedded import schema_sql


@contextlib.contextmanager
def embedded_server() -> Iterator[str]:
    """Start a throwaway cluster (UTC) and yield its admin DSN; removed on exit."""
    from syncmon.embedded.postgres import EmbeddedPostgres

    with EmbeddedPostgres(timezone="UTC") as pg:
        yield pg.dsn


class CaseDatabases:
    """Databases for cases, cloned from one template on the server at `admin_dsn`."""

    def __init__(self, admin_dsn: str) -> None:
        self.admin_dsn = admin_dsn
        self.prefix = f"syncmon_ruletest_{uuid.uuid4().hex[:8]}"
        self.template = f"{self.prefix}_template"
        self._serial = 0
        self._admin: asyncpg.Connection | None = None

    def dsn_for(self, database: str) -> str:
        return urlunsplit(urlsplit(self.admin_dsn)._replace(path=f"/{database}"))

    async def __aenter__(self) -> CaseDatabases:
        self._admin = await asyncpg.connect(self.admin_dsn)
        await self._admin.execute(f'CREATE DATABASE "{self.template}"')
        conn = await asyncpg.connect(self.dsn_for(self.template))
        try:
            await conn.execute(schema_sql())
        finally:
            await conn.close()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._admin is None:
            return
        try:
            await self._admin.execute(f'DROP DATABASE IF EXISTS "{self.template}" WITH (FORCE)')
        finally:
            await self._admin.close()
            self._admin = None

    @contextlib.asynccontextmanager
    async def fresh(self) -> AsyncIterator[str]:
        """A new database with the empty seed tables; dropped afterwards."""
        assert self._admin is not None, "use `async with CaseDatabases(...)`"
        self._serial += 1
        name = f"{self.prefix}_{self._serial}"
        await self._admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"')
        try:
            yield self.dsn_for(name)
        finally:
            await self._admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
