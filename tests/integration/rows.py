"""Writing known rows into the seed tables the way the real writers do (`NOW()` in the writer's
session zone), and computing what the metrics must be from those rows — independently of
syncmon's SQL."""

from __future__ import annotations

import json
import math
import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import asyncpg


@dataclass(frozen=True)
class Op:
    seconds_ago: float
    operation_type: str
    duration_ms: int
    success: bool
    error_message: str | None = None
    user_id: uuid.UUID = field(default_factory=uuid.uuid4)


async def insert_operations(
    dsn: str, ops: list[Op], *, writer_zone: str | None = None, now: datetime | None = None
) -> None:
    """Rows stamped `seconds_ago` before now (the server's, or `now` when given) in the
    writer's session zone, as `NOW()` would stamp them."""
    conn = await asyncpg.connect(dsn)
    try:
        if writer_zone:
            await conn.execute(f"SET TimeZone TO '{writer_zone}'")
        await conn.executemany(
            "INSERT INTO sync_performance_metrics (user_id, operation_type, duration_ms, success,"
            " error_message, timestamp) VALUES ($1, $2, $3, $4, $5,"
            " (coalesce($7::timestamptz, now()) - make_interval(secs => $6))::timestamp)",
            [
                (
                    o.user_id,
                    o.operation_type,
                    o.duration_ms,
                    o.success,
                    o.error_message,
                    o.seconds_ago,
                    now,
                )
                for o in ops
            ],
        )
    finally:
        await conn.close()


async def insert_conflict_history(dsn: str, rows: Sequence[tuple[float, bool | None]]) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        await conn.executemany(
            "INSERT INTO conflict_resolution_history (user_id, conflict_id, resolution_type,"
            " resolution_data, auto_resolved, timestamp) VALUES ($1, $2, 'last_write_wins',"
            " '{}', $3, (now() - make_interval(secs => $4))::timestamp)",
            [(uuid.uuid4(), uuid.uuid4(), auto, ago) for ago, auto in rows],
        )
    finally:
        await conn.close()


async def insert_health_readings(dsn: str, rows: list[tuple[float, str, object]]) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        await conn.executemany(
            "INSERT INTO sync_health_metrics (user_id, sync_session_id, metric_type,"
            " metric_value, timestamp) VALUES ($1, $2, $3, $4::jsonb,"
            " (now() - make_interval(secs => $5))::timestamp)",
            [
                (uuid.uuid4(), uuid.uuid4(), kind, json.dumps(value), ago)
                for ago, kind, value in rows
            ],
        )
    finally:
        await conn.close()


def random_operations(
    rng: random.Random,
    count: int,
    *,
    within: float,
    failure: float,
    plaid_share: float = 0.2,
    slow: bool = False,
) -> list[Op]:
    ops = []
    for _ in range(count):
        plaid = rng.random() < plaid_share
        ok = rng.random() >= failure
        ops.append(
            Op(
                seconds_ago=rng.uniform(5, within - 5),
                operation_type=rng.choice(["plaid_transactions", "plaid_balance"])
                if plaid
                else rng.choice(["sync_push", "sync_pull", "sync_full"]),
                duration_ms=rng.randint(5000, 9000) if slow else int(rng.lognormvariate(6.3, 0.5)),
                success=ok,
                error_message=None if ok else rng.choice(["network timeout", "HTTP 503 upstream"]),
            )
        )
    return ops


def percentile_cont(values: Sequence[float], fraction: float) -> float:
    ordered = sorted(values)
    position = fraction * (len(ordered) - 1)
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def expected_metrics(
    ops: list[Op], window_seconds: float, plaid_prefix: str = "plaid", offset: float = 0.0
) -> dict[str, tuple[float | None, int]]:
    """What SPEC §2 says the metrics are over the window ending `offset` seconds ago."""
    inside = [o for o in ops if offset <= o.seconds_ago < offset + window_seconds]
    sync = [o for o in inside if not o.operation_type.startswith(plaid_prefix)]
    plaid = [o for o in inside if o.operation_type.startswith(plaid_prefix)]

    def ratio(part: int, whole: int) -> float | None:
        return part / whole if whole else None

    sync_failed = sum(not o.success for o in sync)
    plaid_failed = sum(not o.success for o in plaid)
    failure = ratio(sync_failed, len(sync))
    durations = [o.duration_ms for o in sync]
    return {
        "sync_failure_rate": (failure, len(sync)),
        "sync_success_rate": (None if failure is None else 1 - failure, len(sync)),
        "plaid_error_rate": (ratio(plaid_failed, len(plaid)), len(plaid)),
        "error_rate": (ratio(sync_failed + plaid_failed, len(inside)), len(inside)),
        "avg_sync_duration": (sum(durations) / len(durations) if durations else None, len(sync)),
        "p95_sync_duration": (percentile_cont(durations, 0.95) if durations else None, len(sync)),
        "sync_throughput": (len(sync) / (window_seconds / 60), len(sync)),
    }
