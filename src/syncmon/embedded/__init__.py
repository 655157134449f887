"""A throwaway PostgreSQL holding the seed's three tables: for `syncmon demo`, `syncmon test`,
the test suite and the benchmarks. Imports nothing else of syncmon and never Textual."""

from __future__ import annotations

from importlib import resources


def schema_sql() -> str:
    """The seed's "Database Setup" DDL, verbatim."""
    return resources.files("syncmon.embedded").joinpath("schema.sql").read_text()
