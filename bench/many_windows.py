"""Distinct windows per poll: what each costs, and `check` with many rules (issue 16 item 7).

    python bench/many_windows.py [--runs N]

Starts its own embedded PostgreSQL (a temporary directory), writes two hours of
`sync_performance_metrics` at 20 operations per second (144,000 rows, a tenth of them Plaid),
then prints medians of:
- one `MetricsDatabase.fetch` (three statements, one per table) for N distinct windows of
  61 s, 62 s, … — the statement grows with N, so its planning does too;
- `syncmon check --format json` as a process: 1,000 rules over 4 windows, 1,000 rules over
  the most distinct windows allowed (`MAX_WINDOWS`), 1,000 rules over 1,000 distinct
  windows, which `validate` refuses before anything is polled, and 10,000 rules.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg

from syncmon.config.loader import MAX_WINDOWS
from syncmon.core.clock import wall_clock
from syncmon.embedded import schema_sql
from syncmon.embedded.postgres import EmbeddedPostgres
from syncmon.sources.database import MetricsDatabase
from syncmon.sources.queries import Interval, MetricsQuery

ROWS = 20 * 7200
COUNTS = (1, 8, 16, MAX_WINDOWS, 64, 128, 256)


async def fill(dsn: str) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(schema_sql())
        await conn.execute(
            """INSERT INTO sync_performance_metrics
                   (user_id, operation_type, duration_ms, success, error_message, timestamp)
               SELECT gen_random_uuid(),
                      CASE WHEN g % 10 = 0 THEN 'plaid_sync' ELSE 'sync_transactions' END,
                      (g % 3000)::int, g % 17 <> 0, NULL,
                      (now() AT TIME ZONE 'UTC') - make_interval(secs => g / 20.0)
               FROM generate_series(1, $1::int) AS g""",
            ROWS,
        )
        await conn.execute("ANALYZE")
    finally:
        await conn.close()


async def fetch_ms(dsn: str, runs: int) -> dict[int, float]:
    db = MetricsDatabase(dsn, statement_timeout=60.0, clock=wall_clock)
    medians: dict[int, float] = {}
    try:
        for count in COUNTS:
            end = datetime.now(UTC)
            query = MetricsQuery(
                tuple(Interval(end - timedelta(seconds=60 + i), end) for i in range(1, count + 1))
            )
            samples = []
            for _ in range(runs):
                started = time.perf_counter()
                result = await db.fetch(query)
                samples.append((time.perf_counter() - started) * 1000)
                if result.failed:
                    raise SystemExit(f"{count} windows: {result.failed}")
            medians[count] = statistics.median(samples)
            print(f"  fetch, {count:>4} distinct windows: {medians[count]:8.0f} ms", flush=True)
    finally:
        await db.close()
    return medians


def config(windows: list[int]) -> str:
    """Compact rules, so 10,000 of them fit in a config's 1 MiB."""
    rules = "".join(
        f"- {{name: r{i}, condition: sync_failure_rate > 50%, severity: warning, window: {w}s}}\n"
        for i, w in enumerate(windows)
    )
    return "alerts:\n" + rules


def check_seconds(dsn: str, path: Path, runs: int) -> tuple[float, int]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SYNCMON_")}
    samples, code = [], 0
    for _ in range(runs):
        started = time.perf_counter()
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "syncmon",
                "check",
                "--format",
                "json",
                "--config",
                str(path),
                "--dsn",
                dsn,
            ],
            env=env,
            capture_output=True,
            timeout=120,
        )
        samples.append(time.perf_counter() - started)
        code = done.returncode
    return statistics.median(samples), code


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with EmbeddedPostgres(timezone="UTC") as pg, tempfile.TemporaryDirectory() as tmp:
        asyncio.run(fill(pg.dsn))
        print(f"{ROWS:,} rows over 2 h; medians of {args.runs} runs")
        asyncio.run(fetch_ms(pg.dsn, args.runs))
        cases = {
            "1000 rules, 4 windows": [60, 300, 900, 3600] * 250,
            f"1000 rules, {MAX_WINDOWS} windows": [61 + i % MAX_WINDOWS for i in range(1000)],
            "1000 rules, 1000 windows (refused)": [61 + i for i in range(1000)],
            "10000 rules, 4 windows": [60, 300, 900, 3600] * 2500,
        }
        for name, windows in cases.items():
            path = Path(tmp) / "rules.yaml"
            path.write_text(config(windows))
            seconds, code = check_seconds(pg.dsn, path, args.runs)
            print(f"  check, {name:<36} {seconds:6.2f} s  exit {code}", flush=True)


if __name__ == "__main__":
    main()
