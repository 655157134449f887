"""`syncmon check` end to end (SPEC §6): a real process, a real database, real HTTP endpoints."""

from __future__ import annotations

import asyncio
import json
import os
import random
import re
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import PgServer, create_database, drop_database
from tests.integration.http_endpoints import EndpointServer, answer, hang, healthy_routes
from tests.integration.rows import Op, expected_metrics, insert_operations, random_operations

pytestmark = pytest.mark.database
REPO = Path(__file__).resolve().parents[2]
SHIPPED = str(REPO / "alerts.yaml")


async def syncmon(
    *args: str, env: dict[str, str] | None = None, timeout: float = 60
) -> tuple[int, str, str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("SYNCMON_")}
    full_env.update(env or {})
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "syncmon",
        *args,
        env=full_env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def check_json(
    dsn: str, api: str, *extra: str, env: dict[str, str] | None = None, config: str = SHIPPED
) -> tuple[int, dict[str, Any]]:
    code, out, _ = await syncmon(
        "check",
        "--config",
        config,
        "--format",
        "json",
        "--dsn",
        dsn,
        "--api-url",
        api,
        *extra,
        env=env,
    )
    return code, json.loads(out)


async def test_healthy_system_is_ok_with_exact_metrics(seed_db: str) -> None:
    ops = random_operations(random.Random(1), 300, within=300, failure=0.0)
    await insert_operations(seed_db, ops)
    async with EndpointServer(healthy_routes()) as api:
        code, report = await check_json(seed_db, api.url)
    assert (code, report["status"], report["exit_code"]) == (0, "ok", 0)
    assert report["errors"] == []
    expected = expected_metrics(ops, 300)
    for name, (value, samples) in expected.items():
        got = report["metrics"][name]
        assert got["samples"] == samples and got["window_seconds"] == 300, name
        assert got["value"] == pytest.approx(value, abs=1e-6), name
    assert [e["status"] for e in report["endpoints"]] == ["up"] * 4
    # one alert per table rule, one per endpoint for a rule over endpoints (SPEC §15)
    states = {(a["name"], a["labels"].get("endpoint")): a["state"] for a in report["alerts"]}
    plaid = "nodata" if expected["plaid_error_rate"][1] < 10 else "inactive"
    wanted: dict[tuple[str, str | None], str] = {
        ("High Sync Failure Rate", None): "inactive",
        ("Slow Sync Performance", None): "inactive",
        ("Plaid API Errors", None): plaid,
        **{("Health Endpoint Down", e): "inactive" for e in ("sync", "plaid", "database", "redis")},
        **{("Slow API Response", e): "inactive" for e in ("sync", "plaid", "database", "redis")},
    }
    assert states == wanted
    assert report["evaluated_at"][-6] in "+-"  # RFC 3339 with an offset


async def test_critical_failure_rate_exits_2_in_every_format(seed_db: str) -> None:
    ops = [Op(5 + 2 * i, "sync_push", 300, i % 10 != 0) for i in range(140)]  # 1 in 10 fails
    await insert_operations(seed_db, ops)
    failure = expected_metrics(ops, 300)["sync_failure_rate"][0]
    assert failure is not None
    async with EndpointServer(healthy_routes()) as api:
        code, report = await check_json(seed_db, api.url)
        assert code == 2 and report["status"] == "critical"
        alert = next(a for a in report["alerts"] if a["name"] == "High Sync Failure Rate")
        assert alert["state"] == "firing"
        assert alert["value"] == pytest.approx(failure, abs=1e-6)
        assert (alert["threshold"], alert["unit"], alert["samples"]) == (0.05, "ratio", len(ops))

        code, out, _ = await syncmon(
            "check", "--config", SHIPPED, "--dsn", seed_db, "--api-url", api.url
        )
        assert code == 2
        assert "SYNCMON CRITICAL" in out and "FIRING   critical High Sync Failure Rate" in out

        code, out, _ = await syncmon(
            "check",
            "--config",
            SHIPPED,
            "--format",
            "nagios",
            "--dsn",
            seed_db,
            "--api-url",
            api.url,
        )
    assert code == 2
    line = out.strip()
    assert line.startswith("SYNCMON CRITICAL - High Sync Failure Rate (critical since ")
    assert "; 1 firing, 1 nodata, 9 ok | " in line  # alerts counted, nodata never "ok"
    assert f"'sync_failure_rate'={failure * 100:.4g}%;;5;;" in line
    assert len(out.strip().splitlines()) == 1


async def test_warning_rule_exits_1(seed_db: str) -> None:
    await insert_operations(seed_db, [Op(s, "sync_pull", 6000, True) for s in range(5, 200, 5)])
    async with EndpointServer(healthy_routes()) as api:
        code, report = await check_json(seed_db, api.url)
    assert code == 1 and report["status"] == "warning"
    slow = next(a for a in report["alerts"] if a["name"] == "Slow Sync Performance")
    assert (slow["state"], slow["value"], slow["threshold"]) == ("firing", 6000, 5000)


async def test_down_endpoint_is_data_not_unknown(seed_db: str, tmp_path: Path) -> None:
    routes = healthy_routes()
    routes["/api/health/redis"] = answer(503, {"status": "DOWN"})
    routes["/api/health/plaid"] = hang()
    config = tmp_path / "cfg.yaml"
    config.write_text(Path(SHIPPED).read_text().replace("timeout: 5s", "timeout: 1s"))
    async with EndpointServer(routes) as api:
        code, report = await check_json(seed_db, api.url, config=str(config))
    endpoints = {e["name"]: e for e in report["endpoints"]}
    assert endpoints["redis"]["status"] == "down" and endpoints["redis"]["http_status"] == 503
    assert endpoints["plaid"]["status"] == "down" and "timed out" in endpoints["plaid"]["error"]
    alerts = [a for a in report["alerts"] if a["name"] == "Health Endpoint Down"]
    down = {a["labels"]["endpoint"]: a for a in alerts}
    # one alert per endpoint; `for: 1m` cannot be confirmed by one check: pending, exit 1
    assert {n: (a["state"], a["value"]) for n, a in down.items()} == {
        "sync": ("inactive", 0),
        "plaid": ("pending", 1),
        "database": ("inactive", 0),
        "redis": ("pending", 1),
    }
    assert "cannot be confirmed by one check" in down["redis"]["note"]
    assert code == 1


async def test_stateless_for_uses_database_history(seed_db: str, tmp_path: Path) -> None:
    config = tmp_path / "for.yaml"
    config.write_text(
        "alerts:\n  - {name: sustained, condition: 'sync_failure_rate > 50%',"
        " severity: critical, window: 1m, for: 2m, min_samples: 3}\n"
    )
    # failing for the last 90 s only: pending; then add older failures: firing
    await insert_operations(seed_db, [Op(s, "sync_push", 100, False) for s in range(2, 90, 3)])
    async with EndpointServer(healthy_routes()) as api:
        code, report = await check_json(seed_db, api.url, config=str(config))
        alert = report["alerts"][0]
        assert (code, alert["state"]) == (0, "pending")
        # pending since the first grid point whose 1 m window held: about 30-90 s ago
        assert re.search(r"condition true for (30s|[3-9]\ds|1m\d*s?) of 2m", alert["note"])
        assert alert["since"] is not None and alert["id"]
        await insert_operations(
            seed_db, [Op(s, "sync_push", 100, False) for s in range(90, 200, 3)]
        )
        code, report = await check_json(seed_db, api.url, config=str(config))
    assert (code, report["alerts"][0]["state"]) == (2, "firing")


async def test_at_evaluates_the_past_without_endpoints(seed_db: str) -> None:
    await insert_operations(
        seed_db, [Op(7200 + s, "sync_push", 100, False) for s in range(5, 250, 5)]
    )
    async with EndpointServer(healthy_routes()) as api:
        _, now_report = await check_json(seed_db, api.url)
        assert now_report["alerts"][0]["state"] == "nodata"
        code, report = await check_json(seed_db, api.url, "--at=-2h")
        assert code == 2 and report["alerts"][0]["state"] == "firing"
        assert report["endpoints"] == []
        assert len(api.requests) == 4  # only the first run polled the endpoints
        code, out, _ = await syncmon("check", "--config", SHIPPED, "--dsn", seed_db, "--at=-2h")
    assert "not available with --at" in out


async def test_runs_in_a_different_zone_than_the_database(pg_server: PgServer) -> None:
    dsn = await create_database(pg_server, timezone="America/New_York")
    try:
        ops = [Op(5 + 2 * i, "sync_push", 100, i % 5 != 0) for i in range(135)]
        await insert_operations(dsn, ops)
        async with EndpointServer(healthy_routes()) as api:
            code, report = await check_json(dsn, api.url, env={"TZ": "Asia/Tokyo"})
        expected = expected_metrics(ops, 300)["sync_failure_rate"]
        assert code == 2  # one in five fails: the critical rule fires in Tokyo as in New York
        got = report["metrics"]["sync_failure_rate"]
        assert (got["value"], got["samples"]) == (pytest.approx(expected[0]), expected[1])
        assert report["evaluated_at"].endswith("+09:00")
    finally:
        await drop_database(pg_server, dsn)


async def test_invalid_config_exits_3_without_polling(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "alerts:\n  - name: a\n    condition: 'sync_failure_rate > 5'\n    serverity: critical\n"
    )
    async with EndpointServer(healthy_routes()) as api:
        code, out, err = await syncmon(
            "check",
            "--config",
            str(bad),
            "--api-url",
            api.url,
            "--dsn",
            "postgresql://x@127.0.0.1:1/db",
        )
        assert code == 3
        assert f"{bad}:3:38: condition: sync_failure_rate is a ratio" in err
        assert f"{bad}:4:5: unknown key 'serverity'; did you mean 'severity'?" in err
        code, out, _ = await syncmon("check", "--config", str(bad), "--format", "json")
        assert json.loads(out)["status"] == "unknown" and code == 3
        assert api.requests == []


async def test_validate_exit_codes(tmp_path: Path) -> None:
    code, out, _ = await syncmon("validate", SHIPPED)
    assert code == 0 and "valid (5 rules" in out
    bad = tmp_path / "bad.yaml"
    bad.write_text("alerts: [")
    code, _, err = await syncmon("validate", str(bad))
    assert code == 3 and f"{bad}:1:" in err and "YAML syntax error" in err
    code, _, err = await syncmon("validate", str(tmp_path / "missing.yaml"))
    assert code == 3 and "cannot read" in err


# -- unhappy database paths: clear message, exit 3, never a secret -----------------------------

SECRET = "Sup3r-S3cret-pw"
TOKEN = "tok-ultra-secret-999"


def assert_no_secrets(*texts: str) -> None:
    for text in texts:
        assert SECRET not in text and TOKEN not in text


async def test_refused_database_is_unknown(tmp_path: Path) -> None:
    dsn = f"postgresql://mon:{SECRET}@127.0.0.1:1/metrics"
    async with EndpointServer(healthy_routes()) as api:
        code, out, err = await syncmon(
            "check",
            "--config",
            SHIPPED,
            "--format",
            "json",
            "--api-url",
            api.url,
            env={"SYNCMON_DATABASE_URL": dsn, "SYNCMON_API_TOKEN": TOKEN},
        )
        assert api.requests[0][1]["authorization"] == f"Bearer {TOKEN}"
    assert code == 3
    report = json.loads(out)
    assert report["status"] == "unknown"
    assert any("connection refused" in e for e in report["errors"])
    assert_no_secrets(out, err)


async def test_wrong_password_is_unknown_and_masked(pg_server: PgServer) -> None:
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(pg_server.admin_dsn)
    if pg_server.embedded is None:
        pytest.skip("needs the embedded server's password authentication")
    netloc = f"postgres:{SECRET}@{parts.hostname}:{parts.port}"
    dsn = urlunsplit(parts._replace(netloc=netloc))
    for output_format in ("text", "json", "nagios"):
        code, out, err = await syncmon(
            "check", "--config", SHIPPED, "--format", output_format, "--dsn", dsn
        )
        assert code == 3, (output_format, out, err)
        assert "password authentication failed" in out
        assert_no_secrets(out, err)


async def test_no_textual_or_plotext_in_headless_commands(seed_db: str, tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text(
        "import sys\n"
        "from syncmon.cli import main\n"
        "code = main(sys.argv[1:])\n"
        "loaded = [m for m in sys.modules if m.split('.')[0] in ('textual', 'plotext',"
        " 'textual_plotext', 'rich')]\n"
        "print('LOADED', sorted(loaded))\n"
    )
    for args in (["check", "--config", SHIPPED, "--dsn", seed_db], ["validate", SHIPPED]):
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            str(probe),
            *args,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, _ = await process.communicate()
        assert "LOADED []" in out.decode(), (args, out.decode()[-500:])
