"""What `syncmon doctor` learns from the database: plain facts, read in one read-only session.

Kept apart from the advice (`doctor_advice`) so the judgement can be tested on facts built by
hand, and so this module stays a thin, cheap reader of catalogs and statistics.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

import asyncpg

from syncmon.sources import catalog_sql, sql

# Below this many heap pages (32 MiB) an exact count and a min/max scan cost less than a
# guess, and a table that was never analysed still gets real numbers.
SMALL_TABLE_PAGES = 4096
TIMESTAMP_TYPE = "timestamp without time zone"  # the seed's, as format_type spells it
_BARE = re.compile(r"[a-z_][a-z0-9_$]*")


@dataclass(frozen=True)
class ServerFacts:
    version: str
    version_num: int
    timezone: str
    role: str
    database: str
    superuser: bool
    standby: bool
    read_only_settings: tuple[str, ...]  # `default_transaction_read_only=…` set on db/role

    @property
    def read_only_by_default(self) -> bool:
        return any(
            s.split("=", 1)[1].lower() in ("on", "true", "1", "yes")
            for s in self.read_only_settings
        )


@dataclass(frozen=True)
class IndexFacts:
    name: str
    method: str
    leading_column: str | None
    valid: bool
    partial: bool
    bytes: int
    definition: str


@dataclass
class TableFacts:
    """One metrics table as the session sees it; everything but `name` is None if missing."""

    name: str
    exists: bool = False
    schema: str | None = None
    shadow_schema: str | None = None  # an unqualified name reads this schema's table instead
    search_path: str = ""  # the role's effective search_path, as doctor's session has it
    kind: str | None = None  # 'r' table, 'p' partitioned, 'v' view, …
    owner: str | None = None
    owned: bool = False
    can_select: bool = False
    write_privileges: tuple[str, ...] = ()
    total_bytes: int | None = None
    heap_pages: int = 0
    estimated_rows: float | None = None  # None: never analysed (and too big to count)
    exact_rows: int | None = None
    columns: dict[str, str] = field(default_factory=dict)
    indexes: list[IndexFacts] = field(default_factory=list)
    correlation: float | None = None
    first: datetime | None = None  # oldest `timestamp` (local time of the writers' zone)
    last: datetime | None = None
    range_source: str | None = None  # "index", "scan" or "statistics"

    @property
    def qualified(self) -> str:
        """`schema.table` as doctor prints it (quoted only where SQL needs it)."""
        return f"{display_ident(self.schema or 'public')}.{display_ident(self.name)}"

    @property
    def rows(self) -> float | None:
        return float(self.exact_rows) if self.exact_rows is not None else self.estimated_rows

    @property
    def partitioned(self) -> bool:
        return self.kind == "p"

    def timestamp_indexes(self) -> list[IndexFacts]:
        """Indexes a range on `timestamp` can use (leading column, whole table, valid)."""
        return [
            i
            for i in self.indexes
            if i.leading_column == "timestamp"
            and i.valid
            and not i.partial
            and i.method in ("btree", "brin")
        ]

    def has_btree_on_timestamp(self) -> bool:
        return any(i.method == "btree" for i in self.timestamp_indexes())


@dataclass
class Catalog:
    server: ServerFacts
    tables: list[TableFacts]
    local_now: datetime | None  # now in the zone the timestamps are read in
    zone_error: str | None = None  # the timestamp_timezone override was refused


def display_ident(name: str) -> str:
    """An identifier as it is typed in SQL: bare when it can be, else double-quoted."""
    return name if _BARE.fullmatch(name) else sql.quote_ident(name)


async def read_catalog(
    conn: asyncpg.Connection,
    table_names: tuple[str, ...],
    timestamp_timezone: str | None,
    schema: str = "public",
) -> Catalog:
    """Gather every fact doctor judges; only catalog reads and index-backed probes.
    Runs inside doctor's read-only transaction (a failed zone lookup is a savepoint)."""
    row = await conn.fetchrow(catalog_sql.SERVER)
    assert row is not None  # a SELECT without FROM always returns its row
    server = ServerFacts(
        version=row["version"],
        version_num=row["version_num"],
        timezone=row["timezone"],
        role=row["role"],
        database=row["database"],
        superuser=bool(row["superuser"]),
        standby=row["standby"],
        read_only_settings=tuple(row["read_only_settings"] or ()),
    )
    tables = [
        await _read_table(conn, r)
        for r in await conn.fetch(catalog_sql.TABLES, list(table_names), schema)
    ]
    local_now, zone_error = None, None
    try:
        async with conn.transaction():  # a savepoint: the refusal must not end the transaction
            local_now = await conn.fetchval(catalog_sql.LOCAL_NOW, timestamp_timezone)
    except (asyncpg.InvalidParameterValueError, asyncpg.DataError) as exc:
        zone_error = str(exc)
        local_now = await conn.fetchval(catalog_sql.LOCAL_NOW, None)
    return Catalog(server, tables, local_now, zone_error)


async def _read_table(conn: asyncpg.Connection, row: asyncpg.Record) -> TableFacts:
    facts = TableFacts(name=row["name"], schema=row["schema"])
    facts.shadow_schema, facts.search_path = row["shadow_schema"], row["search_path"]
    if row["oid"] is None:
        return facts
    facts.exists = True
    facts.kind, facts.owner = row["kind"], row["owner"]
    facts.owned, facts.can_select = bool(row["owned"]), bool(row["can_select"])
    facts.write_privileges = tuple(row["write_privileges"] or ())
    facts.total_bytes = row["total_bytes"]
    facts.heap_pages = int(row["heap_pages"] or 0)
    facts.estimated_rows = row["estimated_rows"] if row["analysed"] else None
    oid = row["oid"]
    facts.columns = {c["name"]: c["type"] for c in await conn.fetch(catalog_sql.COLUMNS, [oid])}
    facts.indexes = [
        IndexFacts(
            name=i["name"],
            method=i["method"],
            leading_column=i["leading_column"],
            valid=i["valid"],
            partial=i["partial"],
            bytes=i["bytes"],
            definition=i["definition"],
        )
        for i in await conn.fetch(catalog_sql.INDEXES, [oid])
    ]
    # Dates are read only from a column of the seed's type: a `timestamp` of type text,
    # date or timestamptz gives values that cannot be cast or compared with local time
    # (doctor used to die of a TypeError there); the advice reports the type instead.
    seed_typed = facts.columns.get("timestamp") == TIMESTAMP_TYPE
    if seed_typed:
        stats = await conn.fetchrow(catalog_sql.TIMESTAMP_STATS, facts.schema, facts.name)
        if stats is not None:
            facts.correlation = stats["correlation"]
            facts.first, facts.last = stats["first_bound"], stats["last_bound"]
            facts.range_source = "statistics" if facts.first else None
    if not facts.can_select:
        return facts
    qualified = await conn.fetchval(catalog_sql.QUOTE_IDENT, facts.schema, facts.name)
    small = facts.heap_pages <= SMALL_TABLE_PAGES and not facts.partitioned
    if small:
        facts.exact_rows = await conn.fetchval(catalog_sql.exact_count(qualified))
    if seed_typed and (small or facts.has_btree_on_timestamp()):
        extremes = await conn.fetchrow(catalog_sql.timestamp_extremes(qualified))
        if extremes is not None and extremes["first"] is not None:
            facts.first, facts.last = extremes["first"], extremes["last"]
            facts.range_source = "scan" if small else "index"
    return facts
