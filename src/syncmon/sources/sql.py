"""Every SQL statement syncmon runs against the metrics tables, built in one place.

One statement per table per poll, whatever the number of rules and windows: the rows of
`[lo, hi)` (the union of every interval) are read once — by the index on `timestamp`
when there is one — and each interval is a set of `FILTER` aggregates over that single
scan. Chart buckets and top errors, which only the dashboard asks for, are scalar
subqueries over the same rows. Every value is a bound parameter; the statement's *shape*
(how many intervals, which extras) is all that varies, so asyncpg's prepared-statement
cache keeps one plan per shape.

The scan's bounds are `timestamp without time zone` in the writers' zone (the raw column
compared, so the scan stays on the index); every other bound is UTC, compared with the
row's instant `ts`, which `_instant` computes from the wall time across DST changes
(sources/writer_clock.py). In a zone without changes nearby `ts` is the column minus a
constant offset (the column itself in UTC).

The statements about the past — a since search's per-bucket sums and "what changed at
since" — are `sql_past.py`, built from the same pieces (`scan_range`, the reading rules).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from syncmon.sources.writer_clock import WriterClock


@dataclass
class Statement:
    """SQL text plus its arguments, numbered as they are bound."""

    sql: str = ""
    args: list[Any] = field(default_factory=list)

    def bind(self, value: Any, sql_type: str) -> str:
        self.args.append(value)
        return f"${len(self.args)}::{sql_type}"


def quote_ident(name: str) -> str:
    """A PostgreSQL identifier, always quoted: case, dots and quotes are kept literally."""
    return '"' + name.replace('"', '""') + '"'


def qualified(schema: str, table: str) -> str:
    """`"schema"."table"`: every statement names its table with its schema (SPEC §14)."""
    return f"{quote_ident(schema)}.{quote_ident(table)}"


@dataclass(frozen=True)
class Shape:
    """What one poll asks of a table: UTC bounds (naive); `clock` says how to scan and read
    the writers' wall time (None: the column holds UTC)."""

    lo: datetime
    hi: datetime
    intervals: tuple[tuple[datetime, datetime], ...]
    user_id: Any = None
    series_start: datetime | None = None
    series_step_seconds: float = 60.0
    top_errors: int = 0
    top_errors_since: datetime | None = None
    plaid_pattern: str = "plaid%"  # SQL LIKE pattern of Plaid operation_type values
    schema: str = "public"
    clock: WriterClock | None = None


# A row's transaction id at or after a fold switch (modulo 2^32, as PostgreSQL compares xids).
_AFTER_SWITCH = "((xmin::text::bigint - {switch}) & 4294967295) < 2147483648"


def _instant(stmt: Statement, clock: WriterClock | None) -> str:
    """The row's UTC instant (naive) from its wall time; see sources/writer_clock.py."""
    if clock is None or clock.identity:
        return "timestamp"
    if clock.exact:
        return f"(timestamp - {stmt.bind(clock.offset, 'interval')})"
    cases: list[str] = []
    for t in clock.transitions:
        at = t.at.replace(tzinfo=None)
        before = stmt.bind(t.before, "interval")
        cases.append(f"WHEN timestamp < {stmt.bind(at + t.after, 'timestamp')} THEN {before}")
        if t.repeated:  # the first pass of the repeated hour: written before the switch
            switch = clock.switches.get(t.at)
            second = (
                "false"
                if switch is None
                else _AFTER_SWITCH.format(switch=stmt.bind(switch, "bigint"))
            )
            end = stmt.bind(at + t.before, "timestamp")
            cases.append(f"WHEN timestamp < {end} AND NOT {second} THEN {before}")
    last = stmt.bind(clock.transitions[-1].after, "interval")
    return f"(timestamp - CASE {' '.join(cases)} ELSE {last} END)"


def scan_range(
    stmt: Statement, lo: datetime, hi: datetime, clock: WriterClock | None
) -> tuple[str, str]:
    """`(WHERE clause, instant expression)`: the scanned wall-time range, plus, when the
    scan holds rows of other instants (a repeated hour), the UTC range itself."""
    scan_lo, scan_hi = clock.scan if clock else (lo, hi)
    instant = _instant(stmt, clock)
    where = (
        f"timestamp >= {stmt.bind(scan_lo, 'timestamp')} "
        f"AND timestamp < {stmt.bind(scan_hi, 'timestamp')}"
    )
    if clock is not None and not clock.exact:
        where += (
            f" AND {instant} >= {stmt.bind(lo, 'timestamp')}"
            f" AND {instant} < {stmt.bind(hi, 'timestamp')}"
        )
    return where, instant


def _rows(stmt: Statement, shape: Shape, table: str, columns: str) -> str:
    """`columns` may name the row's instant as `{ts}`."""
    where, instant = scan_range(stmt, shape.lo, shape.hi, shape.clock)
    if shape.user_id is not None:
        where += f" AND user_id = {stmt.bind(shape.user_id, 'uuid')}"
    return (
        f"SELECT {columns.replace('{ts}', instant)} FROM {qualified(shape.schema, table)} "
        f"WHERE {where}"
    )


def _interval_filters(stmt: Statement, shape: Shape) -> list[str]:
    """Per-interval conditions; an interval that is the whole scan needs none (the common
    case of one window and no history: the statement is then the hand-written one)."""
    exact = shape.clock is None or shape.clock.exact
    return [
        "true"
        if exact and (lo, hi) == (shape.lo, shape.hi)
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
        f"{{ts}} AS ts, operation_type LIKE {plaid} AS plaid, success, duration_ms"
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
        # the exact sum (integer milliseconds), so the mean compares exactly (SPEC §15)
        _per_interval("sum(duration_ms) FILTER (WHERE NOT plaid AND {f})", f, "bigint")
        + " AS sync_sum_ms",
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
        "{ts} AS ts, coalesce(auto_resolved, false) AS auto",
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
NUMERIC_READING = """CASE jsonb_typeof(metric_value)
             WHEN 'number' THEN metric_value #>> '{}'
             WHEN 'object' THEN CASE WHEN jsonb_typeof(metric_value -> 'value') = 'number'
                                     THEN metric_value ->> 'value' END
           END"""
FINITE = """CASE WHEN length(n) <= 300 THEN n::float8
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
        f"{{ts}} AS ts, metric_type, left(metric_value::text, 200) AS raw, {NUMERIC_READING} AS n",
    )
    f = _interval_filters(stmt, shape)
    stmt.sql = (
        "SELECT metric_type, "
        + _per_interval("count(num) FILTER (WHERE {f})", f, "bigint")
        + " AS numeric_samples, "
        + _per_interval("avg(num) FILTER (WHERE {f})", f, "float8")
        + " AS mean, "
        + "(array_agg(raw ORDER BY ts DESC))[1] AS latest\n"
        + f"FROM (SELECT *, {FINITE} AS num FROM ({rows}) AS raw) AS r GROUP BY metric_type"
    )
    return stmt


def fold_switch(
    table: str, repeated: tuple[datetime, datetime], drop: timedelta, edge: timedelta | None
) -> Statement:
    """The first transaction id, in write order, of a repeated hour's second pass: the first
    row whose wall time lies more than `drop` below that of a row written before it (the
    clock went back). With `edge`, only the rows within `edge` of the hour's start and end
    are read: the last of the first pass and the first of the second meet there, so a busy
    table's answer costs a third of the hour. Once per table and change."""
    stmt = Statement()
    lo, hi = stmt.bind(repeated[0], "timestamp"), stmt.bind(repeated[1], "timestamp")
    where = f"timestamp >= {lo} AND timestamp < {hi}"
    if edge is not None:
        head = stmt.bind(repeated[0] + edge, "timestamp")
        tail = stmt.bind(repeated[1] - edge, "timestamp")
        where += f" AND (timestamp < {head} OR timestamp >= {tail})"
    stmt.sql = f"""SELECT x FROM (
    SELECT xmin::text::bigint AS x, age(xmin) AS a, timestamp AS ts,
           max(timestamp) OVER (ORDER BY age(xmin) DESC
                                ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS seen
    FROM {table} WHERE {where}) AS r
WHERE ts < seen - {stmt.bind(drop, "interval")} ORDER BY a DESC LIMIT 1"""
    return stmt


def with_newest(stmt: Statement, table: str, after: datetime, horizon: timedelta) -> Statement:
    """`stmt`'s rows, each with the newest wall time stamped in (after, after + horizon] and
    the database's `now()` (one row of NULLs and both when `stmt` has no row): rows from the
    future are the writers' clock running ahead. Beyond the horizon a stray row is ignored."""
    start = stmt.bind(after, "timestamp")
    end = stmt.bind(after + horizon, "timestamp")
    stmt.sql = f"""WITH main AS ({stmt.sql})
SELECT main.*, ahead.newest, ahead.db_now
FROM (SELECT (SELECT max(timestamp) FROM {table}
              WHERE timestamp > {start} AND timestamp <= {end}) AS newest,
             statement_timestamp() AS db_now) AS ahead
LEFT JOIN main ON true"""
    return stmt
