"""Behind pgbouncer, in transaction and session mode (SPEC §14): `check`, `watch` and `doctor`
as real processes through a real pgbouncer in front of the test PostgreSQL.

Each test owns its pgbouncer (a free port, files in a temporary directory, stopped by PID).
Pools are one server connection deep where it matters, so the client that comes after
syncmon gets the very server connection syncmon used.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg
import pytest

from tests.conftest import PgServer
from tests.integration.incident import INCIDENT_RULE, RULE_NAME, write_incident
from tests.integration.pgbouncer import PgBouncer
from tests.integration.test_check_command import syncmon
from tests.integration.watch_support import wait_until

pytestmark = pytest.mark.database
MODES = ["transaction", "session"]
QUIET_NAGIOS_LIMIT = 400  # one Nagios line, whatever goes wrong

TWO_TABLE_RULES = (
    INCIDENT_RULE
    + """
  - name: "Low Auto-Resolve Rate"
    condition: "conflict_auto_resolve_rate < 80%"
    severity: "warning"
sources:
  database: {statement_timeout: 1s, connections: 1}
"""
)


def database_name(dsn: str) -> str:
    return urlsplit(dsn).path.lstrip("/")


@pytest.fixture(params=MODES)
def bouncer(request: pytest.FixtureRequest, pg_server: PgServer) -> Iterator[PgBouncer]:
    """pgbouncer in each mode, two server connections per database and user."""
    with PgBouncer(pg_server.admin_dsn, mode=request.param, pool_size=2) as running:
        yield running


@pytest.fixture(params=MODES)
def one_deep(request: pytest.FixtureRequest, pg_server: PgServer) -> Iterator[PgBouncer]:
    """pgbouncer with one server connection: whoever comes next gets syncmon's."""
    with PgBouncer(pg_server.admin_dsn, mode=request.param, pool_size=1) as running:
        yield running


@pytest.fixture
async def incident_db(seed_db: str) -> str:
    await write_incident(seed_db)
    return seed_db


def config(tmp_path: Path, text: str = TWO_TABLE_RULES) -> str:
    path = tmp_path / "alerts.yaml"
    path.write_text(text)
    return str(path)


async def session_settings(dsn: str) -> dict[str, str]:
    """What a new client of the pool sees: its session's settings and the server backend."""
    conn = await asyncpg.connect(dsn, statement_cache_size=0)
    try:
        async with conn.transaction():
            row = await conn.fetchrow(
                "SELECT current_setting('statement_timeout') AS statement_timeout,"
                " current_setting('lock_timeout') AS lock_timeout,"
                " current_setting('default_transaction_read_only') AS read_only,"
                " current_setting('idle_in_transaction_session_timeout') AS idle,"
                " current_setting('client_connection_check_interval') AS check_interval,"
                " pg_backend_pid() AS pid"
            )
    finally:
        await conn.close()
    assert row is not None
    return {k: str(v) for k, v in row.items()}


async def test_check_through_pgbouncer_reads_every_table_and_leaves_nothing_behind(
    one_deep: PgBouncer, incident_db: str, tmp_path: Path
) -> None:
    through = one_deep.dsn_for(database_name(incident_db))
    before = await session_settings(through)
    for _ in range(2):  # a second process on the same server connection: no stale statements
        code, out, err = await syncmon(
            "check", "--config", config(tmp_path), "--dsn", through, "--format", "json"
        )
        report = json.loads(out)
        assert report["errors"] == [], report["errors"]
        states = {a["name"]: a["state"] for a in report["alerts"]}
        assert code == 2, err
        assert states[RULE_NAME] == "firing"
    after = await session_settings(through)
    # the same server backend (a pool one deep), and it has its defaults back
    assert after["pid"] == before["pid"]
    assert after == before
    assert (after["statement_timeout"], after["lock_timeout"], after["read_only"]) == (
        "0",
        "0",
        "off",
    )
    assert after["check_interval"] == "0"


async def test_a_locked_table_ends_by_the_servers_lock_timeout_through_pgbouncer(
    pg_server: PgServer, incident_db: str, tmp_path: Path
) -> None:
    holder = await asyncpg.connect(incident_db)
    transaction = holder.transaction()
    await transaction.start()
    await holder.execute("LOCK TABLE conflict_resolution_history IN ACCESS EXCLUSIVE MODE")
    try:
        for mode in MODES:
            with PgBouncer(pg_server.admin_dsn, mode=mode, pool_size=2) as pool:
                through = pool.dsn_for(database_name(incident_db))
                started = time.monotonic()
                code, out, err = await syncmon(
                    "check", "--config", config(tmp_path), "--dsn", through, "--format", "json"
                )
                elapsed = time.monotonic() - started
                notes = {a["name"]: (a["state"], a["note"]) for a in json.loads(out)["alerts"]}
                assert code == 2, err  # the other table still fires
                state, note = notes["Low Auto-Resolve Rate"]
                # the server's lock_timeout (0.9 × statement_timeout), not the client's wait
                assert state == "error"
                assert note.startswith("conflict_resolution_history: waited 0.9s for a lock"), note
                assert "no answer within" not in note
                print(f"{mode}: a locked table ended by the server's lock_timeout, {elapsed:.2f}s")
    finally:
        await transaction.rollback()
        await holder.close()


async def test_nagios_line_stays_short_when_the_database_refuses(
    bouncer: PgBouncer, tmp_path: Path
) -> None:
    """A database pgbouncer cannot reach: one short line, not 2.5 KB of hints."""
    through = bouncer.dsn_for("no_such_database_here")
    code, out, err = await syncmon(
        "check", "--config", config(tmp_path), "--dsn", through, "--format", "nagios"
    )
    assert code == 3, err
    [line] = out.strip().splitlines()
    assert line.startswith("SYNCMON UNKNOWN")
    assert len(line) < QUIET_NAGIOS_LIMIT, line
    assert "HINT" not in line and "statement_cache_size" not in line


@pytest.fixture
def watcher_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("SYNCMON_")}


async def test_watch_through_pgbouncer_fires_without_errors(
    bouncer: PgBouncer, incident_db: str, tmp_path: Path, watcher_env: dict[str, str]
) -> None:
    watcher_env["SYNCMON_DATABASE_URL"] = bouncer.dsn_for(database_name(incident_db))
    command = [sys.executable, "-m", "syncmon", "watch", "--config", config(tmp_path)]
    process = subprocess.Popen(
        [*command, "--interval", "1s"],
        env=watcher_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    received = bytearray()
    try:
        assert process.stdout is not None
        stdout = process.stdout.fileno()
        os.set_blocking(stdout, False)

        async def two_events() -> bool:
            with contextlib.suppress(BlockingIOError):
                received.extend(os.read(stdout, 65536))
            return process.poll() is not None or received.count(b"\n") >= 2

        await wait_until(two_events, timeout=20)
        # a few more polls on the same pooled connections: still no error
        started = time.monotonic()
        await wait_until(lambda: _after(started, 3.5), timeout=10)
    finally:
        process.terminate()
        out_bytes, err_bytes = process.communicate(timeout=10)
    err = err_bytes.decode()
    lines = (bytes(received) + out_bytes).decode().splitlines()
    events = [json.loads(line) for line in lines if line.strip()]
    kinds = {(e["rule"], e["event"]) for e in events}
    assert (RULE_NAME, "firing") in kinds, err
    assert ("Low Auto-Resolve Rate", "nodata") in kinds, err
    assert not [e for e in events if e["event"] == "error"], err
    assert "prepared statement" not in err and "unsupported startup parameter" not in err


async def _after(started: float, seconds: float) -> bool:
    return time.monotonic() - started >= seconds


async def test_doctor_says_which_pooler_mode_it_found_and_that_the_guarantees_hold(
    bouncer: PgBouncer, seed_db: str
) -> None:
    code, out, err = await syncmon("doctor", "--dsn", bouncer.dsn_for(database_name(seed_db)))
    assert code in (0, 1), out + err  # advice about indexes etc. is fine
    assert f"pooler in {bouncer.mode} mode" in out, out
    assert "each statement runs read-only with statement_timeout 5s and lock_timeout 4500ms" in out
    assert "nothing is left on the server connection" in out
    assert "WARN   syncmon's settings outlived" not in out


async def test_doctor_on_a_direct_connection_says_so(seed_db: str) -> None:
    _, out, err = await syncmon("doctor", "--dsn", seed_db)
    assert "direct connection to PostgreSQL" in out, out + err
    assert "prepared statements are kept" in out


async def test_doctor_warns_when_pooler_none_is_configured_behind_a_pooler(
    bouncer: PgBouncer, seed_db: str, tmp_path: Path
) -> None:
    path = config(tmp_path, "alerts: []\nsources:\n  database: {pooler: none}\n")
    code, out, _ = await syncmon(
        "doctor", "--config", path, "--dsn", bouncer.dsn_for(database_name(seed_db))
    )
    assert code == 1
    assert "sources.database.pooler is none, but a pooler answers" in out


async def test_doctor_through_a_full_session_pool_says_the_mode_is_unknown(
    pg_server: PgServer, seed_db: str
) -> None:
    """One server connection in session mode: doctor's second client cannot get in."""
    with PgBouncer(pg_server.admin_dsn, mode="session", pool_size=1) as full:
        code, out, err = await syncmon("doctor", "--dsn", full.dsn_for(database_name(seed_db)))
    assert "a pooler answers (its process id is not the backend's)" in out, out + err
    assert "nothing is left on the server connection" in out
    assert code in (0, 1)
