"""Metrics from a real PostgreSQL (SPEC §1.1, §2): exact values from rows the test wrote."""

from __future__ import annotations

import random
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import SecretStr

from syncmon.config.settings import Overrides, Settings, resolve_settings
from syncmon.core.clock import wall_clock
from syncmon.core.metrics import MetricValue, Source
from syncmon.engine.poll import Engine, PollRequest
from syncmon.sources.database import MetricsDatabase
from syncmon.sources.queries import Interval, MetricsQuery
from tests.conftest import PgServer, create_database, drop_database
from tests.integration.rows import (
    Op,
    expected_metrics,
    insert_conflict_history,
    insert_health_readings,
    insert_operations,
    random_operations,
)

pytestmark = pytest.mark.database


def settings_for(dsn: str, tmp_path: Path, extra: str = "") -> Settings:
    path = tmp_path / "alerts.yaml"
    path.write_text("alerts: []\n" + extra)
    return resolve_settings(Overrides(config=str(path), dsn=SecretStr(dsn)), {})


def assert_metrics(
    actual: Mapping[str, MetricValue], expected: Mapping[str, tuple[float | None, int]]
) -> None:
    for name, (value, samples) in expected.items():
        metric = actual[name]
        assert metric.samples == samples, name
        if value is None:
            assert metric.value is None, name
        else:
            assert metric.value == pytest.approx(value, rel=1e-9), name


async def test_every_window_metric_is_exact(seed_db: str, tmp_path: Path) -> None:
    rng = random.Random(7)
    ops = (
        random_operations(rng, 400, within=300, failure=0.07)
        + random_operations(rng, 600, within=3600, failure=0.01)
        + [Op(30, "plaid_link", 400, False, "ITEM_LOGIN_REQUIRED")]
    )
    await insert_operations(seed_db, ops)
    async with Engine(settings_for(seed_db, tmp_path)) as engine:
        for window in (timedelta(minutes=5), timedelta(minutes=15), timedelta(hours=1)):
            snapshot = await engine.poll(PollRequest(display_window=window))
            assert snapshot.failed == {Source.ENDPOINTS: snapshot.failed[Source.ENDPOINTS]}
            assert_metrics(snapshot.display_metrics, expected_metrics(ops, window.total_seconds()))
            assert snapshot.statements == 3


async def test_zero_rows_give_null_not_zero(seed_db: str, tmp_path: Path) -> None:
    async with Engine(settings_for(seed_db, tmp_path)) as engine:
        metrics = (await engine.poll()).display_metrics
    for name in (
        "sync_failure_rate",
        "plaid_error_rate",
        "error_rate",
        "avg_sync_duration",
        "p95_sync_duration",
        "conflict_auto_resolve_rate",
    ):
        assert metrics[name].value is None and metrics[name].samples == 0, name
    assert metrics["sync_throughput"].value == 0


async def test_plaid_pattern_is_configurable_and_bound(seed_db: str, tmp_path: Path) -> None:
    ops = [
        Op(20, "bank_link", 100, False),
        Op(20, "bank_link", 100, True),
        Op(20, "plaid_tx", 100, False),
        Op(20, "sync_push", 100, True),
    ]
    await insert_operations(seed_db, ops)
    extra = 'sources:\n  database:\n    plaid_operation_pattern: "bank%\'; DROP TABLE x; --"\n'
    async with Engine(settings_for(seed_db, tmp_path, extra)) as engine:
        metrics = (await engine.poll()).display_metrics
    assert metrics["plaid_error_rate"].samples == 0  # nothing matches the odd pattern literally
    extra = "sources:\n  database:\n    plaid_operation_pattern: 'bank%'\n"
    async with Engine(settings_for(seed_db, tmp_path, extra)) as engine:
        metrics = (await engine.poll()).display_metrics
    assert (metrics["plaid_error_rate"].value, metrics["plaid_error_rate"].samples) == (0.5, 2)
    assert metrics["sync_failure_rate"].samples == 2  # plaid_tx is a sync op under this pattern


async def test_conflict_and_health_table_metrics(seed_db: str, tmp_path: Path) -> None:
    await insert_conflict_history(
        seed_db, [(10, True)] * 8 + [(10, False), (10, None)] + [(900, False)] * 5
    )
    await insert_health_readings(
        seed_db,
        [
            (10, "offline_queue_size", 10),
            (20, "offline_queue_size", {"value": 20, "unit": "items"}),
            (30, "offline_queue_size", {"state": "draining"}),
            (40, "offline_queue_size", "full"),
            (50, "battery_level", 0.5),
            (4000, "battery_level", 0.1),
        ],
    )
    async with Engine(settings_for(seed_db, tmp_path)) as engine:
        metrics = (await engine.poll()).display_metrics
    auto = metrics["conflict_auto_resolve_rate"]
    assert auto.value == pytest.approx(0.8) and auto.samples == 10
    queue = metrics["health.offline_queue_size"]
    assert (queue.value, queue.samples) == (15.0, 2)
    assert (metrics["health.battery_level"].value, metrics["health.battery_level"].samples) == (
        0.5,
        1,
    )


async def test_user_filter(seed_db: str, tmp_path: Path) -> None:
    alice = uuid.uuid4()
    ops = [
        Op(10, "sync_push", 100, False, user_id=alice),
        Op(10, "sync_push", 300, True),
        Op(10, "sync_push", 500, True, user_id=alice),
    ]
    await insert_operations(seed_db, ops)
    async with Engine(settings_for(seed_db, tmp_path)) as engine:
        metrics = (await engine.poll(PollRequest(user_id=alice))).display_metrics
    assert metrics["sync_failure_rate"].value == 0.5
    assert metrics["avg_sync_duration"].value == 300


async def test_many_windows_and_for_cost_three_statements(seed_db: str, tmp_path: Path) -> None:
    rules = "".join(
        f"  - {{name: r{i}, condition: 'error_rate > {i}%', severity: info,"
        f" window: {w}, for: {f}}}\n"
        for i, (w, f) in enumerate(
            [(w, f) for w in ("1m", "5m", "15m", "1h", "6h") for f in ("0s", "2m", "10m", "30s")]
        )
    )
    path = tmp_path / "many.yaml"
    path.write_text("alerts:\n" + rules)
    settings = resolve_settings(Overrides(config=str(path), dsn=SecretStr(seed_db)), {})
    assert len(settings.rules) == 20
    async with Engine(settings) as engine:
        snapshot = await engine.poll(PollRequest())
    assert snapshot.statements == 3
    # one entry per window; `for` costs the poll nothing (history is a separate search)
    assert sorted(snapshot.metrics) == [60, 300, 900, 3600, 21600]


async def test_chart_buckets_and_top_errors(seed_db: str, tmp_path: Path) -> None:
    ops = (
        [Op(90, "sync_push", 100, False, "timeout")] * 3
        + [Op(150, "sync_push", 100, False, "HTTP 503")]
        + [Op(30, "sync_pull", 200, True)] * 2
    )
    await insert_operations(seed_db, ops)
    async with Engine(settings_for(seed_db, tmp_path)) as engine:
        snapshot = await engine.poll(
            PollRequest(chart_span=timedelta(minutes=10), chart_buckets=10, top_errors=5)
        )
    assert snapshot.top_errors == [("timeout", 3), ("HTTP 503", 1)]
    assert snapshot.chart is not None
    totals = [b.sync_total if b else 0 for b in snapshot.chart.performance]
    assert sum(totals) == 6
    assert totals[-1] == 2 and totals[-2] == 3 and totals[-3] == 1


async def test_database_time_zone_is_respected(pg_server: PgServer, tmp_path: Path) -> None:
    """Rows written by NOW() in New York must be found whatever zone syncmon runs in."""
    dsn = await create_database(pg_server, timezone="America/New_York")
    try:
        ops = random_operations(random.Random(3), 50, within=300, failure=0.1)
        await insert_operations(dsn, ops)
        async with Engine(settings_for(dsn, tmp_path)) as engine:
            metrics = (await engine.poll()).display_metrics
        assert_metrics(metrics, expected_metrics(ops, 300))
    finally:
        await drop_database(pg_server, dsn)


async def test_timestamp_timezone_override(seed_db: str, tmp_path: Path) -> None:
    """Writers in Europe/Berlin, database TimeZone UTC: the override makes the window right."""
    ops = [Op(60, "sync_push", 100, True)] * 20
    await insert_operations(seed_db, ops, writer_zone="Europe/Berlin")
    async with Engine(settings_for(seed_db, tmp_path)) as engine:
        naive = await engine.poll()
    # read as UTC, they look an hour in the future: still read (never an empty table), and
    # named as the zone it most likely is
    assert naive.display_metrics["sync_throughput"].samples == 20
    [note] = naive.notes.values()
    assert "newest row is 59m ahead of the database's now()" in note  # a minute-old row
    assert "set database.timestamp_timezone" in note
    extra = "sources:\n  database:\n    timestamp_timezone: Europe/Berlin\n"
    async with Engine(settings_for(seed_db, tmp_path, extra)) as engine:
        right = await engine.poll()
    assert right.display_metrics["sync_throughput"].samples == 20 and not right.notes


async def test_post_mortem_windows_end_at_the_given_moment(seed_db: str, tmp_path: Path) -> None:
    ops = [Op(7200 + s, "sync_push", 100, False) for s in range(10, 250, 10)] + [
        Op(s, "sync_push", 100, True) for s in range(10, 250, 10)
    ]
    await insert_operations(seed_db, ops)
    async with Engine(settings_for(seed_db, tmp_path)) as engine:
        then = await engine.poll(PollRequest(at=datetime.now(UTC) - timedelta(hours=2)))
    assert then.display_metrics["sync_failure_rate"].value == 1.0
    assert then.display_metrics["sync_failure_rate"].samples == 24
    assert then.endpoints is None
    assert Source.ENDPOINTS in then.unavailable


async def test_missing_table_fails_only_that_source(pg_server: PgServer) -> None:
    dsn = await create_database(pg_server, schema=False)
    try:
        import asyncpg

        conn = await asyncpg.connect(dsn)
        await conn.execute(
            "CREATE TABLE sync_performance_metrics (id uuid, user_id uuid,"
            " operation_type text, duration_ms int, success bool,"
            " error_message text, timestamp timestamp)"
        )
        await conn.close()
        db = MetricsDatabase(dsn, clock=wall_clock)
        now = datetime.now(UTC)
        result = await db.fetch(MetricsQuery((Interval(now - timedelta(minutes=5), now),)))
        await db.close()
        assert set(result.failed) == {Source.CONFLICTS, Source.HEALTH_TABLE}
        assert "conflict_resolution_history" in result.failed[Source.CONFLICTS]
        assert "does not exist" in result.failed[Source.CONFLICTS]
        assert result.performance is not None and len(result.performance.windows) == 1
    finally:
        await drop_database(pg_server, dsn)


async def test_numbers_beyond_a_double_are_that_readings_problem_not_the_tables(
    seed_db: str, tmp_path: Path
) -> None:
    """One `{"value": 1e400}` row used to make the whole table unreadable (SPEC §12)."""
    import asyncpg

    conn = await asyncpg.connect(seed_db)
    await conn.executemany(
        "INSERT INTO sync_health_metrics (user_id, sync_session_id, metric_type, metric_value,"
        " timestamp) VALUES (gen_random_uuid(), gen_random_uuid(), 'queue_depth', $1::jsonb,"
        " localtimestamp - interval '30 seconds')",
        [
            ('{"value": 1e400}',),
            ("-1e400",),
            ("1e-400",),  # below a double's smallest: reads as 0
            ("0." + "0" * 320 + "5",),
            ("12",),
            ('{"value": 30}',),
        ],
    )
    await conn.close()
    extra = "  - {name: q, condition: 'health.queue_depth > 10', severity: info, min_samples: 1}\n"
    path = tmp_path / "q.yaml"
    path.write_text("alerts:\n" + extra)
    settings = resolve_settings(Overrides(config=str(path), dsn=SecretStr(seed_db)), {})
    async with Engine(settings) as engine:
        snapshot = await engine.poll()
        found = await engine.find_since(settings.rules, snapshot.evaluated_at)
    assert Source.HEALTH_TABLE not in snapshot.failed
    queue = snapshot.display_metrics["health.queue_depth"]
    # 12, 30, and two readings too small for a double (0): four numbers, mean 10.5
    assert queue.samples == 4 and queue.value == pytest.approx(10.5)
    assert not isinstance(found["q"], str)  # the history reads the same rows without error
