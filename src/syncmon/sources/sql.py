"""Every SQL statement syncmon runs against the metrics tables, built in one place.

One statement per table per poll, whatever the number of rules and windows: the rows of
`[lo, hi)` (the union of every interval) are read once — by the index on `timestamp`
when there is one — and each interval is a set of `FILTER` aggregates over that single
scan. Chart buckets and top errors, which only the dashboard asks for, are scalar
subqueries over the same rows. Every value is a bound parameter; the statement's *shape*
(how many intervals, which extras) is all that varies, so asyncpg's prepared-statement
cache keeps one plan per shape.

Bounds are passed as `timestamp without time zone` in the writers' zone, converted by the
caller: comparing raw column values keeps the scan on the index and costs nothing per row.

A since search (core/history.py) asks each table once more for per-bucket counts and sums
over a longer range: `history_*` below. Buckets are numbered by the local timestamp's
epoch; the caller maps them to UTC (exact, since bucket widths divide 15 minutes).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from syncmon.core.history import HISTOGRAM_BASE


@dataclass
class Statement:
    """SQL text plus its arguments, numbered as they are bound."""

    sql: str = ""
    args: list[Any] = field(default_factory=list)

    def bind(self, value: Any, sql_type: str) -> str:
        self.args.append(value)
        return f"${len(self.args)}::{sql_type}"


@dataclass(frozen=True)
class Shape:
    """What one poll asks of a table, in local (writer-zone) timestamps."""

    lo: datetime
    hi: datetime
    intervals: tuple[tuple[datetime, datetime], ...]
    user_id: Any = None
    series_start: datetime | None = None
    series_step_seconds: float = 60.0
    top_errors: int = 0
    top_errors_since: datetime | None = None
    plaid_pattern: str = "plaid%"  # SQL LIKE pattern of Plaid operation_type values


def _rows(stmt: Statement, shape: Shape, table: str, columns: str) -> str:
    where = (
        f"timestamp >= {stmt.bind(shape.lo, 'timestamp')} "
        f"AND timestamp < {stmt.bind(shape.hi, 'timestamp')}"
    )
    if shape.user_id is not None:
        where += f" AND user_id = {stmt.bind(shape.user_id, 'uuid')}"
    return f"SELECT {columns} FROM {table} WHERE {where}"


def _interval_filters(stmt: Statement, shape: Shape) -> list[str]:
    """Per-interval conditions; an interval that is the whole scan needs none (the common
    case of one window and no history: the statement is then the hand-written one)."""
    return [
        "true"
        if (lo, hi) == (shape.lo, shape.hi)
        else f"ts >= {stmt.bind(lo, 'timestamp')} AND ts < {stmt.bind(hi, 'timestamp')}"
        for lo, hi in shape.intervals
    ]


def _per_interval(template: str, filters: list[str], sql_type: str) -> str:
    """`ARRAY[agg FILTER (WHERE <interval 1>), …]` for an aggregate with a `{f}` slot."""
    return "ARRAY[" + ", ".join(template.format(f=f) for f in filters) + f"]::{sql_type}[]"


def _bucket(stmt: Statement, shape: Shape) -> tuple[str, str]:
    start = stmt.bind(shape.series_start, "timestamp")
    step = stmt.bind(shape.series_step_seconds, "float8")
    return f"floor(extract(epoch FROM ts - {start}) / {step})::int", f"ts >= {start}"


def performance(shape: Shape) -> Statement:
    """`sync_performance_metrics`: per interval sync/Plaid counts, failures, avg and p95."""
    stmt = Statement()
    plaid = stmt.bind(shape.plaid_pattern, "text")
    extras = shape.series_start is not None or shape.top_errors > 0
    message = ", CASE WHEN NOT success THEN left(error_message, 500) END AS error_message"
    rows = _rows(
        stmt,
        shape,
        "sync_performance_metrics",
        f"timestamp AS ts, operation_type LIKE {plaid} AS plaid, success, duration_ms"
        + (message if extras else ""),
    )
    f = _interval_filters(stmt, shape)
    columns = [
        _per_interval("count(*) FILTER (WHERE NOT plaid AND {f})", f, "bigint") + " AS sync_total",
        _per_interval("count(*) FILTER (WHERE NOT plaid AND NOT success AND {f})", f, "bigint")
        + " AS sync_failed",
        _per_interval("count(*) FILTER (WHERE plaid AND {f})", f, "bigint") + " AS plaid_total",
        _per_interval("count(*) FILTER (WHERE plaid AND NOT success AND {f})", f, "bigint")
        + " AS plaid_failed",
        _per_interval("avg(duration_ms) FILTER (WHERE NOT plaid AND {f})", f, "float8")
        + " AS sync_avg_ms",
        _per_interval(
            "percentile_cont(0.95) WITHIN GROUP (ORDER BY duration_ms)"
            " FILTER (WHERE NOT plaid AND {f})",
            f,
            "float8",
        )
        + " AS sync_p95_ms",
    ]
    if shape.series_start is not None:
        bucket, since = _bucket(stmt, shape)
        columns.append(f"""(SELECT json_agg(json_build_array(b, st, sf, pt, pf, av, p95))
        FROM (SELECT {bucket} AS b,
                     count(*) FILTER (WHERE NOT plaid) AS st,
                     count(*) FILTER (WHERE NOT plaid AND NOT success) AS sf,
                     count(*) FILTER (WHERE plaid) AS pt,
                     count(*) FILTER (WHERE plaid AND NOT success) AS pf,
                     avg(duration_ms) FILTER (WHERE NOT plaid) AS av,
                     percentile_cont(0.95) WITHIN GROUP (ORDER BY duration_ms)
                         FILTER (WHERE NOT plaid) AS p95
              FROM r WHERE {since} GROUP BY 1) AS buckets) AS buckets""")
    if shape.top_errors > 0:
        since = stmt.bind(shape.top_errors_since or shape.lo, "timestamp")
        limit = stmt.bind(shape.top_errors, "int")
        columns.append(f"""(SELECT json_agg(json_build_array(message, n))
        FROM (SELECT coalesce(error_message, '') AS message, count(*) AS n
              FROM r WHERE NOT success AND ts >= {since}
              GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT {limit}) AS top) AS top_errors""")
    select = "SELECT " + ",\n       ".join(columns)
    if extras:
        stmt.sql = f"WITH r AS MATERIALIZED ({rows})\n{select}\nFROM r"
    else:
        stmt.sql = f"{select}\nFROM ({rows}) AS r"
    return stmt


def conflicts(shape: Shape) -> Statement:
    """`conflict_resolution_history`: per interval all rows and auto-resolved rows."""
    stmt = Statement()
    rows = _rows(
        stmt,
        shape,
        "conflict_resolution_history",
        "timestamp AS ts, coalesce(auto_resolved, false) AS auto",
    )
    f = _interval_filters(stmt, shape)
    columns = [
        _per_interval("count(*) FILTER (WHERE {f})", f, "bigint") + " AS total",
        _per_interval("count(*) FILTER (WHERE auto AND {f})", f, "bigint") + " AS auto_resolved",
    ]
    if shape.series_start is not None:
        bucket, since = _bucket(stmt, shape)
        columns.append(f"""(SELECT json_agg(json_build_array(b, n, a))
        FROM (SELECT {bucket} AS b, count(*) AS n, count(*) FILTER (WHERE auto) AS a
              FROM r WHERE {since} GROUP BY 1) AS buckets) AS buckets""")
        head = f"WITH r AS MATERIALIZED ({rows})\n"
        source = "r"
    else:
        head, source = "", f"({rows}) AS r"
    stmt.sql = f"{head}SELECT {', '.join(columns)}\nFROM {source}"
    return stmt


# A reading is numeric when metric_value is a JSON number or an object with a numeric
# "value"; anything else still counts as the latest reading (shown) but not in the mean.
# jsonb prints numbers in plain decimal (never 1e400), so a text of at most 300 characters
# is within a double's range; only a longer one takes the slower exact path, where a number
# beyond a double (1e400) is that value's problem (ignored), not an error that makes the
# whole table unreadable. Bounded at 1e300 so sums of readings cannot overflow either.
_NUMERIC_READING = """CASE jsonb_typeof(metric_value)
             WHEN 'number' THEN metric_value #>> '{}'
             WHEN 'object' THEN CASE WHEN jsonb_typeof(metric_value -> 'value') = 'number'
                                     THEN metric_value ->> 'value' END
           END"""
_FINITE = """CASE WHEN length(n) <= 300 THEN n::float8
             WHEN abs(n::numeric) > 1e300 THEN NULL
             WHEN abs(n::numeric) < 1e-300 THEN 0
             ELSE n::numeric::float8 END"""


def health(shape: Shape) -> Statement:
    """`sync_health_metrics`: per metric_type and interval, numeric count and mean."""
    stmt = Statement()
    rows = _rows(
        stmt,
        shape,
        "sync_health_metrics",
        f"timestamp AS ts, metric_type, left(metric_value::text, 200) AS raw, "
        f"{_NUMERIC_READING} AS n",
    )
    f = _interval_filters(stmt, shape)
    stmt.sql = (
        "SELECT metric_type, "
        + _per_interval("count(num) FILTER (WHERE {f})", f, "bigint")
        + " AS numeric_samples, "
        + _per_interval("avg(num) FILTER (WHERE {f})", f, "float8")
        + " AS mean, "
        + "(array_agg(raw ORDER BY ts DESC))[1] AS latest\n"
        + f"FROM (SELECT *, {_FINITE} AS num FROM ({rows}) AS raw) AS r GROUP BY metric_type"
    )
    return stmt


@dataclass(frozen=True)
class HistoryShape:
    """A since search's range in local (writer-zone) timestamps and its bucket width."""

    lo: datetime
    hi: datetime
    bucket_seconds: int
    histogram: bool = False
    health_types: tuple[str, ...] = ()
    plaid_pattern: str = "plaid%"


def _history_rows(
    stmt: Statement, shape: HistoryShape, table: str, columns: str, where: str = ""
) -> str:
    bucket = stmt.bind(shape.bucket_seconds, "float8")
    return (
        f"SELECT floor(extract(epoch FROM timestamp) / {bucket})::bigint AS k, {columns} "
        f"FROM {table} WHERE timestamp >= {stmt.bind(shape.lo, 'timestamp')} "
        f"AND timestamp < {stmt.bind(shape.hi, 'timestamp')}{where}"
    )


def history_performance(shape: HistoryShape) -> Statement:
    """Per bucket: sync/Plaid counts and failures, the sum of sync durations, and (for p95
    rules) a histogram of sync durations in logarithmic bins."""
    stmt = Statement()
    plaid = stmt.bind(shape.plaid_pattern, "text")
    rows = _history_rows(
        stmt,
        shape,
        "sync_performance_metrics",
        f"operation_type LIKE {plaid} AS plaid, success, duration_ms",
    )
    counts = """count(*) FILTER (WHERE NOT plaid) AS st,
           count(*) FILTER (WHERE NOT plaid AND NOT success) AS sf,
           count(*) FILTER (WHERE plaid) AS pt,
           count(*) FILTER (WHERE plaid AND NOT success) AS pf,
           coalesce(sum(duration_ms) FILTER (WHERE NOT plaid), 0)::bigint AS ssum"""
    if not shape.histogram:
        stmt.sql = f"SELECT k, {counts}, NULL::json AS hist FROM ({rows}) AS r GROUP BY k"
        return stmt
    base = stmt.bind(math.log(HISTOGRAM_BASE), "float8")
    stmt.sql = f"""SELECT k, sum(st)::bigint AS st, sum(sf)::bigint AS sf, sum(pt)::bigint AS pt,
       sum(pf)::bigint AS pf, sum(ssum)::bigint AS ssum,
       json_agg(json_build_array(bin, st)) FILTER (WHERE bin IS NOT NULL AND st > 0) AS hist
FROM (SELECT k, CASE WHEN NOT plaid
                     THEN floor(ln(greatest(duration_ms, 1)) / {base})::int END AS bin,
             {counts}
      FROM ({rows}) AS r GROUP BY k, bin) AS g
GROUP BY k"""
    return stmt


def history_conflicts(shape: HistoryShape) -> Statement:
    """Per bucket: all rows and auto-resolved rows."""
    stmt = Statement()
    rows = _history_rows(
        stmt, shape, "conflict_resolution_history", "coalesce(auto_resolved, false) AS auto"
    )
    stmt.sql = (
        "SELECT k, count(*) AS total, count(*) FILTER (WHERE auto) AS auto_resolved "
        f"FROM ({rows}) AS r GROUP BY k"
    )
    return stmt


def history_health(shape: HistoryShape) -> Statement:
    """Per bucket and metric_type named by a rule: numeric readings and their sum."""
    stmt = Statement()
    types = stmt.bind(list(shape.health_types), "text[]")
    rows = _history_rows(
        stmt,
        shape,
        "sync_health_metrics",
        f"metric_type, {_NUMERIC_READING} AS n",
        f" AND metric_type = ANY({types})",
    )
    stmt.sql = (
        f"SELECT k, metric_type, count(num) AS n, coalesce(sum(num), 0) AS total "
        f"FROM (SELECT k, metric_type, {_FINITE} AS num FROM ({rows}) AS raw) AS r "
        "GROUP BY k, metric_type"
    )
    return stmt


@dataclass(frozen=True)
class ChangesShape:
    """An episode `[since, hi)` and the equal stretch before it `[lo, since)`, local time."""

    lo: datetime
    since: datetime
    hi: datetime
    limit: int = 12


def changes_performance(shape: ChangesShape) -> Statement:
    """What changed at since (the detail screen): per `error_message` of failed operations
    and per `operation_type` (all and failed), the rows before and during the episode.
    Each list is its `limit` largest during the episode; one scan of both stretches."""
    stmt = Statement()
    lo, hi = stmt.bind(shape.lo, "timestamp"), stmt.bind(shape.hi, "timestamp")
    since = stmt.bind(shape.since, "timestamp")
    limit = stmt.bind(shape.limit, "int")
    rows = (
        f"SELECT timestamp >= {since} AS during, success, operation_type, "
        "CASE WHEN NOT success THEN left(coalesce(error_message, ''), 500) END AS message "
        f"FROM sync_performance_metrics WHERE timestamp >= {lo} AND timestamp < {hi}"
    )
    counts = """count(*) FILTER (WHERE NOT during) AS before,
            count(*) FILTER (WHERE during) AS during_n"""
    failed = """count(*) FILTER (WHERE NOT during AND NOT success) AS failed_before,
            count(*) FILTER (WHERE during AND NOT success) AS failed_during"""
    stmt.sql = f"""WITH r AS MATERIALIZED ({rows})
(SELECT 'message' AS kind, message AS key, {counts}, {failed}
   FROM r WHERE NOT success GROUP BY message
   ORDER BY during_n DESC, before DESC, message LIMIT {limit})
UNION ALL
(SELECT 'operation', operation_type, {counts}, {failed}
   FROM r GROUP BY operation_type
   ORDER BY during_n DESC, before DESC, operation_type LIMIT {limit})"""
    return stmt
