"""The statements' shapes: few bound parameters whatever the rules (asyncpg allows 32,767)."""

from __future__ import annotations

from datetime import datetime, timedelta

from syncmon.sources import sql, sql_past

NOW = datetime(2026, 11, 27, 3, 0)


def test_a_poll_binds_a_handful_of_parameters_per_window_and_none_per_for() -> None:
    windows = [timedelta(minutes=m) for m in (1, 5, 15, 60, 360, 1440)]
    shape = sql.Shape(
        lo=NOW - max(windows),
        hi=NOW,
        intervals=tuple((NOW - w, NOW) for w in windows),
        series_start=NOW - timedelta(hours=1),
        top_errors=5,
        top_errors_since=NOW - timedelta(minutes=5),
    )
    for statement in (sql.performance(shape), sql.conflicts(shape), sql.health(shape)):
        assert len(statement.args) <= 2 * len(windows) + 8, statement.sql


def test_a_history_chunk_binds_the_same_few_parameters_for_any_range() -> None:
    for span in (timedelta(minutes=7), timedelta(days=7)):
        shape = sql_past.HistoryShape(NOW - span, NOW, 30, histogram=True, health_types=("a", "b"))
        statements = (
            sql_past.history_performance(shape),
            sql_past.history_conflicts(shape),
            sql_past.history_health(shape),
        )
        assert [len(s.args) for s in statements] == [5, 3, 4]
