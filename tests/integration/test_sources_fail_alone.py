"""Sources fail alone, and UNKNOWN is never OK (SPEC §12): a locked table blinds only its own
rules and leaves nothing running in PostgreSQL; unconfigured, empty and all-nodata exit 3."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from tests.integration.http_endpoints import EndpointServer, answer, healthy_routes
from tests.integration.incident import INCIDENT_RULE, RULE_NAME, write_incident
from tests.integration.test_check_command import SHIPPED, syncmon
from tests.integration.watch_support import RunningWatcher, settings_for, wait_until

pytestmark = pytest.mark.database

LOCKED_CONFIG = (
    INCIDENT_RULE
    + """
  - name: "Low Auto-Resolve Rate"
    condition: "conflict_auto_resolve_rate < 80%"
    severity: "warning"
  - name: "Health Endpoint Down"
    condition: "endpoints_down > 0"
    severity: "critical"
sources:
  api: {timeout: 1s}
  database: {statement_timeout: 1s}
"""
)


@pytest.fixture
async def locked(seed_db: str) -> AsyncIterator[str]:
    """`conflict_resolution_history` locked by another session for the whole test."""
    await write_incident(seed_db)
    holder = await asyncpg.connect(seed_db)
    transaction = holder.transaction()
    await transaction.start()
    await holder.execute("LOCK TABLE conflict_resolution_history IN ACCESS EXCLUSIVE MODE")
    yield seed_db
    await transaction.rollback()
    await holder.close()


@pytest.fixture
def locked_config(tmp_path: Path) -> Path:
    config = tmp_path / "locked.yaml"
    config.write_text(LOCKED_CONFIG)
    return config


@pytest.fixture
async def redis_down() -> AsyncIterator[EndpointServer]:
    """The health endpoints, with redis answering 503 DOWN."""
    routes = healthy_routes()
    routes["/api/health/redis"] = answer(503, {"status": "DOWN"})
    async with EndpointServer(routes) as api:
        yield api


async def running_syncmon_statements(dsn: str) -> list[str]:
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch(
            "SELECT query FROM pg_stat_activity WHERE application_name = 'syncmon'"
            " AND state <> 'idle' AND pid <> pg_backend_pid()"
        )
    finally:
        await conn.close()
    return [r["query"] for r in rows]


async def test_a_locked_table_blinds_only_its_rules_and_leaves_nothing_running(
    locked: str, locked_config: Path, redis_down: EndpointServer
) -> None:
    started = time.monotonic()
    code, out, err = await syncmon(
        "check",
        "--config",
        str(locked_config),
        "--dsn",
        locked,
        "--api-url",
        redis_down.url,
        "--format",
        "json",
    )
    elapsed = time.monotonic() - started
    report = json.loads(out)
    states = {a["name"]: a for a in report["alerts"] if "endpoint" not in a["labels"]}
    # the failure rate sits on another table: it fires; so does redis's endpoint alert
    assert code == 2, err
    assert states[RULE_NAME]["state"] == "firing"
    redis = next(a for a in report["alerts"] if a["labels"].get("endpoint") == "redis")
    assert (redis["name"], redis["state"]) == ("Health Endpoint Down", "firing")
    blinded = states["Low Auto-Resolve Rate"]
    assert blinded["state"] == "error"
    assert blinded["note"].startswith("conflict_resolution_history: ")
    assert "lock" in blinded["note"]
    # statement_timeout 1 s + health timeout 1 s + 1 s, plus the interpreter's start
    assert elapsed < 3 + 1.5, f"{elapsed:.1f}s"
    # the server ended the statement itself: nothing of syncmon's is left running
    assert await wait_until(lambda: _nothing_running(locked), timeout=2)


async def _nothing_running(dsn: str) -> bool:
    return not await running_syncmon_statements(dsn)


async def test_a_locked_table_does_not_hold_back_health_in_watch(
    locked: str, locked_config: Path, redis_down: EndpointServer
) -> None:
    settings = settings_for(locked_config, locked, api_url=redis_down.url, interval="500ms")
    async with RunningWatcher(settings, source_timeout=2.0) as running:
        await wait_until(lambda: len(running.out.events()) >= 3, timeout=15)
    events = {(e["rule"], e["event"]) for e in running.out.events()}
    assert ("Health Endpoint Down", "firing") in events
    assert (RULE_NAME, "firing") in events
    assert ("Low Auto-Resolve Rate", "error") in events


async def check_nagios(*args: str) -> tuple[int, str]:
    code, out, _ = await syncmon("check", "--format", "nagios", *args)
    return code, out.strip()


async def test_a_rule_over_an_unconfigured_source_is_unknown_naming_the_setting(
    seed_db: str, tmp_path: Path
) -> None:
    config = tmp_path / "ep.yaml"
    config.write_text(
        "alerts:\n  - {name: Down, condition: 'endpoints_down > 0', severity: critical}\n"
    )
    code, line = await check_nagios("--config", str(config), "--dsn", seed_db)
    assert code == 3
    assert line.startswith("SYNCMON UNKNOWN - 1 rule needs health endpoints")
    assert "SYNCMON_API_URL" in line and "1 error" in line
    assert "ok" not in line.split("|")[0].split(";")[-1]


async def test_no_rules_is_unknown(seed_db: str, tmp_path: Path) -> None:
    config = tmp_path / "empty.yaml"
    config.write_text("alerts: []\n")
    code, line = await check_nagios("--config", str(config), "--dsn", seed_db)
    assert code == 3
    assert line.startswith(f"SYNCMON UNKNOWN - no rules in {config}; no rules")


async def test_every_rule_nodata_is_unknown_and_counted_not_ok(
    seed_db: str, tmp_path: Path
) -> None:
    async with EndpointServer(healthy_routes()) as api:
        code, line = await check_nagios("--config", SHIPPED, "--dsn", seed_db, "--api-url", api.url)
    # the endpoint rules are ok, so something is known: 0, but nodata is never called ok
    assert code == 0
    assert line.startswith("SYNCMON OK - 3 nodata, 8 ok | ")  # 2 endpoint rules × 4 endpoints
    only_db = tmp_path / "db-rules.yaml"
    only_db.write_text(Path(SHIPPED).read_text().split('  - name: "Health Endpoint Down"')[0])
    code, line = await check_nagios("--config", str(only_db), "--dsn", seed_db)
    assert code == 3
    assert "every rule is nodata" in line and "; 3 nodata" in line


async def test_connection_errors_name_where_without_the_password(tmp_path: Path) -> None:
    config = tmp_path / "one.yaml"
    config.write_text(INCIDENT_RULE)
    dsn = "postgresql://monitor:s3cr3t-pw@127.0.0.1:1/app"
    code, out, err = await syncmon(
        "check", "--config", str(config), "--dsn", dsn, "--format", "json"
    )
    report = json.loads(out)
    assert code == 3
    assert "database 127.0.0.1:1/app: connection refused" in report["errors"]
    assert "s3cr3t-pw" not in out + err


async def test_a_locked_table_does_not_hold_back_health_in_the_dashboard(
    locked: str, redis_down: EndpointServer
) -> None:
    from syncmon.ui.launch import create_app
    from tests.ui.helpers import make_settings, wait_for

    settings = make_settings(redis_down.url, locked, rules=LOCKED_CONFIG, health_timeout=1.0)
    app = create_app(settings)
    async with app.run_test(size=(160, 50)) as pilot:
        trackers = app.alerts.trackers
        await wait_for(
            pilot,
            lambda: (
                "Health Endpoint Down (redis)" in trackers
                and trackers["Health Endpoint Down (redis)"].firing
                and trackers[RULE_NAME].firing
            ),
            what="the endpoint and failure-rate rules firing",
        )
        await wait_for(
            pilot, lambda: trackers["Low Auto-Resolve Rate"].error is not None, what="error"
        )
        assert "conflict_resolution_history" in (trackers["Low Auto-Resolve Rate"].error or "")
