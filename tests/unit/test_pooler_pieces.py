"""The pooler-safe pieces on their own (SPEC §14): what each transaction sends, quoting,
the one-line error cap, the FIFO connection budget."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from syncmon.config.models import DatabaseModel, PoolerMode
from syncmon.sources import sql
from syncmon.sources.connections import ConnectionBudget, Guard
from syncmon.sources.db_errors import ERROR_CHARS, explain_database_error, one_line


def test_each_transaction_carries_its_guarantees_with_set_local_only() -> None:
    text = Guard(5.0).begin(16)
    statements = [s.strip() for s in text.split(";")]
    assert statements[0] == "BEGIN READ ONLY"
    assert "SET LOCAL statement_timeout = 5000" in statements
    assert "SET LOCAL lock_timeout = 4500" in statements
    assert "SET LOCAL client_connection_check_interval = 1000" in statements
    assert all(s.startswith(("BEGIN", "SET LOCAL ")) for s in statements)


def test_servers_before_14_are_not_sent_client_connection_check_interval() -> None:
    assert "client_connection_check_interval" not in Guard(5.0).begin(13)


def test_lock_timeout_is_below_statement_timeout_so_a_lock_wait_is_named() -> None:
    guard = Guard(1.0)
    assert guard.lock_timeout == 0.9 < guard.statement_timeout


@pytest.mark.parametrize(
    ("schema", "expected"),
    [
        ("public", '"public"."sync_performance_metrics"'),
        ("Metrics", '"Metrics"."sync_performance_metrics"'),
        ('a"b', '"a""b"."sync_performance_metrics"'),
        ("x; DROP TABLE t", '"x; DROP TABLE t"."sync_performance_metrics"'),
    ],
)
def test_every_statement_names_its_table_with_its_quoted_schema(schema: str, expected: str) -> None:
    assert sql.qualified(schema, "sync_performance_metrics") == expected


@pytest.mark.parametrize("bad", ["", "x" * 64, "tab\there", "nul\x00"])
def test_a_schema_that_cannot_be_a_postgresql_name_is_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="is not a PostgreSQL schema name"):
        DatabaseModel.model_validate({"schema": bad})


def test_database_defaults() -> None:
    model = DatabaseModel()
    assert (model.schema_, model.pooler, model.connections) == ("public", PoolerMode.AUTO, 2)


def test_a_long_multi_line_database_error_becomes_one_short_line() -> None:
    hint = "HINT: " + "set statement_cache_size to 0 " * 80
    error = asyncpg.InvalidSQLStatementNameError(
        'prepared statement "__asyncpg_stmt_1__" does not exist\n' + hint
    )
    text = explain_database_error(error)
    assert "\n" not in text and len(text) <= ERROR_CHARS
    assert text.startswith("InvalidSQLStatementNameError: prepared statement")
    assert one_line("a\n  b") == "a"
    assert one_line("x" * 500).endswith("…")


async def test_the_budget_queue_is_first_come_first_served() -> None:
    budget = ConnectionBudget(
        "postgresql://nobody@127.0.0.1:1/none",
        size=1,
        mode=PoolerMode.NONE,
        guard=Guard(1.0),
        connect_timeout=1.0,
    )
    order: list[int] = []

    async def take(n: int) -> None:
        await budget.acquire()
        order.append(n)
        await asyncio.sleep(0)  # yield while holding the slot
        budget.release()

    await budget.acquire()
    tasks = [asyncio.create_task(take(n)) for n in range(5)]
    await asyncio.sleep(0)
    budget.release()
    await asyncio.gather(*tasks)
    assert order == [0, 1, 2, 3, 4]
