"""Database failures told in one line, without secrets: what reports, tiles and doctor say."""

from __future__ import annotations

import asyncio

import asyncpg

from syncmon.config.redaction import describe_error, redact
from syncmon.sources.connections import Guard

ERROR_CHARS = 240  # one table's error: short enough for a Nagios line and a tile


def explain_database_error(exc: BaseException, statement_timeout: float | None = None) -> str:
    """A one-line, secret-free account of a database failure, at most ERROR_CHARS long:
    asyncpg's multi-line hints (2.5 KB behind pgbouncer) never reach a report."""
    return one_line(_explain(exc, statement_timeout))


def one_line(text: str, limit: int = ERROR_CHARS) -> str:
    """The first line of `text`, whitespace collapsed, cut at `limit` characters."""
    first = " ".join((text.strip().splitlines() or [""])[0].split())
    return first if len(first) <= limit else first[: limit - 1].rstrip() + "…"


def _explain(exc: BaseException, statement_timeout: float | None) -> str:
    if isinstance(exc, asyncpg.LockNotAvailableError):
        waited = Guard(statement_timeout).lock_timeout if statement_timeout else 0
        return (
            f"waited {waited:g}s for a lock another session holds "
            "(LOCK TABLE, a migration?); gave up"
        )
    if isinstance(exc, asyncpg.QueryCanceledError):
        if "statement timeout" in str(exc):
            return f"statement timed out after {statement_timeout or 0:g}s (a lock? a huge window?)"
        return redact(f"query cancelled: {exc}")
    if isinstance(exc, asyncio.TimeoutError):
        return "timed out connecting"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(
        exc, asyncpg.InvalidPasswordError | asyncpg.InvalidAuthorizationSpecificationError
    ):
        return redact(f"authentication failed: {exc}")
    if isinstance(exc, asyncpg.InvalidCatalogNameError):
        return redact(f"no such database: {exc}")
    if isinstance(exc, asyncpg.UndefinedTableError):
        return redact(f"{exc} (run `syncmon doctor` to check the schema)")
    if isinstance(exc, asyncpg.InsufficientPrivilegeError):
        return redact(f"{exc} (syncmon needs SELECT on the metrics tables)")
    if isinstance(exc, OSError) and exc.strerror:
        return redact(f"cannot connect: {exc.strerror}")
    return describe_error(exc)
