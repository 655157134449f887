"""doctor's advice from hand-built facts: index choice, partitioning, privileges."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from syncmon.headless.doctor_advice import EXPECTED_COLUMNS, examine
from syncmon.headless.doctor_catalog import Catalog, IndexFacts, ServerFacts, TableFacts
from syncmon.headless.doctor_findings import Level

NOW = datetime(2026, 11, 27, 12, 0)


def server(**changes: Any) -> ServerFacts:
    facts = ServerFacts(
        version="PostgreSQL 16.2",
        version_num=160002,
        timezone="UTC",
        role="syncmon",
        database="app",
        superuser=False,
        standby=False,
        read_only_settings=(),
    )
    return replace(facts, **changes)


def table(name: str, rows: float, **changes: Any) -> TableFacts:
    facts = TableFacts(
        name=name,
        exists=True,
        schema="public",
        kind="r",
        owner="app",
        can_select=True,
        total_bytes=int(rows * 100),
        heap_pages=int(rows / 50) + 1,
        estimated_rows=rows,
        columns=dict(EXPECTED_COLUMNS[name]),
        correlation=0.99,
        first=NOW - timedelta(days=30),
        last=NOW - timedelta(seconds=5),
        range_source="index",
    )
    return replace(facts, **changes)


def btree(name: str) -> IndexFacts:
    return IndexFacts(
        f"idx_{name}_timestamp",
        "btree",
        "timestamp",
        True,
        False,
        1 << 20,
        f"CREATE INDEX ON {name} (timestamp)",
    )


def report(*tables: TableFacts, srv: ServerFacts | None = None) -> list[tuple[Level, str, str]]:
    catalog = Catalog(srv or server(), list(tables), NOW)
    return [
        (f.level, f.text, "\n".join(f.details))
        for section in examine(catalog, None, NOW.replace(tzinfo=UTC))
        for f in section.findings
    ]


def all_tables(rows: float, **changes: object) -> list[TableFacts]:
    return [table(name, rows, **changes) for name in EXPECTED_COLUMNS]


def test_large_time_ordered_table_gets_a_brin_statement() -> None:
    findings = report(*all_tables(20_000_000))
    statements = "\n".join(d for _, _, d in findings)
    assert "CREATE INDEX CONCURRENTLY" in statements
    assert "USING brin (timestamp)" in statements


def test_small_table_gets_a_btree_statement() -> None:
    findings = report(*all_tables(50_000))
    statements = "\n".join(d for _, _, d in findings)
    assert "CREATE INDEX CONCURRENTLY" in statements
    assert "USING brin" not in statements


def test_indexed_tables_need_no_index_advice() -> None:
    tables = [table(n, 50_000, indexes=[btree(n)]) for n in EXPECTED_COLUMNS]
    assert not any("CREATE INDEX" in d for _, _, d in report(*tables))


def test_partitioning_is_advised_past_a_hundred_million_rows() -> None:
    tables = [table(n, 300_000_000, indexes=[btree(n)]) for n in EXPECTED_COLUMNS]
    text = " ".join(f"{t} {d}" for _, t, d in report(*tables)).lower()
    assert "partition" in text


def test_write_privileges_are_a_warning() -> None:
    tables = [
        table(n, 1000, indexes=[btree(n)], write_privileges=("INSERT", "DELETE"))
        for n in EXPECTED_COLUMNS
    ]
    assert any(level is Level.WARN for level, _, _ in report(*tables))
    clean = [table(n, 1000, indexes=[btree(n)]) for n in EXPECTED_COLUMNS]
    assert not any(level is Level.WARN for level, _, _ in report(*clean))


def test_missing_column_is_named() -> None:
    broken = table("sync_performance_metrics", 1000)
    broken.columns.pop("duration_ms")
    text = " ".join(t + d for _, t, d in report(broken))
    assert "duration_ms" in text


def test_daylight_saving_is_judged_at_the_doctors_now() -> None:
    """São Paulo dropped daylight saving time in 2019: its DST warning depends on the `now`
    doctor is given, not on the machine's clock."""
    catalog = Catalog(server(timezone="America/Sao_Paulo"), [], NOW)

    def dst_warnings(now: datetime) -> list[str]:
        return [
            f.text
            for section in examine(catalog, None, now)
            for f in section.findings
            if "daylight saving time" in f.text
        ]

    assert len(dst_warnings(datetime(2018, 6, 1, tzinfo=UTC))) == 1
    assert dst_warnings(datetime(2026, 6, 1, tzinfo=UTC)) == []
