"""Bounded statements (SPEC §11–§12, issue 16 item 7): the number of distinct windows a poll
computes is limited and `validate` says so at the rule; a deadline message states the time
really spent; a statement syncmon gave up on is not left running in PostgreSQL."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import pytest

from syncmon.config.loader import MAX_WINDOWS, ConfigInvalid, load_config_text
from syncmon.core.clock import wall_clock
from syncmon.core.metrics import Source
from syncmon.sources.database import MetricsDatabase
from syncmon.sources.queries import HistoryQuery, Interval, MetricsQuery
from tests.integration.test_check_command import syncmon
from tests.integration.test_sources_fail_alone import running_syncmon_statements
from tests.integration.watch_support import wait_until


def rules_with_windows(seconds: list[int]) -> str:
    lines = [
        f"  - name: rule {i}\n"
        f"    condition: 'sync_failure_rate > 5%'\n"
        f"    severity: warning\n"
        f"    window: {s}s\n"
        for i, s in enumerate(seconds)
    ]
    return "alerts:\n" + "".join(lines)


# --- validate: distinct windows per poll ----------------------------------------------------


def test_as_many_distinct_windows_as_the_limit_is_valid() -> None:
    config = load_config_text(rules_with_windows(list(range(61, 61 + MAX_WINDOWS))), "a.yaml")
    assert len({r.window for r in config.rules}) == MAX_WINDOWS


def test_one_distinct_window_more_is_reported_at_that_rules_window() -> None:
    text = rules_with_windows(list(range(61, 61 + MAX_WINDOWS + 1)))
    with pytest.raises(ConfigInvalid) as caught:
        load_config_text(text, "a.yaml")
    (problem,) = caught.value.problems
    line = text.splitlines().index(f"    window: {61 + MAX_WINDOWS}s") + 1
    assert (problem.line, problem.column) == (line, 13)
    assert f"at most {MAX_WINDOWS} distinct rule windows" in problem.message
    assert f"(the rules use {MAX_WINDOWS + 1})" in problem.message
    assert "reuse a window, e.g. 1m32s" in problem.message  # the nearest in use: 92s


def test_a_thousand_rules_over_few_windows_are_valid() -> None:
    config = load_config_text(rules_with_windows([60, 300, 900, 3600] * 250), "a.yaml")
    assert len(config.rules) == 1000


async def test_validate_refuses_a_thousand_distinct_windows_with_one_positioned_message(
    tmp_path: Path,
) -> None:
    config = tmp_path / "windows.yaml"
    config.write_text(rules_with_windows(list(range(61, 1061))))
    code, _, err = await syncmon("validate", str(config))
    assert code == 3
    problems = [line for line in err.splitlines() if line.startswith(str(config))]
    assert len(problems) == 2, err  # the problem, then the count
    assert re.match(rf"{re.escape(str(config))}:\d+:13: window: 1m33s is distinct", problems[0])
    assert "(the rules use 1000)" in problems[0]


# --- deadlines say how long they really took ------------------------------------------------


@pytest.fixture
async def silent_server() -> AsyncIterator[int]:
    """A TCP port that accepts connections and never says a word (a PostgreSQL that hangs)."""
    held: list[asyncio.StreamWriter] = []

    async def hold(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    yield server.sockets[0].getsockname()[1]
    server.close()
    for writer in held:
        writer.close()


async def test_a_connect_timeout_names_the_time_it_really_took(silent_server: int) -> None:
    # the connect timeout (1 s) is shorter than the statement's wait (3 s + 1 s grace)
    db = MetricsDatabase(
        f"postgresql://u:pw@127.0.0.1:{silent_server}/app",
        connect_timeout=1.0,
        statement_timeout=3.0,
        clock=wall_clock,
    )
    started = time.monotonic()
    try:
        result = await db.fetch(MetricsQuery((Interval(datetime.now(UTC), datetime.now(UTC)),)))
    finally:
        await db.close()
    took = time.monotonic() - started
    message = result.failed[Source.PERFORMANCE]
    said = re.search(r"timed out connecting after ([\d.]+)s", message)
    assert said, message
    assert "4s" not in message  # the wait it did not use
    assert float(said.group(1)) <= took + 0.05
    assert float(said.group(1)) >= 1.0


# --- nothing left running ---------------------------------------------------------------------


@pytest.fixture
async def locked_performance(seed_db: str) -> AsyncIterator[str]:
    holder = await asyncpg.connect(seed_db)
    transaction = holder.transaction()
    await transaction.start()
    await holder.execute("LOCK TABLE sync_performance_metrics IN ACCESS EXCLUSIVE MODE")
    yield seed_db
    await transaction.rollback()
    await holder.close()


@pytest.mark.database
async def test_a_statement_the_client_gave_up_on_is_not_left_running(
    locked_performance: str,
) -> None:
    # the server would wait 30 s for the lock; the client gives up after 0.5 s
    db = MetricsDatabase(locked_performance, statement_timeout=30.0, clock=wall_clock)
    end = datetime.now(UTC).replace(microsecond=0)
    query = HistoryQuery(frozenset({Source.PERFORMANCE}), end - timedelta(hours=1), end, 60)
    try:
        result = await db.fetch_history(query, timeout=0.5)
        message = result.failed[Source.PERFORMANCE]
        assert "no answer within 0.5s" in message
        # the backend was cancelled and closed with the client, not left waiting 30 s
        assert await wait_until(lambda: _nothing_running(locked_performance), timeout=5), (
            "still running"
        )
    finally:
        await db.close()


@pytest.mark.database
async def test_a_poll_of_the_most_windows_allowed_leaves_nothing_running_after_it(
    seed_db: str,
) -> None:
    db = MetricsDatabase(seed_db, statement_timeout=5.0, clock=wall_clock)
    end = datetime.now(UTC)
    intervals = tuple(
        Interval(end - timedelta(seconds=60 + i), end) for i in range(1, MAX_WINDOWS + 2)
    )
    try:
        result = await db.fetch(MetricsQuery(intervals))
        assert result.failed == {}
        assert result.statements == 3  # one per table, whatever the number of windows
        assert await wait_until(lambda: _nothing_running(seed_db), timeout=5)
    finally:
        await db.close()


async def _nothing_running(dsn: str) -> bool:
    return not await running_syncmon_statements(dsn)
