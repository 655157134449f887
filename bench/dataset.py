"""Benchmark data: the seed schema filled with generate_series, cached between runs.

Rows are a pure function of their position in time: row k of sync_performance_metrics is at
k / RATE seconds after the epoch and its values are hashes of k. So the 1 M and the 10 M
databases hold exactly the same rows wherever they overlap, and differ only in how far their
history goes back. The last minutes, which every window reads, are rewritten at the start of
each run around the current time ("top-up"): history stays, row counts stay, windows are full.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from syncmon.embedded import schema_sql
from syncmon.embedded.postgres import EmbeddedPostgres

RATE = 20  # operations per second in sync_performance_metrics (~1.7 M a day)
CONFLICT_DIVISOR = 10  # conflict_resolution_history gets RATE / 10 rows per second
HEALTH_DIVISOR = 5  # sync_health_metrics gets RATE / 5
RECENT_BEFORE = 70 * 60  # the top-up covers [now - 70 min, now + 20 min): the longest
RECENT_AFTER = 20 * 60  # window of the many-rules config plus its `for`, and the run itself
DATA_VERSION = 3  # bump when the generated data changes: the cache is then rebuilt

SCHEMA_SQL = schema_sql()


@dataclass(frozen=True)
class Variant:
    """One database: `size` performance rows and an index `kind` on timestamp."""

    size: int
    index: str  # "none" | "brin" | "btree"

    @property
    def database(self) -> str:
        return f"bench_{self.size // 1_000_000}m_{self.index}"

    @property
    def label(self) -> str:
        return f"{self.size // 1_000_000} M, {self.index}"


SIZES = (1_000_000, 10_000_000)
INDEXES = ("none", "brin", "btree")
VARIANTS = tuple(Variant(size, index) for size in SIZES for index in INDEXES)

# ---- row generators: $1 first k, $2 last k (exclusive) ------------------------------------
_PERF = f"""
INSERT INTO sync_performance_metrics
    (id, user_id, operation_type, duration_ms, success, error_message, timestamp)
SELECT gen_random_uuid(),
       md5('user' || (abs(h1) % 5000))::uuid,
       CASE WHEN abs(h1) % 100 < 15
            THEN (ARRAY['plaid_transactions', 'plaid_balance'])[1 + abs(h2) % 2]
            ELSE (ARRAY['sync_pull', 'sync_push', 'sync_delta', 'sync_full'])[1 + abs(h2) % 4]
       END,
       40 + abs(h2) % 400 + CASE WHEN abs(h2) % 100 = 0 THEN 2500 ELSE 0 END,
       NOT failed,
       CASE WHEN failed THEN (ARRAY['timeout after 30000 ms', 'HTTP 503 from upstream',
            'version conflict on entity', 'ITEM_LOGIN_REQUIRED',
            'connection reset by peer'])[1 + abs(h2) % 5] END,
       to_timestamp(k / {RATE}.0) AT TIME ZONE 'UTC'
FROM generate_series($1::bigint, $2::bigint - 1) AS k,
     LATERAL (SELECT hashint8(k) AS h1, hashint8(k + 7777777) AS h2) AS h,
     LATERAL (SELECT abs(hashint8(k + 3333333)) % 1000 < 20 AS failed) AS f
"""
_CONFLICTS = f"""
INSERT INTO conflict_resolution_history
    (id, user_id, conflict_id, resolution_type, resolution_data, auto_resolved, timestamp)
SELECT gen_random_uuid(), md5('user' || (abs(h) % 5000))::uuid, gen_random_uuid(),
       CASE WHEN abs(h) % 100 < 85 THEN 'last_write_wins' ELSE 'manual_keep_local' END,
       '{{"fields": ["amount"]}}'::jsonb,
       abs(h) % 100 < 85,
       to_timestamp(k * {CONFLICT_DIVISOR}.0 / {RATE}) AT TIME ZONE 'UTC'
FROM generate_series($1::bigint, $2::bigint - 1) AS k,
     LATERAL (SELECT hashint8(k + 11111) AS h) AS x
"""
_HEALTH = f"""
INSERT INTO sync_health_metrics
    (id, user_id, sync_session_id, metric_type, metric_value, timestamp, created_at)
SELECT gen_random_uuid(), md5('user' || (abs(h) % 5000))::uuid, gen_random_uuid(),
       (ARRAY['queue_depth', 'battery_level', 'pending_changes', 'sync_lag_ms'])[1 + abs(h) % 4],
       CASE WHEN abs(h) % 2 = 0 THEN to_jsonb(abs(h) % 100)
            ELSE jsonb_build_object('value', abs(h) % 1000, 'unit', 'n') END,
       ts, ts
FROM generate_series($1::bigint, $2::bigint - 1) AS k,
     LATERAL (SELECT hashint8(k + 22222) AS h,
                     to_timestamp(k * {HEALTH_DIVISOR}.0 / {RATE}) AT TIME ZONE 'UTC' AS ts) AS x
"""
TABLES = (  # table, generator, rows per second
    ("sync_performance_metrics", _PERF, RATE),
    ("conflict_resolution_history", _CONFLICTS, RATE / CONFLICT_DIVISOR),
    ("sync_health_metrics", _HEALTH, RATE / HEALTH_DIVISOR),
)
# Bulk-loading into the seed's indexes costs minutes; dropping them and building them again
# afterwards gives the same schema in a fraction of the time.
_SECONDARY = (
    ("sync_performance_metrics", "idx_sync_performance_user_id", "(user_id)"),
    ("conflict_resolution_history", "idx_conflict_resolution_user_id", "(user_id)"),
    ("sync_health_metrics", "idx_sync_health_user_id", "(user_id)"),
    ("sync_health_metrics", "idx_sync_health_timestamp", "(timestamp)"),
)


def timestamp_index_sql(index: str) -> list[str]:
    """The statements doctor prints, minus CONCURRENTLY (nobody writes during the build)."""
    if index == "none":
        return []
    using = " USING brin" if index == "brin" else ""
    return [
        f"CREATE INDEX idx_{table}_timestamp ON {table}{using} (timestamp)"
        for table in ("sync_performance_metrics", "conflict_resolution_history")
    ]


class Dataset:
    """Builds (once) and tops up (each run) the benchmark databases in `pg`."""

    def __init__(
        self, pg: EmbeddedPostgres, cache: Path, log: Callable[[str], object] = print
    ) -> None:
        self.pg = pg
        self.state_file = cache / "dataset.json"
        self.log = log

    def ready(self) -> bool:
        try:
            state = json.loads(self.state_file.read_text())
        except (OSError, ValueError):
            return False
        return state.get("version") == DATA_VERSION and state.get("complete") is True

    def history_end(self) -> int:
        return int(json.loads(self.state_file.read_text())["history_end"])

    def build(self) -> None:
        history_end = int(time.time()) // 60 * 60 - RECENT_BEFORE
        for size in SIZES:
            base = Variant(size, "none").database
            started = time.perf_counter()
            self.pg.psql(f"DROP DATABASE IF EXISTS {base}; CREATE DATABASE {base};")
            self.pg.psql(SCHEMA_SQL, base)
            drops = [f"ALTER TABLE {t} DROP CONSTRAINT {t}_pkey;" for t, _, _ in TABLES]
            drops += [f"DROP INDEX {name};" for _, name, _ in _SECONDARY]
            self.pg.psql("\n".join(drops), base)
            for _table, generator, per_second in TABLES:
                rows = int(size * per_second / RATE) - int(
                    (RECENT_BEFORE + RECENT_AFTER) * per_second
                )
                last = int(history_end * per_second)
                self.pg.psql(_bind(generator, last - rows, last), base)
            adds = [
                f"ALTER TABLE {t} ADD CONSTRAINT {t}_pkey PRIMARY KEY (id);" for t, _, _ in TABLES
            ]
            adds += [f"CREATE INDEX {name} ON {table} {cols};" for table, name, cols in _SECONDARY]
            self.pg.psql("\n".join(adds), base)
            self.log(f"  built {base} in {time.perf_counter() - started:.0f} s")
            for index in INDEXES[1:]:
                started = time.perf_counter()
                name = Variant(size, index).database
                self.pg.psql(f"DROP DATABASE IF EXISTS {name};")
                self.pg.psql(f"CREATE DATABASE {name} TEMPLATE {base} STRATEGY FILE_COPY;")
                self.pg.psql(";\n".join(timestamp_index_sql(index)) + ";", name)
                self.log(f"  built {name} in {time.perf_counter() - started:.0f} s")
        self.state_file.write_text(
            json.dumps({"version": DATA_VERSION, "complete": True, "history_end": history_end})
        )

    def top_up(self, now: float) -> None:
        """Rewrite [history_end, now + 20 min) so that windows ending now are full."""
        history_end = self.history_end()
        for variant in VARIANTS:
            statements = ["CREATE EXTENSION IF NOT EXISTS pg_stat_statements;"]
            for table, generator, per_second in TABLES:
                statements.append(
                    f"DELETE FROM {table} WHERE timestamp >= "
                    f"to_timestamp({history_end}) AT TIME ZONE 'UTC';"
                )
                first = int((now - RECENT_BEFORE) * per_second)
                statements.append(
                    _bind(
                        generator, first, first + int((RECENT_BEFORE + RECENT_AFTER) * per_second)
                    )
                    + ";"
                )
            statements.append("VACUUM (ANALYZE);")
            self.pg.psql("\n".join(statements), variant.database)


def _bind(sql: str, first: int, last: int) -> str:
    """psql cannot bind parameters; these two are integers we computed."""
    return sql.replace("$1::bigint", str(int(first))).replace("$2::bigint", str(int(last)))
