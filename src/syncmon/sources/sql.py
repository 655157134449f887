"""Every SQL statement syncmon runs, in one place. Parameters are always bound, never formatted.

One statement per table per poll, whatever the number of rules and windows: the rows of the
union of all intervals are read once (`r`, bounded by `$1..$2` so an index on `timestamp`
is used), then each interval is an aggregate over a join, each chart bucket an arithmetic
group. The `timestamp` columns are local times of the writers' zone; we convert our bounds
into that zone (`$3`, default the session's `TimeZone`) instead of converting every row,
which would defeat the index.
"""

from __future__ import annotations

# $1 lower bound of all intervals, $2 upper bound (timestamptz); $3 zone of the timestamps
# (NULL: the database's TimeZone); $4 user_id filter (NULL: everyone).
_ZONE = "coalesce($3::text, current_setting('TimeZone'))"
_IN_RANGE = (
    f"timestamp >= ($1::timestamptz AT TIME ZONE {_ZONE}) "
    f"AND timestamp < ($2::timestamptz AT TIME ZONE {_ZONE}) "
    "AND ($4::uuid IS NULL OR user_id = $4::uuid)"
)
# $5/$6: arrays of interval starts/ends (timestamptz), evaluated as [start, end).
_INTERVALS = f"""
w AS (
    SELECT i.idx::int AS idx,
           i.lo AT TIME ZONE {_ZONE} AS lo,
           i.hi AT TIME ZONE {_ZONE} AS hi
    FROM unnest($5::timestamptz[], $6::timestamptz[]) WITH ORDINALITY AS i(lo, hi, idx)
)"""
# $7 first bucket start (NULL: no series), $8 bucket width in seconds.
_BUCKET = f"floor(extract(epoch FROM r.ts - ($7::timestamptz AT TIME ZONE {_ZONE})) / $8::float8)"

_PERFORMANCE_AGGREGATES = """
    count(*) FILTER (WHERE NOT r.plaid) AS sync_total,
    count(*) FILTER (WHERE NOT r.plaid AND NOT r.success) AS sync_failed,
    count(*) FILTER (WHERE r.plaid) AS plaid_total,
    count(*) FILTER (WHERE r.plaid AND NOT r.success) AS plaid_failed,
    (avg(r.duration_ms) FILTER (WHERE NOT r.plaid))::float8 AS sync_avg_ms,
    percentile_cont(0.95) WITHIN GROUP (ORDER BY r.duration_ms)
        FILTER (WHERE NOT r.plaid) AS sync_p95_ms"""

# $9: for `$10` > 0, the top-N error messages of failed operations since $9.
PERFORMANCE = f"""
WITH r AS MATERIALIZED (
    SELECT timestamp AS ts,
           operation_type LIKE $11::text AS plaid,
           success,
           duration_ms,
           CASE WHEN NOT success THEN left(error_message, 500) END AS error_message
    FROM sync_performance_metrics
    WHERE {_IN_RANGE}
),{_INTERVALS}
SELECT 'window' AS kind, w.idx AS idx,{_PERFORMANCE_AGGREGATES},
    NULL::text AS message
FROM w LEFT JOIN r ON r.ts >= w.lo AND r.ts < w.hi
GROUP BY w.idx
UNION ALL
SELECT 'bucket', {_BUCKET}::int,{_PERFORMANCE_AGGREGATES},
    NULL::text
FROM r
WHERE $7::timestamptz IS NOT NULL AND r.ts >= ($7::timestamptz AT TIME ZONE {_ZONE})
GROUP BY 2
UNION ALL
(SELECT 'error', 0, count(*), 0, 0, 0, NULL::float8, NULL::float8,
        coalesce(r.error_message, '')
 FROM r
 WHERE $10::int > 0 AND NOT r.success AND r.ts >= ($9::timestamptz AT TIME ZONE {_ZONE})
 GROUP BY r.error_message
 ORDER BY count(*) DESC, coalesce(r.error_message, '')
 LIMIT $10::int)
"""

CONFLICTS = f"""
WITH r AS MATERIALIZED (
    SELECT timestamp AS ts, coalesce(auto_resolved, false) AS auto
    FROM conflict_resolution_history
    WHERE {_IN_RANGE}
),{_INTERVALS}
SELECT 'window' AS kind, w.idx AS idx,
       count(r.ts) AS total, count(*) FILTER (WHERE r.auto) AS auto_resolved
FROM w LEFT JOIN r ON r.ts >= w.lo AND r.ts < w.hi
GROUP BY w.idx
UNION ALL
SELECT 'bucket', {_BUCKET}::int, count(*), count(*) FILTER (WHERE r.auto)
FROM r
WHERE $7::timestamptz IS NOT NULL AND r.ts >= ($7::timestamptz AT TIME ZONE {_ZONE})
GROUP BY 2
"""

# A reading is numeric when metric_value is a JSON number or an object with a numeric
# "value"; anything else still counts for `latest` (shown) but not for the mean.
HEALTH = f"""
WITH r AS MATERIALIZED (
    SELECT timestamp AS ts, metric_type, metric_value AS v
    FROM sync_health_metrics
    WHERE {_IN_RANGE}
),{_INTERVALS}
SELECT w.idx AS idx, r.metric_type,
       count(x.num) AS numeric_samples,
       avg(x.num)::float8 AS mean,
       (array_agg(left(r.v::text, 200) ORDER BY r.ts DESC))[1] AS latest
FROM w
JOIN r ON r.ts >= w.lo AND r.ts < w.hi
CROSS JOIN LATERAL (
    SELECT CASE jsonb_typeof(r.v)
             WHEN 'number' THEN (r.v #>> '{{}}')::float8
             WHEN 'object' THEN CASE WHEN jsonb_typeof(r.v -> 'value') = 'number'
                                     THEN (r.v ->> 'value')::float8 END
           END AS num
) AS x
GROUP BY w.idx, r.metric_type
"""
