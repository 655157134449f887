"""The catalog queries of `syncmon doctor`, in one place; parameters are always bound.

Every statement here reads the system catalogs or statistics only, so doctor stays fast on a
table of a billion rows: row counts are `reltuples` estimates, date ranges come from
`pg_stats` or from a B-tree's two ends, never from a scan of the table. Table names are
resolved with `to_regclass` so doctor sees exactly what syncmon's unqualified queries see
(the session's `search_path`).
"""

from __future__ import annotations

SERVER = """
SELECT current_setting('server_version') AS version,
       current_setting('server_version_num')::int AS version_num,
       current_setting('TimeZone') AS timezone,
       current_user AS role,
       current_database() AS database,
       (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) AS superuser,
       pg_is_in_recovery() AS standby,
       (SELECT coalesce(array_agg(s.setting), '{}')
          FROM pg_db_role_setting d, unnest(d.setconfig) AS s(setting)
         WHERE d.setdatabase IN (0, (SELECT oid FROM pg_database
                                     WHERE datname = current_database()))
           AND d.setrole IN (0, (SELECT oid FROM pg_roles WHERE rolname = current_user))
           AND s.setting LIKE 'default_transaction_read_only=%') AS read_only_settings
"""

# $1: table names, $2: the schema. One row per name; `oid` is NULL for a table that does not
# exist there. `shadow_schema`: where an unqualified name leads instead (search_path), if
# elsewhere. Sizes and row estimates add up the partitions of a partitioned table.
TABLES = """
SELECT t.name,
       c.oid,
       $2::text AS schema,
       sh.shadow_schema,
       array_to_string(current_schemas(false), ', ') AS search_path,
       c.relkind::text AS kind,
       pg_get_userbyid(c.relowner) AS owner,
       pg_has_role(c.relowner, 'USAGE') AS owned,
       has_table_privilege(c.oid, 'SELECT') AS can_select,
       array_remove(ARRAY[
           CASE WHEN has_table_privilege(c.oid, 'INSERT') THEN 'INSERT' END,
           CASE WHEN has_table_privilege(c.oid, 'UPDATE') THEN 'UPDATE' END,
           CASE WHEN has_table_privilege(c.oid, 'DELETE') THEN 'DELETE' END,
           CASE WHEN has_table_privilege(c.oid, 'TRUNCATE') THEN 'TRUNCATE' END
       ], NULL) AS write_privileges,
       p.total_bytes,
       p.heap_bytes,
       p.heap_pages,
       p.estimated_rows,
       p.analysed
FROM unnest($1::text[]) AS t(name)
LEFT JOIN pg_class c ON c.oid = to_regclass(quote_ident($2::text) || '.' || quote_ident(t.name))
LEFT JOIN LATERAL (
    SELECT sn.nspname AS shadow_schema
    FROM pg_class sc JOIN pg_namespace sn ON sn.oid = sc.relnamespace
    WHERE sc.oid = to_regclass(quote_ident(t.name)) AND sc.oid IS DISTINCT FROM c.oid
) AS sh ON true
LEFT JOIN LATERAL (
    SELECT sum(pg_total_relation_size(pt.relid))::bigint AS total_bytes,
           sum(pg_relation_size(pt.relid))::bigint AS heap_bytes,
           -- from the file size, not relpages: relpages is 0 until the first VACUUM/ANALYZE
           sum(pg_relation_size(pt.relid) / current_setting('block_size')::int)::bigint
               AS heap_pages,
           sum(greatest(pc.reltuples, 0))::float8 AS estimated_rows,
           bool_and(pc.reltuples >= 0 OR pc.relkind = 'p') AS analysed
    -- pg_partition_tree returns nothing for a plain table, hence the union with itself
    FROM (SELECT c.oid AS relid UNION SELECT relid FROM pg_partition_tree(c.oid)) AS pt
    JOIN pg_class pc ON pc.oid = pt.relid
) AS p ON c.oid IS NOT NULL
"""

# $1: table oids.
COLUMNS = """
SELECT a.attrelid AS oid, a.attname AS name,
       format_type(a.atttypid, a.atttypmod) AS type
FROM pg_attribute a
WHERE a.attrelid = ANY($1::oid[]) AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attrelid, a.attnum
"""

# $1: table oids. The leading column decides whether a range on `timestamp` can use it.
INDEXES = """
SELECT i.indrelid AS oid,
       ic.relname AS name,
       am.amname AS method,
       a.attname AS leading_column,
       i.indisvalid AS valid,
       i.indpred IS NOT NULL AS partial,
       pg_relation_size(i.indexrelid)::bigint AS bytes,
       pg_get_indexdef(i.indexrelid) AS definition
FROM pg_index i
JOIN pg_class ic ON ic.oid = i.indexrelid
JOIN pg_am am ON am.oid = ic.relam
LEFT JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
WHERE i.indrelid = ANY($1::oid[])
ORDER BY i.indrelid, ic.relname
"""

# $1: schema, $2: table. Statistics of the `timestamp` column (NULL before ANALYZE).
# The histogram's first and last bounds approximate min and max without touching the table.
TIMESTAMP_STATS = """
SELECT correlation::float8 AS correlation,
       (histogram_bounds::text::timestamp[])[1] AS first_bound,
       (histogram_bounds::text::timestamp[])[array_length(histogram_bounds::text::timestamp[], 1)]
           AS last_bound
FROM pg_stats
WHERE schemaname = $1 AND tablename = $2 AND attname = 'timestamp'
ORDER BY inherited DESC
LIMIT 1
"""

# The exact extremes, for a table with a B-tree on `timestamp` (two index probes) or a
# small one (a short scan). Built per table: identifiers cannot be bound parameters, and
# the name is quoted with `quote_ident` by the server first (see `quoted_name`).
QUOTE_IDENT = "SELECT quote_ident($1::text) || '.' || quote_ident($2::text)"


def timestamp_extremes(qualified_name: str) -> str:
    """`SELECT min, max` of `timestamp`; `qualified_name` must come from QUOTE_IDENT."""
    return f"SELECT min(timestamp) AS first, max(timestamp) AS last FROM {qualified_name}"


def exact_count(qualified_name: str) -> str:
    """Only used on tables small enough that counting is cheaper than guessing."""
    return f"SELECT count(*) AS rows FROM {qualified_name}"


# $1: a time zone name to validate (the `database.timestamp_timezone` override), and the
# local time there, to compare with the newest row.
LOCAL_NOW = "SELECT (now() AT TIME ZONE coalesce($1::text, current_setting('TimeZone'))) AS now"
