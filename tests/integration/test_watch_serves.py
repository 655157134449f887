"""`syncmon watch` serves what it knows (SPEC §16): real watcher processes, real HTTP."""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.integration.http_endpoints import EndpointServer, healthy_routes
from tests.integration.serve_support import (
    TOKEN,
    alert,
    get,
    spawn_watcher,
    state,
    stop,
    watcher_env,
)
from tests.integration.watch_support import (
    FAILURE_RULE,
    free_port,
    insert_operations,
    wait_until,
    write_config,
)

pytestmark = pytest.mark.database
RULE = "High Sync Failure Rate"


async def test_state_holds_metrics_endpoints_and_every_alert(seed_db: str, tmp_path: Path) -> None:
    await insert_operations(seed_db, ok=10, failed=10)
    port = free_port()
    async with EndpointServer(healthy_routes()) as api:
        process = spawn_watcher(
            write_config(tmp_path, FAILURE_RULE.format(for_="0s")),
            seed_db,
            port,
            "--api-url",
            api.url,
        )
        try:
            document = await wait_until(
                lambda: _when(
                    state(port), lambda d: (alert(d, RULE) or {}).get("state") == "firing"
                ),
                timeout=20,
            )
        finally:
            stop(process)
    assert document["interval_seconds"] == 1.0
    assert datetime.fromisoformat(document["evaluated_at"]).tzinfo is not None
    failure = document["metrics"]["300"]["sync_failure_rate"]
    assert (failure["value"], failure["samples"], failure["unit"]) == (0.5, 20, "ratio")
    assert [(e["name"], e["status"]) for e in document["endpoints"]] == [
        ("sync", "up"),
        ("plaid", "up"),
        ("database", "up"),
        ("redis", "up"),
    ]
    assert document["errors"] == {}
    firing = alert(document, RULE)
    assert firing is not None
    assert firing["severity"] == "critical"
    assert firing["labels"] == {"team": "mobile"}
    assert firing["observation"]["value"] == 0.5
    assert firing["observation"]["threshold"] == 0.05
    assert re.fullmatch(r"[0-9a-f]{16}", firing["id"])
    assert datetime.fromisoformat(firing["since"]).tzinfo is not None
    assert firing["ack"] is None
    assert document["top_errors"] == [["boom", 10]]  # the failures panel's list


async def _when(coroutine: Any, predicate: Any) -> Any:
    value = await coroutine
    return value if value is not None and predicate(value) else None


async def test_stream_sends_the_state_then_every_change(seed_db: str, tmp_path: Path) -> None:
    port = free_port()
    process = spawn_watcher(write_config(tmp_path, FAILURE_RULE.format(for_="0s")), seed_db, port)
    events: list[dict[str, Any]] = []
    try:
        await wait_until(lambda: state(port), timeout=20)
        async with (
            httpx.AsyncClient(timeout=5) as client,
            client.stream("GET", f"http://127.0.0.1:{port}/api/v1/stream") as response,
        ):
            assert response.headers["content-type"] == "text/event-stream"
            inserted = False
            async with asyncio.timeout(20):
                async for line in response.aiter_lines():
                    if not line.startswith("data: "):
                        continue
                    events.append(json.loads(line.removeprefix("data: ")))
                    if not inserted:
                        await insert_operations(seed_db, ok=10, failed=10)
                        inserted = True
                    if (alert(events[-1], RULE) or {}).get("state") == "firing":
                        break
    finally:
        stop(process)
    states = [(alert(e, RULE) or {}).get("state") for e in events]
    assert states[0] == "nodata" and states[-1] == "firing"
    seqs = [e["seq"] for e in events]
    assert seqs == sorted(set(seqs))  # each evaluation once, in order, none twice
    assert len({e["evaluated_at"] for e in events}) == len(events)


async def test_a_bad_or_missing_token_is_refused(seed_db: str, tmp_path: Path) -> None:
    port = free_port()
    config = write_config(tmp_path, FAILURE_RULE.format(for_="0s"))
    process = spawn_watcher(config, seed_db, port, token=TOKEN)
    try:
        await wait_until(lambda: state(port, TOKEN), timeout=20)
        for path in ("/api/v1/state", "/api/v1/stream", "/metrics"):
            for token in (None, "wrong", TOKEN + "x", TOKEN[:-1]):
                response = await get(port, path, token)
                assert response.status_code == 401, (path, token)
                assert response.headers["www-authenticate"].startswith("Bearer")
                assert TOKEN not in response.text
        assert (await get(port, "/metrics", TOKEN)).status_code == 200
        assert (await get(port, "/nowhere", TOKEN)).status_code == 404
    finally:
        out, err = stop(process)
    assert TOKEN not in out + err


def test_beyond_loopback_without_a_token_refuses_to_start(seed_db: str, tmp_path: Path) -> None:
    port = free_port()
    config = write_config(tmp_path, FAILURE_RULE.format(for_="0s"))
    command = [sys.executable, "-m", "syncmon", "watch", "--config", str(config)]
    command += ["--metrics-host", "0.0.0.0", "--metrics-port", str(port)]
    done = subprocess.run(
        command, env=watcher_env(seed_db), capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 3
    assert "SYNCMON_WATCH_TOKEN" in done.stderr
    assert "beyond loopback" in done.stderr
    assert done.stdout == ""


async def test_beyond_loopback_with_a_token_serves_only_with_it(
    seed_db: str, tmp_path: Path
) -> None:
    port = free_port()
    config = write_config(tmp_path, FAILURE_RULE.format(for_="0s"))
    process = spawn_watcher(config, seed_db, port, "--metrics-host", "0.0.0.0", token=TOKEN)
    try:
        document = await wait_until(lambda: state(port, TOKEN), timeout=20)
        assert document["schema"] == "syncmon.state/1"
        assert (await get(port, "/api/v1/state")).status_code == 401
    finally:
        stop(process)
