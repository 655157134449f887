"""One alert per endpoint (SPEC §15), and `check` never pages on one poll it cannot confirm.

A real `syncmon check` process, real HTTP endpoints on 127.0.0.1, a real PostgreSQL.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import PgServer
from tests.integration.http_endpoints import EndpointServer, answer, hang, healthy_routes
from tests.integration.test_check_command import REPO, SHIPPED, check_json, syncmon
from tests.integration.test_rule_tests import run

pytestmark = pytest.mark.database

NAMES = ("sync", "plaid", "database", "redis")


def by_endpoint(report: dict[str, Any], rule: str) -> dict[str, dict[str, Any]]:
    """The alerts of one rule in a check report, by their `endpoint` label."""
    alerts = [a for a in report["alerts"] if a["name"] == rule]
    return {a["labels"]["endpoint"]: a for a in alerts}


async def test_one_503_from_sync_is_pending_and_exit_1_not_a_page(
    seed_db: str, tmp_path: Path
) -> None:
    """The issue's case: the shipped rules (`for: 1m`) and one 503 from /sync gave
    `SYNCMON CRITICAL - Health Endpoint Down`, exit 2. One check cannot confirm `for`."""
    routes = healthy_routes()
    routes["/api/health/sync"] = answer(503, {"status": "fail"})
    async with EndpointServer(routes) as api:
        code, report = await check_json(seed_db, api.url)
        assert (code, report["status"], report["exit_code"]) == (1, "warning", 1)
        alerts = by_endpoint(report, "Health Endpoint Down")
        assert set(alerts) == set(NAMES)  # one alert per endpoint, each labelled
        sync = alerts["sync"]
        assert (sync["state"], sync["value"], sync["threshold"]) == ("pending", 1, 0)
        assert "for: 1m cannot be confirmed by one check" in sync["note"]
        assert sync["since_seen"] and sync["id"]
        for name in ("plaid", "database", "redis"):
            assert (alerts[name]["state"], alerts[name]["value"]) == ("inactive", 0)
            assert alerts[name]["id"] is None

        code, out, _ = await syncmon(
            "check", "--config", SHIPPED, "--dsn", seed_db, "--api-url", api.url
        )
        assert code == 1
        assert out.startswith("SYNCMON WARNING") and "CRITICAL" not in out
        assert "PENDING  critical Health Endpoint Down (sync): endpoints_down > 0" in out

        code, out, _ = await syncmon(
            "check", "--config", SHIPPED, "--format", "nagios", "--dsn", seed_db,
            "--api-url", api.url,
        )  # fmt: skip
    assert code == 1
    assert out.startswith(
        "SYNCMON WARNING - Health Endpoint Down (sync) (pending, for not confirmed); "
    )


async def test_severity_bounds_an_unconfirmed_pending(seed_db: str, tmp_path: Path) -> None:
    """A pending warning is exit 1 like a pending critical; a pending info rule is 0."""
    routes = healthy_routes()
    routes["/api/health/redis"] = answer(503, {"status": "down"})
    config = tmp_path / "info.yaml"
    rule = "  - {{name: Redis, condition: 'endpoints_down > 0', severity: {}, for: 2m}}\n"
    async with EndpointServer(routes) as api:
        config.write_text("alerts:\n" + rule.format("info"))
        code, report = await check_json(seed_db, api.url, config=str(config))
        assert by_endpoint(report, "Redis")["redis"]["state"] == "pending"
        assert (code, report["status"]) == (0, "ok")
        config.write_text("alerts:\n" + rule.format("warning"))
        code, report = await check_json(seed_db, api.url, config=str(config))
        assert (code, report["status"]) == (1, "warning")
        # without `for` one poll is the whole condition: a critical fires, exit 2
        config.write_text("alerts:\n" + rule.format("critical").replace(", for: 2m", ""))
        code, report = await check_json(seed_db, api.url, config=str(config))
    assert (code, by_endpoint(report, "Redis")["redis"]["state"]) == (2, "firing")


PER_ENDPOINT_RULES = """\
alerts:
  - name: Endpoint Down
    condition: "endpoints_down > 0"
    severity: critical
    labels: {team: mobile}
  - name: Endpoint Insecure
    condition: "endpoints_insecure > 0"
    severity: warning
  - name: Endpoint Slow
    condition: "api_response_time > 1500ms"
    severity: warning
sources:
  api: {timeout: 3s}
"""


async def test_each_endpoint_gets_its_own_alert_value_and_id(seed_db: str, tmp_path: Path) -> None:
    routes = healthy_routes()
    routes["/api/health/redis"] = answer(503, {"status": "down"})
    routes["/api/health/plaid"] = answer(200, {"status": "pass"}, headers={})  # no headers
    routes["/api/health/database"] = answer(200, {"status": "ok"}, delay=2.0)
    routes["/api/health/sync"] = hang()  # times out: down, and no response time at all
    config = tmp_path / "endpoints.yaml"
    config.write_text(PER_ENDPOINT_RULES)
    async with EndpointServer(routes) as api:
        code, report = await check_json(seed_db, api.url, config=str(config))
    assert code == 2
    assert len(report["alerts"]) == 3 * 4

    down = by_endpoint(report, "Endpoint Down")
    assert {n: (a["state"], a["value"]) for n, a in down.items()} == {
        "sync": ("firing", 1),
        "plaid": ("inactive", 0),
        "database": ("inactive", 0),
        "redis": ("firing", 1),
    }
    assert down["redis"]["labels"] == {"team": "mobile", "endpoint": "redis"}

    insecure = by_endpoint(report, "Endpoint Insecure")
    assert [n for n, a in insecure.items() if a["state"] == "firing"] == ["plaid"]
    assert insecure["plaid"]["value"] == 1

    # api_response_time per endpoint: each one's own answered polls; redis answered fast
    slow = by_endpoint(report, "Endpoint Slow")
    assert [n for n, a in slow.items() if a["state"] == "firing"] == ["database"]
    assert slow["database"]["value"] >= 2000 and slow["redis"]["value"] < 1500
    # sync never answered: no response time of its own (not the others' mean)
    assert (slow["sync"]["state"], slow["sync"]["value"], slow["sync"]["samples"]) == (
        "nodata",
        None,
        0,
    )
    # the metric of the whole system is still the mean over every answered poll
    assert report["metrics"]["api_response_time"]["samples"] == 3

    ids = [a["id"] for a in report["alerts"] if a["state"] == "firing"]
    assert len(ids) == len(set(ids)) == 4  # one episode per alert


async def test_at_gives_one_nodata_alert_per_endpoint_rule(seed_db: str) -> None:
    """Under `--at` no endpoint is polled: the rule is one alert, nodata, as before."""
    code, report = await check_json(seed_db, "http://127.0.0.1:9", "--at=-1h")
    alerts = [a for a in report["alerts"] if a["name"] == "Health Endpoint Down"]
    assert [(a["state"], a["labels"]) for a in alerts] == [("nodata", {})]
    assert code == 3  # every rule nodata: nothing can be called ok


def test_the_per_endpoint_rule_tests_pass(pg_server: PgServer) -> None:
    """tests/rules/per_endpoint.test.yaml (also run by .ci/run): endpoints page apart."""
    code, out = run([REPO / "tests" / "rules" / "per_endpoint.test.yaml"], pg_server)
    assert code == 0, out
    assert out.splitlines()[-1] == "3 passed, 0 failed"
