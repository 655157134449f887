"""A budget of PostgreSQL connections, safe behind a pooler (SPEC §14).

Nothing rides on the session: the only startup parameter is `application_name` (pgbouncer
refuses the others), and every statement runs in its own `BEGIN READ ONLY` transaction whose
`SET LOCAL` lines carry `statement_timeout`, `lock_timeout` and the vanished-client check.
A transaction-mode pooler keeps a client on one server connection for exactly one
transaction, so the guarantees hold there as they hold in session mode and on a direct
connection, and nothing is left on a server connection the pool hands to the next client.

Prepared statements are kept (asyncpg's cache) only where the connection keeps them: on a
direct connection. Behind a pooler a named statement may be prepared on one server
connection and executed on another, so there every statement is unnamed and prepared inside
its own transaction. `auto` tells the two apart without asking the user: a pooler answers the
connection with a cancel key of its own, so the process id it announces is not the server
backend's `pg_backend_pid()`.

At most `size` connections are open at once; a statement waits its turn in FIFO order, and
its own deadline starts when it has a connection, so a locked table delays a queued one by
at most one `statement_timeout`.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import Enum
from typing import TypeVar

import asyncpg

from syncmon.config.models import PoolerMode

T = TypeVar("T")
APPLICATION_NAME = "syncmon"
STATEMENT_CACHE = 32  # one plan per statement shape (sql.py), direct connections only
# A client that sits inside its transaction this long (it hung, or vanished behind a NAT)
# is ended by the server; syncmon's transactions last one statement.
IDLE_IN_TRANSACTION_MS = 60_000
# Slightly less than statement_timeout, so a statement waiting on a lock ends as a lock
# wait ("waited 4.5s for a lock"), not as the vaguer "statement timed out".
LOCK_SHARE = 0.9


class Route(Enum):
    """What stands between syncmon and PostgreSQL, as far as statements are concerned."""

    DIRECT = "direct"  # the server backend itself: prepared statements are kept
    POOLED = "pooled"  # a pooler: unnamed statements only, each inside its transaction


@dataclass(frozen=True)
class Guard:
    """The per-statement guarantees, sent with every transaction."""

    statement_timeout: float
    application_name: str = APPLICATION_NAME

    @property
    def lock_timeout(self) -> float:
        return round(self.statement_timeout * LOCK_SHARE, 3)

    def begin(self, server_version: int) -> str:
        """One simple-protocol message: the transaction and its local settings."""
        statement_ms = max(1, math.ceil(self.statement_timeout * 1000))
        lock_ms = max(1, math.ceil(self.lock_timeout * 1000))
        lines = [
            "BEGIN READ ONLY",
            f"SET LOCAL statement_timeout = {statement_ms}",
            f"SET LOCAL lock_timeout = {lock_ms}",
            f"SET LOCAL idle_in_transaction_session_timeout = {IDLE_IN_TRANSACTION_MS}",
        ]
        if server_version >= 14:
            # a client that vanished (killed, network gone) ends its query within 1 s
            lines.append("SET LOCAL client_connection_check_interval = 1000")
        return "; ".join(lines)


async def connect(
    dsn: str, *, timeout: float, cached: bool, application_name: str
) -> asyncpg.Connection:
    """A connection with no session settings beyond `application_name`."""
    return await asyncpg.connect(
        dsn,
        timeout=timeout,
        command_timeout=None,
        statement_cache_size=STATEMENT_CACHE if cached else 0,
        server_settings={"application_name": application_name},
    )


async def in_transaction(
    conn: asyncpg.Connection, guard: Guard, work: Callable[[asyncpg.Connection], Awaitable[T]]
) -> T:
    """Run `work` inside one guarded read-only transaction; roll back if it fails."""
    server_version = conn.get_server_version().major
    await conn.execute(guard.begin(server_version))
    try:
        result = await work(conn)
    except asyncpg.PostgresError:
        await conn.execute("ROLLBACK")
        raise
    # COMMIT of a read-only transaction writes nothing; it hands the server connection back.
    await conn.execute("COMMIT")
    return result


async def detect_route(conn: asyncpg.Connection, guard: Guard) -> Route:
    """DIRECT when the announced process id is the backend's own, else POOLED."""

    async def backend_pid(c: asyncpg.Connection) -> int:
        return int(await c.fetchval("SELECT pg_backend_pid()"))

    pid = await in_transaction(conn, guard, backend_pid)
    return Route.DIRECT if pid == conn.get_server_pid() else Route.POOLED


class ConnectionBudget:
    """At most `size` open connections, lent one statement at a time, in FIFO order."""

    def __init__(
        self,
        dsn: str,
        *,
        size: int,
        mode: PoolerMode,
        guard: Guard,
        connect_timeout: float,
    ) -> None:
        self._dsn = dsn
        self.size = max(1, size)
        self.mode = mode
        self.guard = guard
        self.connect_timeout = connect_timeout
        self.route: Route | None = {
            PoolerMode.NONE: Route.DIRECT,
            PoolerMode.TRANSACTION: Route.POOLED,
        }.get(mode)
        self._slots = asyncio.Semaphore(self.size)
        self._idle: list[asyncpg.Connection] = []
        self._detecting = asyncio.Lock()
        self._closed = False

    def __repr__(self) -> str:  # never let the DSN (and its password) into a repr
        return f"ConnectionBudget(size={self.size}, mode={self.mode.value})"

    @property
    def open_idle(self) -> int:
        return len(self._idle)

    async def acquire(self) -> None:
        """Wait for the right to hold a connection (the budget's FIFO queue)."""
        await self._slots.acquire()

    def release(self) -> None:
        self._slots.release()

    def take_idle(self) -> asyncpg.Connection | None:
        """An idle connection, most recently used first; call only while holding a slot."""
        while self._idle:
            conn = self._idle.pop()
            if not conn.is_closed():
                return conn
        return None

    async def open(self) -> asyncpg.Connection:
        """A new connection; the first one in `auto` mode also finds the route."""
        if self.route is None:
            async with self._detecting:
                if self.route is None:
                    probe = await connect(
                        self._dsn,
                        timeout=self.connect_timeout,
                        cached=False,
                        application_name=self.guard.application_name,
                    )
                    try:
                        self.route = await detect_route(probe, self.guard)
                    except BaseException:
                        probe.terminate()
                        raise
                    if self.route is Route.POOLED:
                        return probe
                    await close_quietly(probe)
        return await connect(
            self._dsn,
            timeout=self.connect_timeout,
            cached=self.route is Route.DIRECT,
            application_name=self.guard.application_name,
        )

    def forget_idle(self) -> None:
        """Drop every idle connection (the server went away under them)."""
        idle, self._idle = self._idle, []
        for conn in idle:
            conn.terminate()

    def give_back(self, conn: asyncpg.Connection) -> None:
        """Return a healthy connection, idle outside any transaction."""
        if not self._closed and not conn.is_closed() and not conn.is_in_transaction():
            self._idle.append(conn)
        else:
            conn.terminate()

    async def close(self) -> None:
        self._closed = True
        idle, self._idle = self._idle, []
        await asyncio.gather(*(close_quietly(c) for c in idle))


async def close_quietly(conn: asyncpg.Connection) -> None:
    try:
        await asyncio.wait_for(conn.close(), timeout=1)
    except (TimeoutError, OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
        conn.terminate()
