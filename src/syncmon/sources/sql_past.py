"""The statements about the past, built like the live ones (`sql.py`): one scan per table.

A since search (core/history.py) asks each table for per-bucket counts and sums over a longer
range (`history_*`); buckets are numbered by the epoch of the row's UTC instant. The alert
detail asks what changed at since (`changes_performance`): the episode against the equal
stretch before it, in one scan.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from syncmon.core.history import HISTOGRAM_BASE
from syncmon.sources.sql import FINITE, NUMERIC_READING, Statement, qualified, scan_range
from syncmon.sources.writer_clock import WriterClock


@dataclass(frozen=True)
class HistoryShape:
    """A since search's UTC range (naive) and its bucket width; `clock` as in `Shape`."""

    lo: datetime
    hi: datetime
    bucket_seconds: int
    histogram: bool = False
    health_types: tuple[str, ...] = ()
    plaid_pattern: str = "plaid%"
    schema: str = "public"
    p95_splits: tuple[int, ...] = ()  # each logarithmic bin is split at these (sorted)
    clock: WriterClock | None = None


def _history_rows(
    stmt: Statement, shape: HistoryShape, table: str, columns: str, where: str = ""
) -> str:
    bucket = stmt.bind(shape.bucket_seconds, "float8")
    scan, instant = scan_range(stmt, shape.lo, shape.hi, shape.clock)
    return (
        f"SELECT floor(extract(epoch FROM {instant}) / {bucket})::bigint AS k, {columns} "
        f"FROM {qualified(shape.schema, table)} WHERE {scan}{where}"
    )


def history_performance(shape: HistoryShape) -> Statement:
    """Per bucket: sync/Plaid counts and failures, the sum of sync durations, and (for p95
    rules) a histogram of sync durations in logarithmic bins, each split where a p95
    threshold falls (the key is `bin · (splits + 1) + splits at or below the duration`)."""
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
    bin_ = f"floor(ln(greatest(duration_ms, 1)) / {base})::int"
    if shape.p95_splits:
        parts = stmt.bind(len(shape.p95_splits) + 1, "int")
        splits = stmt.bind(list(shape.p95_splits), "int[]")
        bin_ = f"{bin_} * {parts} + width_bucket(duration_ms, {splits})"
    stmt.sql = f"""SELECT k, sum(st)::bigint AS st, sum(sf)::bigint AS sf, sum(pt)::bigint AS pt,
       sum(pf)::bigint AS pf, sum(ssum)::bigint AS ssum,
       json_agg(json_build_array(bin, st)) FILTER (WHERE bin IS NOT NULL AND st > 0) AS hist
FROM (SELECT k, CASE WHEN NOT plaid THEN {bin_} END AS bin,
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
        f"metric_type, {NUMERIC_READING} AS n",
        f" AND metric_type = ANY({types})",
    )
    stmt.sql = (
        f"SELECT k, metric_type, count(num) AS n, coalesce(sum(num), 0) AS total "
        f"FROM (SELECT k, metric_type, {FINITE} AS num FROM ({rows}) AS raw) AS r "
        "GROUP BY k, metric_type"
    )
    return stmt


@dataclass(frozen=True)
class ChangesShape:
    """An episode `[since, hi)` and the equal stretch before it `[lo, since)`: UTC bounds
    (naive), read through the writers' clock like every other statement."""

    lo: datetime
    since: datetime
    hi: datetime
    limit: int = 12
    schema: str = "public"
    clock: WriterClock | None = None


def changes_performance(shape: ChangesShape) -> Statement:
    """What changed at since (the detail screen): per `error_message` of failed operations
    and per `operation_type` (all and failed), the rows before and during the episode.
    Each list is its `limit` largest during the episode; one scan of both stretches."""
    stmt = Statement()
    where, instant = scan_range(stmt, shape.lo, shape.hi, shape.clock)
    since = stmt.bind(shape.since, "timestamp")
    limit = stmt.bind(shape.limit, "int")
    table = qualified(shape.schema, "sync_performance_metrics")
    rows = (
        f"SELECT {instant} >= {since} AS during, success, operation_type, "
        "CASE WHEN NOT success THEN left(coalesce(error_message, ''), 500) END AS message "
        f"FROM {table} WHERE {where}"
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
