"""`syncmon doctor` and read-only operation against a real PostgreSQL (SPEC §1.1, §6, §11)."""

from __future__ import annotations

import asyncio
import json
import secrets
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

from syncmon.cli import main
from syncmon.embedded.postgres import free_port
from tests.conftest import PgServer, create_database, drop_database
from tests.integration.rows import Op, insert_operations

pytestmark = pytest.mark.database

PERF_INDEX = (
    "CREATE INDEX CONCURRENTLY idx_sync_performance_metrics_timestamp "
    "ON public.sync_performance_metrics (timestamp);"
)
CONFLICT_INDEX = (
    "CREATE INDEX CONCURRENTLY idx_conflict_resolution_history_timestamp "
    "ON public.conflict_resolution_history (timestamp);"
)
TABLES = "sync_health_metrics, conflict_resolution_history, sync_performance_metrics"


def run_doctor(dsn: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(["doctor", "--dsn", dsn])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def sql(dsn: str, statement: str) -> None:
    async def execute() -> None:
        conn = await asyncpg.connect(dsn)
        try:
            await conn.execute(statement)
        finally:
            await conn.close()

    asyncio.run(execute())


def with_user(dsn: str, user: str, password: str) -> str:
    parts = urlsplit(dsn)
    return urlunsplit(parts._replace(netloc=f"{user}:{password}@{parts.hostname}:{parts.port}"))


@pytest.fixture
def database(pg_server: PgServer) -> Iterator[str]:
    """A fresh seed-schema database (sync fixture: doctor runs its own event loop)."""
    dsn = asyncio.run(create_database(pg_server))
    yield dsn
    asyncio.run(drop_database(pg_server, dsn))


@pytest.fixture
def role(pg_server: PgServer, database: str) -> Iterator[tuple[str, str]]:
    """(name, password) of a login role with no privileges yet; dropped afterwards."""
    name = f"syncmon_role_{uuid.uuid4().hex[:8]}"
    password = secrets.token_urlsafe(12)
    sql(pg_server.admin_dsn, f"CREATE ROLE {name} LOGIN PASSWORD '{password}'")
    yield name, password
    sql(database, f"DROP OWNED BY {name}")
    sql(pg_server.admin_dsn, f"DROP ROLE {name}")


def test_doctor_finds_the_missing_timestamp_indexes_of_the_seed(
    database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, output = run_doctor(database, capsys)
    assert code == 1
    assert PERF_INDEX in output
    assert CONFLICT_INDEX in output
    # the seed indexes sync_health_metrics.timestamp itself
    assert "idx_sync_health_metrics_timestamp" not in output
    assert "idx_sync_health_timestamp (btree" in output
    assert "ADVICE" in output


def test_doctor_is_quiet_about_indexes_once_they_exist(
    database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    sql(database, "CREATE INDEX ON sync_performance_metrics (timestamp)")
    sql(database, "CREATE INDEX ON conflict_resolution_history USING brin (timestamp)")
    _, output = run_doctor(database, capsys)
    assert "CREATE INDEX" not in output
    assert "no index on timestamp" not in output
    assert "(brin," in output


def test_doctor_exits_0_for_a_select_only_role_with_indexes(
    database: str, role: tuple[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    name, password = role
    sql(database, "CREATE INDEX ON sync_performance_metrics (timestamp)")
    sql(database, "CREATE INDEX ON conflict_resolution_history (timestamp)")
    sql(database, f"GRANT SELECT ON {TABLES} TO {name}")
    code, output = run_doctor(with_user(database, name, password), capsys)
    assert code == 0, output
    assert "WARN" not in output and "ADVICE" not in output
    assert "can only read" in output
    assert password not in output


def test_doctor_warns_when_the_role_can_write_and_not_when_it_only_selects(
    database: str, role: tuple[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    name, password = role
    dsn = with_user(database, name, password)
    sql(database, f"GRANT SELECT, INSERT, DELETE ON {TABLES} TO {name}")
    code, output = run_doctor(dsn, capsys)
    assert code == 1
    assert f'role "{name}" can write' in output
    assert "INSERT" in output and "default_transaction_read_only" in output

    sql(database, f"REVOKE INSERT, DELETE ON {TABLES} FROM {name}")
    _, output = run_doctor(dsn, capsys)
    assert "can write" not in output
    assert f'role "{name}" can only read' in output


def test_doctor_warns_about_a_superuser(database: str, capsys: pytest.CaptureFixture[str]) -> None:
    _, output = run_doctor(database, capsys)  # the fixtures connect as the superuser
    assert "is a superuser" in output
    assert "ALTER ROLE syncmon_ro SET default_transaction_read_only = on;" in output


def test_doctor_reports_a_missing_table_and_a_missing_column(
    database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    sql(database, "DROP TABLE conflict_resolution_history")
    sql(database, "ALTER TABLE sync_performance_metrics DROP COLUMN success")
    sql(database, "ALTER TABLE sync_health_metrics ALTER COLUMN metric_value TYPE text")
    code, output = run_doctor(database, capsys)
    assert code == 1
    assert "missing table: public.conflict_resolution_history" in output
    assert "missing column: public.sync_performance_metrics.success (boolean)" in output
    assert "column public.sync_health_metrics.metric_value is text, the seed has jsonb" in output


def test_doctor_exits_3_on_a_refused_connection_without_the_password(
    capsys: pytest.CaptureFixture[str],
) -> None:
    password = "refused-" + secrets.token_urlsafe(10)
    code, output = run_doctor(f"postgresql://syncmon:{password}@127.0.0.1:{free_port()}/x", capsys)
    assert code == 3
    assert "connection refused" in output
    assert password not in output
    assert "syncmon:***@127.0.0.1" in output


def test_doctor_exits_3_on_a_wrong_password_without_printing_it(
    database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    password = "wrong-" + secrets.token_urlsafe(10)
    code, output = run_doctor(with_user(database, "postgres", password), capsys)
    assert code == 3
    assert "authentication failed" in output
    assert password not in output


def test_check_works_against_a_read_only_database(
    pg_server: PgServer, database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A replica or a database with default_transaction_read_only is all syncmon needs."""
    asyncio.run(
        insert_operations(
            database, [Op(10.0 + i, "sync_pull", 100, i % 10 != 0) for i in range(40)]
        )
    )
    name = urlsplit(database).path.lstrip("/")
    sql(pg_server.admin_dsn, f'ALTER DATABASE "{name}" SET default_transaction_read_only = on')
    with pytest.raises(asyncpg.ReadOnlySQLTransactionError):  # really read-only now
        sql(database, "DELETE FROM sync_performance_metrics")
    config = tmp_path / "alerts.yaml"
    config.write_text(
        'alerts:\n  - name: "High Sync Failure Rate"\n'
        '    condition: "sync_failure_rate > 50%"\n    severity: "critical"\n'
    )
    code = main(["check", "--format", "json", "--config", str(config), "--dsn", database])
    report = json.loads(capsys.readouterr().out)
    assert code == 0
    assert not [e for e in report["errors"] if "database" in e.lower() or "sync_performance" in e]
    assert report["metrics"]["sync_failure_rate"]["samples"] == 40
    assert report["metrics"]["sync_failure_rate"]["value"] == pytest.approx(0.1)
    _, output = run_doctor(database, capsys)
    assert "default_transaction_read_only is on" in output


@pytest.mark.parametrize(
    ("column_type", "value"),
    [
        ("text", "'not a time ' || g"),  # varied: pg_stats gets a histogram it cannot cast
        ("text", "'2026-01-01 00:00:' || lpad(g::text, 2, '0')"),
        ("timestamptz", "now() - g * interval '1 minute'"),
        ("date", "current_date - g"),
        ("integer", "g"),
    ],
)
def test_doctor_is_total_over_an_odd_timestamp_column(
    database: str, capsys: pytest.CaptureFixture[str], column_type: str, value: str
) -> None:
    """A `timestamp` column of another type is reported, not a TypeError (issue 9)."""
    sql(database, "ALTER TABLE sync_performance_metrics ALTER COLUMN timestamp DROP DEFAULT")
    sql(
        database,
        f"ALTER TABLE sync_performance_metrics ALTER COLUMN timestamp TYPE {column_type} "
        "USING NULL",
    )
    sql(
        database,
        "INSERT INTO sync_performance_metrics "
        "(id, user_id, operation_type, duration_ms, success, timestamp) "
        f"SELECT gen_random_uuid(), gen_random_uuid(), 'sync', 1, true, {value} "
        "FROM generate_series(1, 200) AS g",
    )
    sql(database, "ANALYZE sync_performance_metrics")
    code, output = run_doctor(database, capsys)
    assert code == 1, output
    shown = {"timestamptz": "timestamp with time zone"}.get(column_type, column_type)
    assert f"column public.sync_performance_metrics.timestamp is {shown}" in output
    assert "Traceback" not in output and "TypeError" not in output
