"""`syncmon check --from URL[,URL…]` (SPEC §16): answers from real watcher processes."""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.integration.http_endpoints import EndpointServer, answer
from tests.integration.serve_support import (
    ENDPOINT_RULE,
    TOKEN,
    alert,
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


async def check_from(urls: str, *flags: str, token: str | None = None) -> tuple[int, str, str]:
    """The real command as its own process (never blocking the loop that serves the tests)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "syncmon",
        "check",
        "--from",
        urls,
        *flags,
        env=watcher_env(None, token),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


def _firing(document: dict[str, Any] | None) -> dict[str, Any] | None:
    return document if (alert(document, RULE) or {}).get("state") == "firing" else None


async def test_answers_with_the_watchers_verdict_in_every_form(
    seed_db: str, tmp_path: Path
) -> None:
    await insert_operations(seed_db, ok=10, failed=10)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    process = spawn_watcher(write_config(tmp_path, FAILURE_RULE.format(for_="0s")), seed_db, port)
    try:
        served = await wait_until(lambda: _check_state(port), timeout=20)
        text = await check_from(url)
        code, out, _ = await check_from(url, "--format", "json")
        nagios = await check_from(url, "--format", "nagios")
    finally:
        stop(process)
    assert text[0] == 2
    assert f"from watcher {url}: state" in text[1]
    assert "CRITICAL" in text[1] and RULE in text[1]
    assert code == 2
    report = json.loads(out)
    assert report["status"] == "critical"
    assert report["watcher"]["url"] == url
    assert 0 <= report["watcher"]["age_seconds"] < 3
    assert report["watcher"]["interval_seconds"] == 1.0
    reported = report["alerts"][0]
    assert (reported["name"], reported["state"], reported["value"]) == (RULE, "firing", 0.5)
    served_alert = alert(served, RULE)
    assert served_alert is not None and reported["id"] == served_alert["id"]
    assert report["metrics"]["sync_failure_rate"]["samples"] == 20
    assert nagios[0] == 2
    assert nagios[1].startswith(f"SYNCMON CRITICAL - {RULE} (critical since ")
    assert "watcher state" in nagios[1] and "'sync_failure_rate'=50%" in nagios[1]


async def _check_state(port: int) -> dict[str, Any] | None:
    return _firing(await state(port))


async def test_endpoint_for_is_decided_from_the_watchers_history(tmp_path: Path) -> None:
    down = answer(503, {"status": "down"})
    routes = {p: down for p in ("/api/health/sync", "/api/health/plaid")}
    routes |= {
        p: answer(200, {"status": "up"}) for p in ("/api/health/database", "/api/health/redis")
    }
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    async with EndpointServer(routes) as api:
        process = spawn_watcher(
            write_config(tmp_path, ENDPOINT_RULE.format(for_="4s")),
            None,
            port,
            "--api-url",
            api.url,
        )
        try:
            # one alert per endpoint (SPEC §15): sync's, among the four
            await wait_until(lambda: _in_state(port, SYNC, "pending"), timeout=20)
            pending = await check_from(url, "--format", "json")
            await wait_until(lambda: _in_state(port, SYNC, "firing"), timeout=20)
            firing = await check_from(url, "--format", "json")
        finally:
            stop(process)
    before = _named(json.loads(pending[1]), SYNC)
    after = _named(json.loads(firing[1]), SYNC)
    assert before is not None and after is not None
    assert before["state"] == "pending"  # the watcher has seen it for < 4s
    assert pending[0] == 0
    assert after["state"] == "firing"  # and then for 4s: for is met, it pages
    assert firing[0] == 2
    assert after["since_seen"] is True
    assert after["since"] == before["since"]  # one episode
    assert after["labels"]["endpoint"] == "sync"


SYNC = "Endpoint Down (sync)"


def _named(report: dict[str, Any] | None, key: str) -> dict[str, Any] | None:
    """An alert by its key, `Endpoint Down (sync)`: the rule's name and its endpoint."""
    for a in (report or {}).get("alerts", []):
        endpoint = a["labels"].get("endpoint")
        if (f"{a['name']} ({endpoint})" if endpoint else a["name"]) == key:
            return dict(a)
    return None


async def _in_state(port: int, name: str, wanted: str) -> bool:
    return (_named(await state(port), name) or {}).get("state") == wanted


async def test_fails_over_in_order_to_the_next_watcher(seed_db: str, tmp_path: Path) -> None:
    await insert_operations(seed_db, ok=20)
    port, dead = free_port(), free_port()
    live = f"http://127.0.0.1:{port}"
    process = spawn_watcher(write_config(tmp_path, FAILURE_RULE.format(for_="0s")), seed_db, port)
    try:
        await wait_until(lambda: state(port), timeout=20)
        code, out, _ = await check_from(f"http://127.0.0.1:{dead},{live}")
    finally:
        stop(process)
    assert code == 0, out
    assert f"from watcher {live}: state" in out


async def test_a_state_older_than_two_intervals_is_unknown(seed_db: str, tmp_path: Path) -> None:
    """A real watcher's firing state, served again once it is three intervals old."""
    await insert_operations(seed_db, ok=10, failed=10)
    port = free_port()
    process = spawn_watcher(write_config(tmp_path, FAILURE_RULE.format(for_="0s")), seed_db, port)
    try:
        recorded = await wait_until(lambda: _check_state(port), timeout=20)
    finally:
        stop(process)
    evaluated = datetime.fromisoformat(recorded["evaluated_at"])
    async with EndpointServer({"/api/v1/state": answer(200, recorded)}) as replay:
        await wait_until(lambda: (datetime.now(UTC) - evaluated).total_seconds() > 3, timeout=5)
        code, out, _ = await check_from(replay.url)
        nagios = await check_from(replay.url, "--format", "nagios")
    assert code == 3  # though it says a critical rule fires: that was seconds ago
    assert "more than two intervals" in out
    assert nagios[0] == 3 and nagios[1].startswith("SYNCMON UNKNOWN - ")


async def test_no_watcher_or_a_refused_token_is_unknown(seed_db: str, tmp_path: Path) -> None:
    await insert_operations(seed_db, ok=20)
    code, out, _ = await check_from(f"http://127.0.0.1:{free_port()}")
    assert code == 3
    assert "no watcher answered" in out
    port = free_port()
    process = spawn_watcher(
        write_config(tmp_path, FAILURE_RULE.format(for_="0s")), seed_db, port, token=TOKEN
    )
    try:
        await wait_until(lambda: state(port, TOKEN), timeout=20)
        refused = await check_from(f"http://127.0.0.1:{port}", token="wrong-token")
        accepted = await check_from(f"http://127.0.0.1:{port}", token=TOKEN)
    finally:
        stop(process)
    assert refused[0] == 3
    assert "401" in refused[1] and "SYNCMON_WATCH_TOKEN" in refused[1]
    assert "wrong-token" not in refused[1] + refused[2]
    assert accepted[0] == 0


async def test_a_usage_error_in_from_is_unknown() -> None:
    code, out, _ = await check_from("ftp://example.org", "--format", "nagios")
    assert code == 3
    assert out.startswith("SYNCMON UNKNOWN - ") and "ftp://example.org" in out
