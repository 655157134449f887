"""`syncmon doctor` on the path to PostgreSQL: direct or through a pooler, and in which mode;
do the per-statement guarantees hold, and is nothing left behind (SPEC §14)?

Measured, not assumed: the guarantees are read back inside one of syncmon's own transactions,
and the session's settings are read again after it, through the same client connection.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from enum import Enum

import asyncpg

from syncmon.config.models import PoolerMode
from syncmon.headless.doctor_findings import Level, Section
from syncmon.sources.connections import Guard, Route, connect, in_transaction

_SETTINGS = (
    "SELECT current_setting('transaction_read_only') AS read_only, "
    "current_setting('statement_timeout') AS statement_timeout, "
    "current_setting('lock_timeout') AS lock_timeout, pg_backend_pid() AS pid"
)
_LEFT_BEHIND = ("statement_timeout", "lock_timeout", "read_only")


class PoolMode(Enum):
    """What doctor could tell about the path."""

    DIRECT = "direct connection"
    TRANSACTION = "pooler in transaction mode"
    SESSION = "pooler in session mode"
    UNKNOWN = "pooler, mode unknown"  # a second client could not get in (a full session pool?)


@dataclass(frozen=True)
class PoolerFacts:
    mode: PoolMode
    backend_pid: int
    inside: dict[str, str]  # settings inside syncmon's transaction
    before: dict[str, str]  # the session's own, before it
    after: dict[str, str]  # and after it: must equal `before`


async def _settings(conn: asyncpg.Connection) -> dict[str, str]:
    """The session's settings, read in a plain transaction (safe in transaction mode)."""
    async with conn.transaction():
        row = await conn.fetchrow(_SETTINGS)
    assert row is not None
    return {k: str(v) for k, v in row.items()}


async def probe(
    conn: asyncpg.Connection, dsn: str, guard: Guard, connect_timeout: float
) -> PoolerFacts:
    """`conn` must have no prepared-statement cache; a second client is opened to tell
    transaction from session pooling (in transaction mode it gets the same backend)."""
    before = await _settings(conn)

    async def read(c: asyncpg.Connection) -> dict[str, str]:
        row = await c.fetchrow(_SETTINGS)
        assert row is not None
        return {k: str(v) for k, v in row.items()}

    inside = await in_transaction(conn, guard, read)
    after = await _settings(conn)
    pid = int(inside["pid"])
    if pid == conn.get_server_pid():
        mode = PoolMode.DIRECT
    else:
        # A session pool logs a client in without a server and makes its first query wait
        # (query_wait_timeout, 2 min): bound the whole second client, not just the login.
        other: asyncpg.Connection | None = None
        try:
            async with asyncio.timeout(connect_timeout):
                other = await connect(
                    dsn, timeout=connect_timeout, cached=False, application_name="syncmon-doctor"
                )
                other_pid = int((await _settings(other))["pid"])
        except (TimeoutError, OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
            return PoolerFacts(PoolMode.UNKNOWN, pid, inside, before, after)
        finally:
            if other is not None:
                other.terminate()
        mode = PoolMode.TRANSACTION if other_pid == pid else PoolMode.SESSION
    return PoolerFacts(mode, pid, inside, before, after)


def _seconds(setting: str) -> str:
    return "off" if setting in ("0", "0ms") else setting


def pooler_section(facts: PoolerFacts, guard: Guard, configured: PoolerMode) -> Section:
    section = Section("Connection")
    if facts.mode is PoolMode.DIRECT:
        section.add(
            Level.OK,
            f"direct connection to PostgreSQL (backend {facts.backend_pid}): "
            "prepared statements are kept",
        )
    elif facts.mode is PoolMode.TRANSACTION:
        section.add(
            Level.OK,
            f"pooler in transaction mode (two clients were served by backend "
            f"{facts.backend_pid}): statements are unnamed, each in its own transaction",
        )
    elif facts.mode is PoolMode.SESSION:
        section.add(
            Level.OK,
            "pooler in session mode (or transaction mode with a spare server connection): "
            "statements are unnamed, each in its own transaction",
        )
    else:
        section.add(
            Level.INFO,
            "a pooler answers (its process id is not the backend's), but a second client "
            "could not connect to tell its mode (a full session pool?): statements are "
            "unnamed, each in its own transaction; a session pool "
            "needs sources.database.connections server connections per syncmon process",
        )
    route = Route.DIRECT if facts.mode is PoolMode.DIRECT else Route.POOLED
    if configured is PoolerMode.NONE and route is Route.POOLED:
        section.add(
            Level.WARN,
            "sources.database.pooler is none, but a pooler answers: prepared statements "
            'fail in transaction mode ("prepared statement … does not exist"); set it to auto',
        )
    elif configured is PoolerMode.TRANSACTION and route is Route.DIRECT:
        section.add(
            Level.INFO,
            "sources.database.pooler is transaction on a direct connection: safe, one "
            "round trip more per statement than auto",
        )
    want = {
        "read_only": "on",
        "statement_timeout": f"{round(guard.statement_timeout * 1000)}ms",
        "lock_timeout": f"{round(guard.lock_timeout * 1000)}ms",
    }
    got = {k: _normal(facts.inside[k]) for k in want}
    if got == {k: _normal(v) for k, v in want.items()}:
        section.add(
            Level.OK,
            "each statement runs read-only with statement_timeout "
            f"{facts.inside['statement_timeout']} and lock_timeout "
            f"{facts.inside['lock_timeout']} (SET LOCAL, measured)",
        )
    else:
        shown = ", ".join(f"{k} {facts.inside[k]} (want {want[k]})" for k in want)
        section.add(Level.WARN, f"the per-statement guarantees do not hold: {shown}")
    left = [k for k in _LEFT_BEHIND if facts.after[k] != facts.before[k]]
    if left:
        section.add(
            Level.WARN,
            "syncmon's settings outlived its transaction: "
            + ", ".join(f"{k} {facts.before[k]} → {facts.after[k]}" for k in left),
        )
    else:
        section.add(
            Level.OK,
            "nothing is left on the server connection: afterwards the session has its own "
            f"statement_timeout {_seconds(facts.after['statement_timeout'])}, lock_timeout "
            f"{_seconds(facts.after['lock_timeout'])}, read only {facts.after['read_only']}",
        )
    return section


def _normal(value: str) -> str:
    """PostgreSQL prints 5000ms as `5s`; compare in milliseconds."""
    units = {"ms": 1, "s": 1000, "min": 60_000, "h": 3_600_000, "d": 86_400_000}
    for unit in sorted(units, key=len, reverse=True):
        number = value[: -len(unit)]
        if value.endswith(unit) and number.replace(".", "", 1).isdigit():
            return f"{float(number) * units[unit]:g}"
    return value
