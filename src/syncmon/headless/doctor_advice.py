"""Doctor's judgement: from catalog facts to OK / INFO / ADVICE / WARN findings. No I/O.

Findings are `doctor_findings` values; the index advice is `doctor_indexes`.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from syncmon.headless.doctor_catalog import Catalog, ServerFacts, TableFacts, display_ident
from syncmon.headless.doctor_findings import Level, Section, bytes_text, count_text
from syncmon.headless.doctor_indexes import index_findings
from syncmon.headless.doctor_time import dst_advice
from syncmon.sources.writer_clock import ahead_note

# The seed's "Database Setup" DDL, as `format_type` spells each column type.
_VARCHAR50 = "character varying(50)"
_TS = "timestamp without time zone"
EXPECTED_COLUMNS: dict[str, dict[str, str]] = {
    "sync_health_metrics": {
        "id": "uuid",
        "user_id": "uuid",
        "sync_session_id": "uuid",
        "metric_type": _VARCHAR50,
        "metric_value": "jsonb",
        "timestamp": _TS,
        "created_at": _TS,
    },
    "conflict_resolution_history": {
        "id": "uuid",
        "user_id": "uuid",
        "conflict_id": "uuid",
        "resolution_type": _VARCHAR50,
        "resolution_data": "jsonb",
        "auto_resolved": "boolean",
        "timestamp": _TS,
    },
    "sync_performance_metrics": {
        "id": "uuid",
        "user_id": "uuid",
        "operation_type": _VARCHAR50,
        "duration_ms": "integer",
        "success": "boolean",
        "error_message": "text",
        "timestamp": _TS,
    },
}
TABLE_NAMES = tuple(EXPECTED_COLUMNS)
# The columns syncmon's own queries read: without them it cannot compute that table's metrics.
READ_COLUMNS: dict[str, frozenset[str]] = {
    "sync_health_metrics": frozenset({"timestamp", "user_id", "metric_type", "metric_value"}),
    "conflict_resolution_history": frozenset({"timestamp", "user_id", "auto_resolved"}),
    "sync_performance_metrics": frozenset(
        {"timestamp", "user_id", "operation_type", "duration_ms", "success", "error_message"}
    ),
}

PARTITION_ROWS = 100_000_000
FUTURE_SLACK = timedelta(minutes=5)


def examine(catalog: Catalog, timestamp_timezone: str | None, now: datetime) -> list[Section]:
    """Every section of the report, in reading order (`now`: the doctor's clock)."""
    server = Section("Server")
    _server_findings(server, catalog.server)
    _timezone_findings(server, catalog, timestamp_timezone, now)
    sections = [server]
    for table in catalog.tables:
        section = Section(f"Table {table.qualified}")
        _table_findings(section, table, catalog)
        sections.append(section)
    privileges = Section("Privileges")
    _privilege_findings(privileges, catalog)
    sections.append(privileges)
    return sections


def _server_findings(section: Section, server: ServerFacts) -> None:
    role = "standby (read replica)" if server.standby else "primary"
    section.add(
        Level.OK,
        f'PostgreSQL {server.version} ({role}), database "{server.database}", role "{server.role}"',
    )


def _timezone_findings(
    section: Section, catalog: Catalog, override: str | None, utc_now: datetime
) -> None:
    zone = catalog.server.timezone
    if override and catalog.zone_error:
        section.add(
            Level.WARN,
            f'database.timestamp_timezone "{override}" is not a time zone '
            f"PostgreSQL knows ({catalog.zone_error}); syncmon's queries "
            "will fail until it is fixed",
        )
    elif override:
        section.add(
            Level.OK,
            f"timestamps are read in {override} (database.timestamp_timezone); "
            f"the database TimeZone is {zone}",
        )
    else:
        section.add(
            Level.OK,
            f"database TimeZone is {zone}: timestamps are read in {zone} "
            "(set database.timestamp_timezone if the writers use another)",
        )
    now = catalog.local_now
    if now is None:
        return
    for table in catalog.tables:
        if table.last is None or table.range_source == "statistics":
            continue
        if table.last > now + FUTURE_SLACK:
            ahead = table.last - now
            section.add(Level.WARN, ahead_note(table.qualified, ahead, override or zone))
    if (dst := dst_advice(override or zone, catalog.server.database, utc_now)) is not None:
        section.add(Level.WARN, *dst)


def _table_findings(section: Section, table: TableFacts, catalog: Catalog) -> None:
    if not table.exists:
        section.add(
            Level.WARN,
            f"missing table: {table.qualified} does not exist; syncmon cannot compute its "
            "metrics"
            + (
                f" (an unqualified {table.name} reads schema {table.shadow_schema}: "
                f"set sources.database.schema: {table.shadow_schema} if that is the one)"
                if table.shadow_schema
                else ""
            ),
            "create it with the seed's DDL (Database Setup section)",
        )
        return
    _shadow_findings(section, table)
    _describe_size(section, table, catalog)
    if not _columns_ok(section, table):
        return
    index_findings(section, table, catalog.server)
    rows = table.rows or 0
    if rows >= PARTITION_ROWS and not table.partitioned:
        section.add(
            Level.ADVICE,
            f"{count_text(rows)} rows: consider time-based partitioning "
            "(PARTITION BY RANGE (timestamp), one partition per month or week) so old data is "
            "dropped by DETACH/DROP instead of DELETE and indexes stay small; and/or a rollup "
            "table of per-minute aggregates for long windows and charts (docs/scaling.md)",
        )


def _describe_size(section: Section, table: TableFacts, catalog: Catalog) -> None:
    if table.exact_rows is not None:
        rows_text = f"{count_text(table.exact_rows)} rows (counted)"
    elif table.estimated_rows is not None:
        rows_text = f"≈{count_text(table.estimated_rows)} rows (estimate)"
    else:
        rows_text = "row count unknown (never analysed: run ANALYZE " + table.qualified + ")"
    kind = ", partitioned" if table.partitioned else ""
    size = bytes_text(table.total_bytes or 0)
    section.add(Level.INFO, f"{rows_text}, {size} with indexes{kind}")
    rate = _rows_per_day(table)
    if rate is not None:
        source = {
            "index": "from min/max via the index",
            "scan": "from min/max",
            "statistics": "from statistics",
        }[table.range_source or "statistics"]
        section.add(
            Level.INFO,
            f"≈{count_text(rate)} rows/day since {table.first:%Y-%m-%d %H:%M} ({source})",
        )
    now = catalog.local_now
    if (
        now
        and table.last
        and table.range_source != "statistics"
        and now - table.last > timedelta(hours=1)
    ):
        section.add(
            Level.INFO,
            f"the newest row is {_age(now - table.last)} old: windows ending now will show no data",
        )


def _rows_per_day(table: TableFacts) -> float | None:
    rows = table.rows
    if rows is None or table.first is None or table.last is None:
        return None
    days = (table.last - table.first).total_seconds() / 86400
    return rows / days if days > 1 / 24 else None


def _columns_ok(section: Section, table: TableFacts) -> bool:
    """Report missing or different columns; False when syncmon cannot read the table."""
    expected = EXPECTED_COLUMNS[table.name]
    missing = [c for c in expected if c not in table.columns]
    different = [
        (c, t, table.columns[c])
        for c, t in expected.items()
        if c in table.columns and table.columns[c] != t
    ]
    needed = READ_COLUMNS[table.name]
    for column in missing:
        level = Level.WARN if column in needed else Level.ADVICE
        consequence = (
            "syncmon reads it: this table's metrics cannot be computed"
            if column in needed
            else "syncmon does not read it"
        )
        section.add(
            level, f"missing column: {table.qualified}.{column} ({expected[column]}); {consequence}"
        )
    for column, want, found in different:
        level = Level.WARN if column in needed else Level.ADVICE
        section.add(level, f"column {table.qualified}.{column} is {found}, the seed has {want}")
    if not missing and not different:
        section.add(Level.OK, "columns and types match the seed")
    return not any(c in needed for c in missing)


def _shadow_findings(section: Section, table: TableFacts) -> None:
    """SPEC §14: a same-named table earlier in the search_path misleads every unqualified
    query (psql, other dashboards, syncmon before schemas were named)."""
    if not table.shadow_schema:
        return
    section.add(
        Level.WARN,
        f"{display_ident(table.shadow_schema)}.{display_ident(table.name)} stands earlier in "
        f"the role's search_path ({table.search_path}): an unqualified {table.name} reads "
        f"that table, not this one. syncmon names {table.qualified} (sources.database.schema); "
        "check that psql sessions and other tools read the table you mean",
    )


def _privilege_findings(section: Section, catalog: Catalog) -> None:
    server = catalog.server
    tables = [t for t in catalog.tables if t.exists]
    schema = catalog.tables[0].schema or "public" if catalog.tables else "public"
    unreadable = [t.qualified for t in tables if not t.can_select]
    if unreadable:
        section.add(
            Level.WARN,
            f'role "{server.role}" cannot SELECT from {", ".join(unreadable)}',
            f"GRANT SELECT ON {', '.join(unreadable)} TO {server.role};",
        )
    if server.standby:
        section.add(Level.OK, "connected to a standby: nothing can be written through it")
        return
    reasons = []
    if server.superuser:
        reasons.append("is a superuser")
    owned = [t.qualified for t in tables if t.owned]
    if owned:
        reasons.append(f"owns {', '.join(owned)}")
    writable = sorted({p for t in tables for p in t.write_privileges})
    if writable and not server.superuser:
        reasons.append(
            f"has {'/'.join(writable)} on "
            + ", ".join(t.qualified for t in tables if t.write_privileges)
        )
    if not reasons:
        section.add(Level.OK, f'role "{server.role}" can only read the metrics tables')
        return
    guard = (
        "default_transaction_read_only is on for this role/database, but a session can turn it off"
        if server.read_only_by_default
        else "default_transaction_read_only is not set for this role or database"
    )
    section.add(
        Level.WARN,
        f'role "{server.role}" can write: it {"; ".join(reasons)}. '
        f"syncmon needs SELECT only ({guard})",
        "use a read-only role, e.g.:",
        "CREATE ROLE syncmon_ro LOGIN PASSWORD '…';",
        f"GRANT CONNECT ON DATABASE {server.database} TO syncmon_ro;",
        f"GRANT USAGE ON SCHEMA {display_ident(schema)} TO syncmon_ro;",
        f"GRANT SELECT ON {', '.join(t.qualified for t in catalog.tables)} TO syncmon_ro;",
        "ALTER ROLE syncmon_ro SET default_transaction_read_only = on;",
        "or point --dsn at a read replica (docs/scaling.md)",
    )


def _age(delta: timedelta) -> str:
    seconds = delta.total_seconds()
    if seconds >= 86400:
        return f"{seconds / 86400:.1f} days"
    if seconds >= 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 60:.0f} min"
