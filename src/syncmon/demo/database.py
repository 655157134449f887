"""Every statement the demo backend runs against its database, in one place.

Live rows leave `timestamp` (and `created_at`) to their `DEFAULT NOW()`, as the real
writer does, so they land in whatever zone the database's sessions use.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence

import asyncpg

from syncmon.demo.workload import HealthReading, Operation, Resolution
from syncmon.embedded import schema_sql

SCHEMA_SQL = schema_sql()

_INSERT_RESOLUTION = """
INSERT INTO conflict_resolution_history
    (id, user_id, conflict_id, resolution_type, resolution_data, auto_resolved)
VALUES ($1, $2, $3, $4, $5::jsonb, $6)
"""


class DemoDatabase:
    """A small pool over the demo's database; the history loader borrows a connection."""

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self.pool: asyncpg.Pool | None = None

    async def open(self) -> None:
        self.pool = await asyncpg.create_pool(self.dsn, min_size=1, max_size=4)

    async def close(self) -> None:
        if self.pool is not None:
            pool, self.pool = self.pool, None
            try:
                await pool.close()  # waits for running statements
            except Exception:
                pool.terminate()

    def _pool(self) -> asyncpg.Pool:
        if self.pool is None:
            raise RuntimeError("the demo database is not open")
        return self.pool

    async def create_schema(self) -> None:
        async with self._pool().acquire() as conn:
            await conn.execute(SCHEMA_SQL)

    async def insert_operations(self, rows: Sequence[Operation]) -> None:
        if rows:
            async with self._pool().acquire() as conn:
                await conn.copy_records_to_table(
                    "sync_performance_metrics",
                    records=rows,
                    columns=[
                        "user_id",
                        "operation_type",
                        "duration_ms",
                        "success",
                        "error_message",
                    ],
                )

    async def insert_readings(self, rows: Sequence[HealthReading]) -> None:
        if rows:
            async with self._pool().acquire() as conn:
                await conn.copy_records_to_table(
                    "sync_health_metrics",
                    records=rows,
                    columns=["user_id", "sync_session_id", "metric_type", "metric_value"],
                )

    async def insert_resolutions(self, rows: Sequence[Resolution]) -> None:
        if rows:
            async with self._pool().acquire() as conn:
                await conn.copy_records_to_table(
                    "conflict_resolution_history",
                    records=rows,
                    columns=[
                        "user_id",
                        "conflict_id",
                        "resolution_type",
                        "resolution_data",
                        "auto_resolved",
                    ],
                )

    async def insert_resolution(self, resolution_id: uuid.UUID, row: Resolution) -> None:
        await self._pool().execute(_INSERT_RESOLUTION, resolution_id, *row)

    async def ping(self, timeout: float = 2.0) -> float:
        """Round-trip time of `SELECT 1` in ms; raises when the database does not answer."""
        started = time.perf_counter()
        await self._pool().fetchval("SELECT 1", timeout=timeout)
        return (time.perf_counter() - started) * 1000
