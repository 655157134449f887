"""The demo backend over real HTTP and a real PostgreSQL (SPEC §1.3, §9)."""

from __future__ import annotations

import asyncio
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from pydantic import SecretStr

from syncmon.demo.backend import DemoBackend
from syncmon.demo.incidents import CYCLE_S, SCHEDULE, Kind, active_kinds
from syncmon.demo.workload import Profile, Workload
from tests.conftest import PgServer, create_database, drop_database
from tests.integration.watch_support import wait_until

pytestmark = pytest.mark.database

SECURITY_HEADERS = {
    "content-security-policy": "default-src 'self'",
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "x-xss-protection": "1; mode=block",
}
HEALTH = {
    "sync": "/api/health/sync",
    "plaid": "/api/health/plaid",
    "database": "/api/health/database",
    "redis": "/api/health/redis",
}


@pytest.fixture
async def backend(seed_db: str) -> AsyncIterator[DemoBackend]:
    async with DemoBackend(
        dsn=seed_db, history_hours=0, live=False, seed=7, initial_conflicts=3
    ) as demo:
        yield demo


@pytest.fixture
async def client(backend: DemoBackend) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=backend.api_url, timeout=10) as http:
        yield http


async def fetch(dsn: str, sql: str, *args: Any) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(dsn)
    try:
        return await conn.fetch(sql, *args)
    finally:
        await conn.close()


def resolve_url(conflict_id: str) -> str:
    return f"/api/v1/sync/conflicts/{conflict_id}/resolve"


def decision(
    conflict: dict[str, Any],
    resolution: str = "keep_local",
    **extra: Any,
) -> dict[str, Any]:
    body = {"resolution": resolution, "version": conflict["version"], "resolved_by": "alice"}
    return {**body, **extra}


# -- health endpoints ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "http_status", "ietf", "spring"),
    [
        ("up", 200, "pass", "UP"),
        ("degraded", 200, "warn", "DEGRADED"),
        ("down", 503, "fail", "DOWN"),
    ],
)
async def test_health_endpoints_map_status_and_carry_security_headers(
    backend: DemoBackend,
    client: httpx.AsyncClient,
    status: str,
    http_status: int,
    ietf: str,
    spring: str,
) -> None:
    for name, path in HEALTH.items():
        backend.set_endpoint(name, status)
        response = await client.get(path)
        assert response.status_code == http_status, name
        for header, value in SECURITY_HEADERS.items():
            assert response.headers[header] == value, (name, header)
        body = response.json()
        if name == "redis":
            assert body["status"] == spring
        else:
            assert response.headers["content-type"] == "application/health+json"
            assert body["status"] == ietf
            assert isinstance(body["checks"], dict) and body["checks"]


async def test_hanging_endpoint_never_answers(
    backend: DemoBackend, client: httpx.AsyncClient
) -> None:
    backend.set_endpoint("redis", "hang")
    with pytest.raises(httpx.ReadTimeout):
        await client.get(HEALTH["redis"], timeout=0.5)
    assert (await client.get(HEALTH["sync"])).status_code == 200


async def test_endpoint_latency_is_small_and_can_be_set(
    backend: DemoBackend, client: httpx.AsyncClient
) -> None:
    response = await client.get(HEALTH["sync"])
    assert response.elapsed < timedelta(milliseconds=300)
    backend.set_endpoint("sync", "up", latency_ms=400)
    response = await client.get(HEALTH["sync"])
    assert response.elapsed >= timedelta(milliseconds=400)


async def test_scheduled_incidents_drive_the_endpoints(
    backend: DemoBackend, client: httpx.AsyncClient
) -> None:
    backend.jump_to_incident("redis_down")
    response = await client.get(HEALTH["redis"])
    assert response.status_code == 503 and response.json()["status"] == "DOWN"
    backend.jump_to_incident("slow_health")
    response = await client.get(HEALTH["plaid"])
    assert response.elapsed > timedelta(milliseconds=500)


# -- conflicts -----------------------------------------------------------------------------


async def test_open_conflicts_list_ids_and_versions(
    backend: DemoBackend, client: httpx.AsyncClient
) -> None:
    added = backend.add_conflict(version=11, entity_type="transaction")
    response = await client.get("/api/v1/sync/conflicts", params={"status": "open"})
    assert response.status_code == 200
    listed = {c["id"]: c for c in response.json()["conflicts"]}
    assert len(listed) == 4
    assert listed[added["id"]]["version"] == 11
    for conflict in listed.values():
        uuid.UUID(conflict["id"]), uuid.UUID(conflict["user_id"])
        assert {"entity_type", "entity_id", "detected_at", "local", "remote", "base"} <= set(
            conflict
        )
        assert conflict["local"] != conflict["remote"]
        assert conflict["detected_at"].endswith("+00:00")


@pytest.mark.parametrize(
    ("resolution", "extra", "expected_type"),
    [
        ("keep_local", {}, "manual_keep_local"),
        ("keep_remote", {"note": "customer confirmed"}, "manual_keep_remote"),
        ("merge", {"merged": {"amount": 12.5, "category": "Dining"}}, "manual_merge"),
    ],
)
async def test_resolving_records_one_manual_history_row(
    backend: DemoBackend,
    client: httpx.AsyncClient,
    resolution: str,
    extra: dict[str, Any],
    expected_type: str,
) -> None:
    conflict = backend.add_conflict(version=4)
    response = await client.post(
        resolve_url(conflict["id"]), json=decision(conflict, resolution, **extra)
    )
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "resolved"
    rows = await fetch(
        backend.dsn,
        "SELECT * FROM conflict_resolution_history WHERE conflict_id = $1",
        uuid.UUID(conflict["id"]),
    )
    assert len(rows) == 1
    row = rows[0]
    assert str(row["id"]) == body["resolution_id"]
    assert row["resolution_type"] == expected_type
    assert row["auto_resolved"] is False
    assert str(row["user_id"]) == conflict["user_id"]
    data = json.loads(row["resolution_data"])
    assert data["resolution"] == resolution and data["resolved_by"] == "alice"
    assert data["version"] == 4
    assert data["merged"] == extra.get("merged")
    assert data["note"] == extra.get("note")
    open_ids = [c["id"] for c in (await client.get("/api/v1/sync/conflicts")).json()["conflicts"]]
    assert conflict["id"] not in open_ids


async def test_second_resolution_is_409_naming_who_resolved(
    backend: DemoBackend, client: httpx.AsyncClient
) -> None:
    conflict = backend.add_conflict()
    assert (
        await client.post(resolve_url(conflict["id"]), json=decision(conflict))
    ).status_code == 200
    second = await client.post(
        resolve_url(conflict["id"]), json={**decision(conflict), "resolved_by": "bob"}
    )
    assert second.status_code == 409
    assert second.json()["resolved_by"] == "alice"
    assert "resolved_at" in second.json()


async def test_stale_version_is_409_with_current_version(
    backend: DemoBackend, client: httpx.AsyncClient
) -> None:
    conflict = backend.add_conflict(version=3)
    backend.bump_conflict_version(conflict["id"], {"note": "edited again on the phone"})
    response = await client.post(resolve_url(conflict["id"]), json=decision(conflict))
    assert response.status_code == 409
    assert response.json() == {"error": "version mismatch", "current_version": 4}
    assert not await fetch(backend.dsn, "SELECT 1 FROM conflict_resolution_history")


@pytest.mark.parametrize("conflict_id", [str(uuid.uuid4()), "not-a-uuid"])
async def test_unknown_conflict_is_404(client: httpx.AsyncClient, conflict_id: str) -> None:
    response = await client.post(
        resolve_url(conflict_id),
        json={"resolution": "keep_local", "version": 1, "resolved_by": "alice"},
    )
    assert response.status_code == 404


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b"[1, 2]",
        b"",
        {"resolution": "keep_local", "resolved_by": "alice"},
        {"resolution": "keep_local", "version": "3", "resolved_by": "alice"},
        {"resolution": "keep_local", "version": True, "resolved_by": "alice"},
        {"resolution": "delete_both", "version": 3, "resolved_by": "alice"},
        {"resolution": "merge", "version": 3, "resolved_by": "alice"},
        {"resolution": "merge", "merged": "a string", "version": 3, "resolved_by": "alice"},
        {"resolution": "keep_remote", "merged": {"a": 1}, "version": 3, "resolved_by": "alice"},
        {"resolution": "keep_local", "version": 3},
        {"resolution": "keep_local", "version": 3, "resolved_by": "alice", "note": 5},
    ],
)
async def test_invalid_body_is_422(
    backend: DemoBackend, client: httpx.AsyncClient, body: bytes | dict[str, Any]
) -> None:
    conflict = backend.add_conflict(version=3)
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    response = await client.post(
        resolve_url(conflict["id"]), content=content, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 422
    assert "error" in response.json() and "detail" in response.json()
    assert not await fetch(backend.dsn, "SELECT 1 FROM conflict_resolution_history")


async def test_injected_failure_changes_nothing_and_retry_succeeds(
    backend: DemoBackend, client: httpx.AsyncClient
) -> None:
    conflict = backend.add_conflict()
    backend.fail_next_resolves(1, 503)
    first = await client.post(resolve_url(conflict["id"]), json=decision(conflict))
    assert first.status_code == 503
    assert not await fetch(backend.dsn, "SELECT 1 FROM conflict_resolution_history")
    retry = await client.post(resolve_url(conflict["id"]), json=decision(conflict))
    assert retry.status_code == 200
    assert [r.response_status for r in backend.resolve_requests] == [503, 200]


async def test_concurrent_resolutions_one_wins(
    backend: DemoBackend, client: httpx.AsyncClient
) -> None:
    conflict = backend.add_conflict()
    responses = await asyncio.gather(
        *(
            client.post(
                resolve_url(conflict["id"]), json={**decision(conflict), "resolved_by": who}
            )
            for who in ("alice", "bob")
        )
    )
    assert sorted(r.status_code for r in responses) == [200, 409]
    winner = next(r for r in responses if r.status_code == 200)
    loser = next(r for r in responses if r.status_code == 409)
    rows = await fetch(backend.dsn, "SELECT resolution_data FROM conflict_resolution_history")
    assert len(rows) == 1
    assert json.loads(rows[0]["resolution_data"])["resolved_by"] == loser.json()["resolved_by"]
    assert winner.json()["status"] == "resolved"


async def test_token_required_on_every_route(seed_db: str) -> None:
    async with (
        DemoBackend(dsn=seed_db, history_hours=0, live=False, token=SecretStr("s3cret")) as demo,
        httpx.AsyncClient(base_url=demo.api_url) as http,
    ):
        conflict = demo.add_conflict(version=2)
        paths = [*HEALTH.values(), "/api/v1/sync/conflicts?status=open"]
        for path in paths:
            assert (await http.get(path)).status_code == 401
            wrong = await http.get(path, headers={"Authorization": "Bearer nope"})
            assert wrong.status_code == 401
            assert wrong.headers["x-frame-options"] == "DENY"
        assert (
            await http.post(resolve_url(conflict["id"]), json=decision(conflict))
        ).status_code == 401
        good = {"Authorization": "Bearer s3cret"}
        for path in paths:
            assert (await http.get(path, headers=good)).status_code == 200
        ok = await http.post(resolve_url(conflict["id"]), json=decision(conflict), headers=good)
        assert ok.status_code == 200
        accepted = [r for r in demo.resolve_requests if r.response_status == 200]
        assert len(accepted) == 1
        assert accepted[0].headers["authorization"] == "Bearer s3cret"
        assert accepted[0].body["version"] == 2


# -- database contents ---------------------------------------------------------------------


async def test_live_rows_use_default_now_and_carry_the_error_override(backend: DemoBackend) -> None:
    hostile = "\x1b]0;pwned\x07[bold red]boom[/] \x1b[2J"
    backend.set_error_message_override(hostile)
    await backend.write_traffic_tick()
    rows = await fetch(
        backend.dsn,
        "SELECT error_message, localtimestamp - timestamp AS age "
        "FROM sync_performance_metrics WHERE NOT success",
    )
    assert rows and all(r["error_message"] == hostile for r in rows)
    assert all(abs(r["age"]) < timedelta(seconds=30) for r in rows)


async def test_history_spans_the_requested_hours_in_the_database_zone(seed_db: str) -> None:
    async with DemoBackend(dsn=seed_db, history_hours=2, live=False, seed=1) as demo:
        span = (
            await fetch(
                demo.dsn,
                "SELECT min(timestamp) AS lo, max(timestamp) AS hi, "
                "localtimestamp AS now, count(*) AS n "
                "FROM sync_performance_metrics",
            )
        )[0]
    assert abs(span["now"] - span["hi"]) < timedelta(minutes=1)
    assert abs(span["now"] - timedelta(hours=2) - span["lo"]) < timedelta(minutes=2)
    assert 2 * 60 * 55 < span["n"] < 2 * 60 * 160


async def test_history_in_a_new_york_database(pg_server: PgServer) -> None:
    dsn = await create_database(pg_server, timezone="America/New_York")
    try:
        async with DemoBackend(dsn=dsn, history_hours=1, live=False, seed=2):
            pass
        newest = (
            await fetch(
                dsn,
                "SELECT (now() AT TIME ZONE 'America/New_York') "
                "- max(timestamp) AS lag FROM sync_performance_metrics",
            )
        )[0]
        assert timedelta(0) <= newest["lag"] < timedelta(minutes=1)
    finally:
        await drop_database(pg_server, dsn)


async def test_embedded_new_york_cluster_with_live_traffic_cleans_up(tmp_path: Path) -> None:
    demo = DemoBackend(timezone="America/New_York", history_hours=0.5, seed=3)
    await demo.start()
    try:
        assert ":@" not in demo.dsn and "password" not in demo.dsn
        assert demo._pg is not None
        root = demo._pg.root
        query = """
            SELECT current_setting('TimeZone') AS tz,
                   (now() AT TIME ZONE 'America/New_York') - max(timestamp) AS lag,
                   count(*) FILTER (WHERE timestamp > localtimestamp - interval '10 seconds')
                       AS live
            FROM sync_performance_metrics"""

        async def live_rows() -> list[asyncpg.Record] | None:
            found = await fetch(demo.dsn, query)
            return found if found[0]["live"] else None

        rows = await wait_until(live_rows, timeout=30)
        assert rows[0]["tz"] == "America/New_York"
        assert timedelta(0) <= rows[0]["lag"] < timedelta(minutes=1)
        assert rows[0]["live"] > 0
    finally:
        await demo.stop()
    assert not root.exists()


async def test_full_day_history_has_rhythm_incidents_and_conflicts(seed_db: str) -> None:
    async with DemoBackend(dsn=seed_db, history_hours=24, live=False, seed=5) as demo:

        def window(ago_h: float, minutes: int) -> str:
            return (
                f"timestamp >= localtimestamp - interval '{ago_h * 60} minutes' AND "
                f"timestamp < localtimestamp - interval '{ago_h * 60 - minutes} minutes'"
            )

        sync, plaid = "operation_type NOT LIKE 'plaid%'", "operation_type LIKE 'plaid%'"
        q = f"""SELECT
          avg((NOT success)::int) FILTER (WHERE {sync} AND {window(3, 20)}) AS spike,
          avg((NOT success)::int) FILTER (WHERE {plaid} AND {window(9, 45)}) AS plaid_outage,
          avg(duration_ms) FILTER (WHERE {sync} AND {window(15, 30)}) AS slow,
          avg((NOT success)::int) FILTER (WHERE {window(2, 60)}) AS quiet_failures,
          avg(duration_ms) FILTER (WHERE {sync} AND {window(2, 60)}) AS quiet_duration,
          count(*) / (24.0 * 60) AS per_minute,
          count(DISTINCT operation_type) FILTER (WHERE {plaid}) AS plaid_types
        FROM sync_performance_metrics"""
        stats = (await fetch(demo.dsn, q))[0]
        conflicts = (
            await fetch(
                demo.dsn, "SELECT avg(auto_resolved::int) AS auto FROM conflict_resolution_history"
            )
        )[0]
        health = await fetch(
            demo.dsn, "SELECT DISTINCT jsonb_typeof(metric_value) AS t FROM sync_health_metrics"
        )
    assert stats["spike"] > 0.05
    assert stats["plaid_outage"] > 0.02
    assert stats["slow"] > 5000
    assert 0.001 < stats["quiet_failures"] < 0.012
    assert 300 < stats["quiet_duration"] < 900
    assert 60 <= stats["per_minute"] <= 150
    assert stats["plaid_types"] == 3
    assert 0.8 < conflicts["auto"] < 0.92
    assert {r["t"] for r in health} == {"number", "object"}


# -- the live schedule, simulated ------------------------------------------------------------


def test_live_schedule_fires_and_resolves_every_database_alert() -> None:
    """One cycle, second by second, with 5-minute windows computed here (not by syncmon)."""
    workload = Workload(random.Random(11))
    per_second: list[list[tuple[Any, ...]]] = []
    for t in range(-300, CYCLE_S):
        kinds = active_kinds(t) if t >= 0 else frozenset()
        per_second.append(workload.operations(Profile.for_incidents(kinds), 2))
    fired: dict[str, list[int]] = {"sync": [], "slow": [], "plaid": []}
    for t in range(0, CYCLE_S, 10):
        ops = [op for second in per_second[t : t + 300] for op in second]
        sync_ops = [op for op in ops if not op[1].startswith("plaid")]
        plaid_ops = [op for op in ops if op[1].startswith("plaid")]
        if sum(not op[3] for op in sync_ops) / len(sync_ops) > 0.05:
            fired["sync"].append(t)
        if sum(op[2] for op in sync_ops) / len(sync_ops) > 5000:
            fired["slow"].append(t)
        if sum(not op[3] for op in plaid_ops) / len(plaid_ops) > 0.02:
            fired["plaid"].append(t)
    for name, times in fired.items():
        assert times, f"{name} never fired"
        assert times[0] < 10 * 60, f"{name} fired late"
        assert times[-1] < CYCLE_S - 60, f"{name} never resolved"
    assert fired["sync"][0] < 3 * 60  # a new user sees something within minutes
    kinds = frozenset(i.kind for i in SCHEDULE)
    assert {Kind.REDIS_DOWN, Kind.SLOW_HEALTH, Kind.CONFLICT_BURST} <= kinds
    assert next(i for i in SCHEDULE if i.kind == Kind.REDIS_DOWN).duration_s >= 90


# -- the HTTP server itself ----------------------------------------------------------------


async def raw_exchange(url: str, payload: bytes) -> bytes:
    host, port = url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(payload)
    await writer.drain()
    data = await asyncio.wait_for(reader.read(), 5)
    writer.close()
    return data


@pytest.mark.parametrize(
    ("payload", "status"),
    [
        (b"\x16\x03\x01garbage\r\n\r\n", b"400"),
        (b"GET /api/health/sync\r\n\r\n", b"400"),
        (b"GET /x HTTP/1.1\r\nBad Header\r\n\r\n", b"400"),
        (b"POST /x HTTP/1.1\r\nContent-Length: 2000000\r\n\r\n", b"413"),
        (b"POST /x HTTP/1.1\r\nContent-Length: -1\r\n\r\n", b"400"),
    ],
)
async def test_server_rejects_garbage(backend: DemoBackend, payload: bytes, status: bytes) -> None:
    response = await raw_exchange(backend.api_url, payload)
    assert response.startswith(b"HTTP/1.1 " + status)


async def test_server_survives_clients_that_disconnect(
    backend: DemoBackend, client: httpx.AsyncClient
) -> None:
    host, port = backend.api_url.removeprefix("http://").split(":")
    for partial in (b"", b"GET /api/hea", b"POST /x HTTP/1.1\r\nContent-Length: 10\r\n\r\nab"):
        _, writer = await asyncio.open_connection(host, int(port))
        writer.write(partial)
        await writer.drain()
        writer.close()
    backend.set_endpoint("redis", "hang")
    with pytest.raises(httpx.ReadTimeout):
        await client.get(HEALTH["redis"], timeout=0.2)
    assert (await client.get(HEALTH["sync"])).status_code == 200


# -- serve_only ----------------------------------------------------------------------------


def _processes_mentioning(text: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if text in (entry / "cmdline").read_bytes().decode(errors="replace"):
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


async def test_serve_only_prints_url_and_dsn_and_stops_clean_on_sigint(tmp_path: Path) -> None:
    # A short TMPDIR of its own: PostgreSQL's socket path must stay under 108 bytes, which
    # pytest's numbered directories (pytest-of-root/pytest-136/test_…/tmp/…) pass in time.
    tmp = Path(tempfile.mkdtemp(prefix="smd-", dir="/tmp"))
    env = {**os.environ, "TMPDIR": str(tmp)}
    stderr_path = tmp_path / "stderr"
    # Plain Popen: asyncio's child watchers can lose the exit status to other reapers.
    with stderr_path.open("w") as stderr:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "from syncmon.demo.runner import serve_only; raise SystemExit(serve_only())",
            ],
            stdout=subprocess.PIPE,
            stderr=stderr,
            env=env,
            text=True,
        )
    assert proc.stdout is not None
    try:
        seen: dict[str, str] = {}
        while "DSN" not in seen or "check" not in seen:
            line = await asyncio.wait_for(asyncio.to_thread(proc.stdout.readline), 60)
            assert line, f"serve_only exited early: {stderr_path.read_text()[-2000:]}"
            if line.startswith("API URL:"):
                seen["url"] = line.split()[-1]
            elif line.startswith("DSN:"):
                seen["DSN"] = line.split()[-1]
            elif "syncmon check" in line:
                seen["check"] = line
        assert seen["url"] in seen["check"] and seen["DSN"] in seen["check"]
        async with httpx.AsyncClient() as http:
            response = await http.get(seen["url"] + HEALTH["database"])
        assert response.status_code == 200
        assert (await fetch(seen["DSN"], "SELECT count(*) AS n FROM sync_performance_metrics"))[0][
            "n"
        ] > 0
        assert _processes_mentioning(str(tmp)), "expected the embedded postgres to run"
        proc.send_signal(signal.SIGINT)
        assert await asyncio.to_thread(proc.wait, 30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    try:
        await wait_until(lambda: _processes_mentioning(str(tmp)) == [], timeout=10)
        assert list(tmp.iterdir()) == []
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
