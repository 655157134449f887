"""Tables named with their schema (SPEC §14): `sources.database.schema`, statements that
name it, and doctor's warning when the role's search_path leads elsewhere."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

from tests.conftest import PgServer
from tests.integration.incident import INCIDENT_RULE, RULE_NAME, write_incident
from tests.integration.test_check_command import syncmon

pytestmark = pytest.mark.database
TABLES = ("sync_health_metrics", "conflict_resolution_history", "sync_performance_metrics")
ODD_SCHEMA = 'Metrics "2026"'  # mixed case, a space and quotes: only quoting gets it right


def with_user(dsn: str, user: str, password: str) -> str:
    parts = urlsplit(dsn)
    return urlunsplit(parts._replace(netloc=f"{user}:{password}@{parts.hostname}:{parts.port}"))


async def execute(dsn: str, *statements: str) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()


def config(tmp_path: Path, extra: str = "") -> str:
    path = tmp_path / "alerts.yaml"
    path.write_text(INCIDENT_RULE + extra)
    return str(path)


@pytest.fixture
async def shadowed(pg_server: PgServer, seed_db: str) -> AsyncIterator[tuple[str, str]]:
    """(dsn, role): the incident in public; a quiet copy in `shadow`, which comes first in
    the role's search_path."""
    await write_incident(seed_db)
    role, password = f"syncmon_shadowed_{uuid.uuid4().hex[:8]}", secrets.token_urlsafe(12)
    await execute(pg_server.admin_dsn, f"CREATE ROLE {role} LOGIN PASSWORD '{password}'")
    await execute(
        seed_db,
        "CREATE SCHEMA shadow",
        "CREATE TABLE shadow.sync_performance_metrics"
        " (LIKE public.sync_performance_metrics INCLUDING ALL)",
        "INSERT INTO shadow.sync_performance_metrics"
        " SELECT * FROM public.sync_performance_metrics WHERE success",
        f"GRANT USAGE ON SCHEMA shadow TO {role}",
        f"GRANT SELECT ON ALL TABLES IN SCHEMA public, shadow TO {role}",
        f"ALTER ROLE {role} SET search_path = shadow, public",
    )
    yield with_user(seed_db, role, password), role
    await execute(seed_db, f"DROP OWNED BY {role}")
    await execute(pg_server.admin_dsn, f"DROP ROLE {role}")


async def test_the_shadow_really_hides_the_incident_from_unqualified_queries(
    shadowed: tuple[str, str],
) -> None:
    """The premise of the next tests: this role's unqualified name reads a quiet table."""
    dsn, _ = shadowed
    conn = await asyncpg.connect(dsn)
    try:
        unqualified = await conn.fetchval(
            "SELECT count(*) FROM sync_performance_metrics WHERE NOT success"
        )
        qualified = await conn.fetchval(
            "SELECT count(*) FROM public.sync_performance_metrics WHERE NOT success"
        )
    finally:
        await conn.close()
    assert unqualified == 0 and qualified > 0


async def test_check_reads_the_configured_schema_not_the_search_path(
    shadowed: tuple[str, str], tmp_path: Path
) -> None:
    dsn, _ = shadowed
    code, out, err = await syncmon("check", "--config", config(tmp_path), "--dsn", dsn)
    assert code == 2, out + err
    assert RULE_NAME in out


async def test_doctor_warns_of_a_same_named_table_earlier_in_the_search_path(
    shadowed: tuple[str, str],
) -> None:
    dsn, _ = shadowed
    code, out, _ = await syncmon("doctor", "--dsn", dsn)
    assert code == 1
    assert "Table public.sync_performance_metrics" in out
    assert "shadow.sync_performance_metrics stands earlier in the role's search_path" in out
    assert "(shadow, public)" in out
    # only the shadowed table is warned about
    assert out.count("stands earlier in") == 1


@pytest.fixture
async def odd_schema_db(seed_db: str) -> str:
    """The seed's tables moved to a schema whose name needs quoting, with the incident."""
    await write_incident(seed_db)
    quoted = '"' + ODD_SCHEMA.replace('"', '""') + '"'
    await execute(
        seed_db,
        f"CREATE SCHEMA {quoted}",
        *(f"ALTER TABLE public.{t} SET SCHEMA {quoted}" for t in TABLES),
    )
    return seed_db


async def test_a_configured_schema_is_read_and_quoted(odd_schema_db: str, tmp_path: Path) -> None:
    schema_line = "sources:\n  database:\n    schema: 'Metrics \"2026\"'\n"
    path = config(tmp_path, schema_line)
    code, out, err = await syncmon("check", "--config", path, "--dsn", odd_schema_db)
    assert code == 2, out + err
    code, out, _ = await syncmon("doctor", "--config", path, "--dsn", odd_schema_db)
    assert 'Table "Metrics ""2026""".sync_performance_metrics' in out
    assert "missing table" not in out


async def test_the_default_schema_is_public_and_a_missing_table_says_where(
    odd_schema_db: str, tmp_path: Path
) -> None:
    code, out, _ = await syncmon(
        "check", "--config", config(tmp_path), "--dsn", odd_schema_db, "--format", "nagios"
    )
    assert code == 3
    [line] = out.strip().splitlines()
    assert 'relation "public.sync_performance_metrics" does not exist' in line
    assert len(line) < 2 * 240 + 100  # two tables' errors, one short line each


async def test_an_invalid_schema_name_is_a_validate_error(tmp_path: Path) -> None:
    path = config(tmp_path, 'sources:\n  database:\n    schema: ""\n')
    code, _, err = await syncmon("validate", path)
    assert code == 3
    assert f"{path}:" in err and "is not a PostgreSQL schema name" in err
