"""`check` and the engine against hostile endpoints and flags (SPEC §12, issue 9): a process,
a real database, real HTTP servers."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from syncmon.config.settings import Overrides, resolve_settings
from syncmon.engine.poll import Engine, PollRequest
from tests.integration.http_endpoints import EndpointServer, answer, healthy_routes
from tests.integration.rows import Op, insert_operations
from tests.integration.test_check_command import SHIPPED, check_json, syncmon

pytestmark = pytest.mark.database
DEEP = b'{"status": "pass", "x": ' + b"[" * 1100 + b"]" * 1100 + b"}"
ENDPOINT_RULE = (
    'alerts:\n  - {name: "Endpoint Down", condition: "endpoints_down > 0", severity: critical}\n'
)


def refused_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


async def test_a_deep_health_body_leaves_the_database_rules_and_the_exit_code_alone(
    seed_db: str,
) -> None:
    """It raised RecursionError: exit 3 instead of 2, every source lost."""
    await insert_operations(seed_db, [Op(10, "sync_push", 100, i % 2 == 0) for i in range(40)])
    routes = healthy_routes()
    routes["/api/health/sync"] = answer(200, raw=DEEP)
    async with EndpointServer(routes) as api:
        code, report = await check_json(seed_db, api.url)
    assert code == 2 and report["errors"] == []
    endpoints = {e["name"]: e for e in report["endpoints"]}
    assert endpoints["sync"]["status"] == "up"
    assert "nested deeper than 64 levels" in endpoints["sync"]["error"]
    states = {a["name"]: a["state"] for a in report["alerts"]}
    assert states["High Sync Failure Rate"] == "firing"  # 50% failures, read from the table


async def test_refused_requests_are_not_fast_answers(seed_db: str) -> None:
    """ "Slow API Response: ok 14ms" while all four endpoints were DOWN."""
    code, report = await check_json(seed_db, refused_url())
    assert [e["status"] for e in report["endpoints"]] == ["down"] * 4
    response_time = report["metrics"]["api_response_time"]
    assert (response_time["value"], response_time["samples"]) == (None, 0)
    states: dict[str, set[str]] = {}  # a rule over endpoints has one alert per endpoint
    for alert in report["alerts"]:
        states.setdefault(alert["name"], set()).add(alert["state"])
    assert states["Slow API Response"] == {"nodata"}
    # all four down, but `for: 1m` cannot be confirmed by one check: pending, exit 1 (§15)
    assert states["Health Endpoint Down"] == {"pending"} and code == 1


async def test_response_time_counts_the_answered_requests_only(tmp_path: Path) -> None:
    routes = healthy_routes()
    routes["/api/health/plaid"] = answer(200, {"status": "pass"}, delay=0.4)
    del routes["/api/health/redis"]  # 404: an answer, counted
    config = tmp_path / "a.yaml"
    config.write_text(
        "alerts: []\nsources:\n  api:\n    timeout: 1s\n    endpoints:\n"
        "      sync: /api/health/sync\n      plaid: /api/health/plaid\n"
        "      redis: /api/health/redis\n      gone: /gone\n"
    )
    async with EndpointServer(routes) as api:
        routes["/gone"] = answer(200, {"status": "pass"}, delay=5)  # times out
        settings = resolve_settings(Overrides(config=str(config), api_url=api.url), {})
        async with Engine(settings) as engine:
            snapshot = await engine.poll(PollRequest())
    by_name = {e.name: e for e in snapshot.endpoints or []}
    assert by_name["gone"].status == "down" and not by_name["gone"].answered
    response_time = snapshot.display_metrics["api_response_time"]
    assert response_time.samples == 3
    answered = [by_name[n].latency_ms or 0 for n in ("sync", "plaid", "redis")]
    assert response_time.value == pytest.approx(sum(answered) / 3)
    assert 130 < (response_time.value or 0) < 600  # plaid's 400 ms in three, not the 1 s timeout


def _closed_stdout_run(*args: str) -> subprocess.CompletedProcess[str]:
    """Run syncmon with a stdout whose reader has already gone (`| head -c0`)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SYNCMON_")}
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        return subprocess.run(
            [sys.executable, "-m", "syncmon", *args],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            check=False,
            timeout=60,
        )
    finally:
        os.close(write_end)


@pytest.mark.parametrize("output_format", ["text", "json", "nagios"])
def test_a_closed_stdout_keeps_the_exit_code_without_a_traceback(
    tmp_path: Path, output_format: str
) -> None:
    config = tmp_path / "a.yaml"
    config.write_text(ENDPOINT_RULE)
    result = _closed_stdout_run(
        "check", "--config", str(config), "--api-url", refused_url(), "--format", output_format
    )
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr and "BrokenPipe" not in result.stderr
    valid = _closed_stdout_run("validate", str(config))
    assert valid.returncode == 0 and valid.stderr == ""


@pytest.mark.parametrize("command", ["check", "watch", "doctor", "tui"])
async def test_bad_ports_stop_every_command_before_it_starts(command: str) -> None:
    env = {"SYNCMON_DATABASE_URL": "postgresql://mon:pw-port-1@127.0.0.1:notaport/app"}
    code, out, err = await syncmon(
        command, "--config", SHIPPED, "--api-url", "http://127.0.0.1:99999", env=env, timeout=20
    )
    assert code == 3
    assert "Traceback" not in err
    assert "SYNCMON_DATABASE_URL: the DSN port 'notaport' is not a number (1-65535)" in err
    assert "--api-url: the API URL port 99999 is out of range (1-65535)" in err
    assert "pw-port-1" not in out + err
