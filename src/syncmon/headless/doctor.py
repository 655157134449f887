"""`syncmon doctor`: is this database ready for syncmon? Tables, indexes, privileges, zone.

It only reads (every statement runs in a read-only transaction and is a catalog lookup or an
index probe; nothing is set on the session, so it works through pgbouncer in any mode),
prints plain text that survives NO_COLOR, a pager and an e-mail, and exits like a check:
0 nothing to do, 1 advice to follow, 3 the database could not be reached.
"""

from __future__ import annotations

import asyncio
import sys
import textwrap
from enum import IntEnum
from typing import TextIO

import asyncpg

from syncmon.config.redaction import describe_error
from syncmon.config.settings import Settings
from syncmon.core.clock import Clock, wall_clock
from syncmon.core.text import plural
from syncmon.headless.doctor_advice import TABLE_NAMES, examine
from syncmon.headless.doctor_catalog import Catalog, read_catalog
from syncmon.headless.doctor_findings import Level, Section
from syncmon.headless.doctor_pooler import PoolerFacts, pooler_section, probe
from syncmon.sources.connections import Guard, connect
from syncmon.sources.db_errors import explain_database_error, one_line

CONNECT_TIMEOUT = 5.0
# A guard, not an expectation: every statement is a catalog read or an index probe.
STATEMENT_TIMEOUT_MS = 15_000
WIDTH = 100
_INDENT = " " * 9


class DoctorExit(IntEnum):
    """Exit codes are an API: scripts run doctor after a migration."""

    OK = 0
    ADVICE = 1
    UNREACHABLE = 3


class CannotConnect(Exception):
    """The database could not be reached or refused us; the message is secret-free."""


def run_doctor(
    settings: Settings,
    *,
    out: TextIO | None = None,
    err: TextIO | None = None,
    clock: Clock = wall_clock,
) -> int:
    out, err = out or sys.stdout, err or sys.stderr
    if not settings.dsn:
        print(
            "syncmon doctor: no database configured (--dsn, SYNCMON_DATABASE_URL or "
            "sources.database.dsn)",
            file=err,
        )
        return DoctorExit.UNREACHABLE
    try:
        catalog, pooler = asyncio.run(_gather(settings))
    except CannotConnect as exc:
        print(f"syncmon doctor: cannot connect to {settings.masked_dsn}: {exc}", file=err)
        return DoctorExit.UNREACHABLE
    sections = examine(catalog, settings.timestamp_timezone, clock())
    sections.insert(1, pooler_section(pooler, Guard(settings.statement_timeout), settings.pooler))
    print(render(settings.masked_dsn or "", sections), file=out)
    return exit_code(sections)


def exit_code(sections: list[Section]) -> DoctorExit:
    needs_action = any(f.level.needs_action for s in sections for f in s.findings)
    return DoctorExit.ADVICE if needs_action else DoctorExit.OK


def render(masked_dsn: str, sections: list[Section]) -> str:
    """Sections of `LEVEL  text` lines; statements indented below the finding they fix."""
    lines = [f"syncmon doctor: {masked_dsn}", ""]
    counts = dict.fromkeys(Level, 0)
    for section in sections:
        lines.append(section.title)
        for finding in section.findings:
            counts[finding.level] += 1
            lines += _wrap(finding.text, f"  {finding.level.value:<7}")
            for detail in finding.details:
                # SQL is printed whole so it can be copied; prose is wrapped.
                lines += [_INDENT + detail] if detail.endswith(";") else _wrap(detail, _INDENT)
        lines.append("")
    if counts[Level.WARN] or counts[Level.ADVICE]:
        lines.append(
            f"{plural(counts[Level.WARN], 'warning')}, {counts[Level.ADVICE]} advice: "
            "see WARN and ADVICE above (exit 1)"
        )
    else:
        lines.append("Everything syncmon needs is in place (exit 0)")
    return "\n".join(lines)


def _wrap(text: str, first_prefix: str) -> list[str]:
    return textwrap.wrap(
        text,
        WIDTH,
        initial_indent=first_prefix,
        subsequent_indent=_INDENT,
        break_on_hyphens=False,
        break_long_words=False,
    )


async def _gather(settings: Settings) -> tuple[Catalog, PoolerFacts]:
    assert settings.dsn is not None
    dsn = settings.dsn.get_secret_value()
    try:
        # no prepared-statement cache: doctor may run behind a transaction-mode pooler
        conn = await connect(
            dsn, timeout=CONNECT_TIMEOUT, cached=False, application_name="syncmon-doctor"
        )
    except (
        TimeoutError,
        OSError,
        asyncpg.PostgresError,
        asyncpg.InterfaceError,
        ValueError,
    ) as exc:
        raise CannotConnect(explain_database_error(exc)) from None
    try:
        pooler = await probe(conn, dsn, Guard(settings.statement_timeout), CONNECT_TIMEOUT)
        # doctor never changes the database: one read-only transaction, its own time limit
        async with conn.transaction(readonly=True):
            await conn.execute(f"SET LOCAL statement_timeout = {STATEMENT_TIMEOUT_MS}")
            catalog = await read_catalog(
                conn, TABLE_NAMES, settings.timestamp_timezone, settings.database_schema
            )
        return catalog, pooler
    except (TimeoutError, OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        raise CannotConnect(
            f"reading the catalog failed: {one_line(describe_error(exc))}"
        ) from None
    finally:
        try:
            await asyncio.wait_for(conn.close(), timeout=2)
        except (TimeoutError, OSError, asyncpg.PostgresError):
            conn.terminate()
