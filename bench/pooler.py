"""syncmon behind pgbouncer (SPEC §14): what a poll costs, how many server connections many
processes hold, and who ends a locked table's statement — direct vs pgbouncer in session and
transaction mode. Prints numbers; asserts nothing.

    python bench/pooler.py [--polls 40] [--processes 10]

Needs Debian's pgbouncer (`apt-get install pgbouncer`); PostgreSQL comes from pgserver.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg
from pydantic import SecretStr

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.conftest import PgServer, create_database
from tests.integration.incident import write_incident
from tests.integration.pgbouncer import PgBouncer

from syncmon.config.settings import Overrides, Settings, resolve_settings
from syncmon.embedded.postgres import EmbeddedPostgres
from syncmon.engine.poll import Engine

RULES = """alerts:
  - {name: failures, condition: "sync_failure_rate > 5%", severity: critical}
  - {name: auto, condition: "conflict_auto_resolve_rate < 80%", severity: warning}
  - {name: cpu, condition: "health.cpu > 90", severity: info}
sources:
  database: {statement_timeout: STATEMENT, pooler: POOLER, connections: CONNECTIONS}
"""


def settings(
    dsn: str, *, pooler: str = "auto", connections: int = 2, statement: str = "5s"
) -> Settings:
    path = Path(tempfile.mkdtemp()) / "alerts.yaml"
    text = RULES.replace("POOLER", pooler).replace("CONNECTIONS", str(connections))
    path.write_text(text.replace("STATEMENT", statement))
    return resolve_settings(Overrides(config=str(path), dsn=SecretStr(dsn)), env={})


async def poll_cost(dsn: str, polls: int, pooler: str) -> tuple[float, float]:
    """Median and p90 poll time (ms) after the first poll (which connects and detects)."""
    times = []
    async with Engine(settings(dsn, pooler=pooler)) as engine:
        await engine.poll()
        for _ in range(polls):
            started = time.perf_counter()
            await engine.poll()
            times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), statistics.quantiles(times, n=10)[-1]


async def client_backends(admin: asyncpg.Connection, database: str) -> int:
    return int(
        await admin.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = $1"
            " AND backend_type = 'client backend'",
            database,
        )
    )


async def backends(dsn: str, admin_dsn: str, processes: int) -> int:
    """Server backends added while `processes` engines (2 connections each) poll at once."""
    database = urlsplit(dsn).path.lstrip("/")
    engines = [Engine(settings(dsn)) for _ in range(processes)]
    admin = await asyncpg.connect(admin_dsn)
    baseline = await client_backends(admin, database)
    peak = 0
    try:
        for _ in range(5):
            await asyncio.gather(*(e.poll() for e in engines))
            peak = max(peak, await client_backends(admin, database))
    finally:
        await asyncio.gather(*(e.close() for e in engines))
        await admin.close()
    return peak - baseline


async def locked_table(dsn: str, direct_dsn: str) -> tuple[float, str]:
    """Seconds until a poll answers with a locked table, and what the table's error says."""
    holder = await asyncpg.connect(direct_dsn)
    transaction = holder.transaction()
    await transaction.start()
    await holder.execute("LOCK TABLE conflict_resolution_history IN ACCESS EXCLUSIVE MODE")
    try:
        async with Engine(settings(dsn, statement="2s")) as engine:
            started = time.perf_counter()
            snapshot = await engine.poll()
            elapsed = time.perf_counter() - started
    finally:
        await transaction.rollback()
        await holder.close()
    errors = " | ".join(str(v) for v in snapshot.failed.values())
    return elapsed, errors


async def main(polls: int, processes: int) -> None:
    with EmbeddedPostgres(timezone="UTC") as pg:
        server = PgServer(pg.dsn, pg)
        dsn = await create_database(server)
        await write_incident(dsn)
        database = urlsplit(dsn).path.lstrip("/")
        with (
            PgBouncer(pg.dsn, mode="transaction", pool_size=2) as tx,
            PgBouncer(pg.dsn, mode="session", pool_size=2) as session,
        ):
            paths = {  # session pool 2: one engine (2 connections) at a time
                "direct (auto: prepared statements)": (dsn, "auto"),
                "direct, pooler: transaction": (dsn, "transaction"),
                "pgbouncer session (auto)": (session.dsn_for(database), "auto"),
                "pgbouncer transaction (auto)": (tx.dsn_for(database), "auto"),
            }
            print(f"one poll of 3 tables (3 transactions), over {polls} polls: median, p90")
            for name, (target, pooler) in paths.items():
                median, p90 = await poll_cost(target, polls, pooler)
                print(f"  {name:<38} {median:7.2f} ms {p90:7.2f} ms")
            print(f"server backends added while {processes} processes (connections: 2) poll")
            print(f"  {'direct':<38} {await backends(dsn, pg.dsn, processes):4d}")
            admin = await asyncpg.connect(pg.dsn)
            baseline = await client_backends(admin, database)
            with PgBouncer(pg.dsn, mode="transaction", pool_size=2) as fresh:
                added = await backends(fresh.dsn_for(database), pg.dsn, processes)
                pooled = await client_backends(admin, database) - baseline
            await admin.close()
            print(f"  {'pgbouncer transaction, pool 2':<38} {max(added, pooled):4d}")
            print("a locked table, statement_timeout 2s (lock_timeout 1.8s)")
            for name, target in {
                "direct": dsn,
                "pgbouncer session": session.dsn_for(database),
                "pgbouncer transaction": tx.dsn_for(database),
            }.items():
                elapsed, errors = await locked_table(target, dsn)
                print(f"  {name:<38} {elapsed:5.2f} s  {errors[:90]}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--polls", type=int, default=40)
    parser.add_argument("--processes", type=int, default=10)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.polls, arguments.processes))
