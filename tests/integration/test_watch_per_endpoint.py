"""`watch` with one alert per endpoint (SPEC §15): real HTTP endpoints on 127.0.0.1, the real
Alertmanager binary, a real webhook receiver; each endpoint pages, resolves and is routed
on its own."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.integration.http_endpoints import EndpointServer, answer, healthy_routes
from tests.integration.watch_support import (
    NEEDS_ALERTMANAGER,
    Alertmanager,
    FlakyReceiver,
    RunningWatcher,
    settings_for,
    wait_until,
    write_config,
)

pytestmark = [pytest.mark.database, *NEEDS_ALERTMANAGER]

RULE = """
alerts:
  - name: "Health Endpoint Down"
    condition: "endpoints_down > 0"
    severity: "critical"
    labels: {team: mobile}
"""
DOWN = answer(503, {"status": "down"})


def firing_by_endpoint(events: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {e["labels"]["endpoint"]: e for e in events if e["event"] == "firing"}


async def test_each_down_endpoint_is_its_own_alert_everywhere(
    seed_db: str, alertmanager: Alertmanager, tmp_path: Path
) -> None:
    routes = healthy_routes()
    routes["/api/health/sync"] = DOWN
    hook = FlakyReceiver()
    hook.start()
    try:
        async with EndpointServer(routes) as api:
            settings = settings_for(write_config(tmp_path, RULE), seed_db, api_url=api.url)
            async with RunningWatcher(
                settings, alertmanagers=[alertmanager.url], webhooks=[hook.url]
            ) as running:
                await wait_until(lambda: "sync" in firing_by_endpoint(running.out.events()))
                routes["/api/health/redis"] = DOWN  # a second endpoint goes down later
                await wait_until(lambda: "redis" in firing_by_endpoint(running.out.events()))
                alerts = await wait_until(lambda: _active(alertmanager, 2))
                assert sorted(a["labels"]["endpoint"] for a in alerts) == ["redis", "sync"]
                for alert in alerts:  # same rule, told apart by the endpoint label alone
                    assert {k: v for k, v in alert["labels"].items() if k != "endpoint"} == {
                        "alertname": "Health Endpoint Down",
                        "severity": "critical",
                        "team": "mobile",
                        "service": "sync",
                    }
                    assert alert["annotations"]["value"] == "1"
                firing = firing_by_endpoint(running.out.events())
                assert firing["sync"]["id"] != firing["redis"]["id"]
                assert firing["sync"]["since"] < firing["redis"]["since"]
                assert all(e["rule"] == "Health Endpoint Down" for e in firing.values())

                routes["/api/health/redis"] = healthy_routes()["/api/health/redis"]
                await wait_until(lambda: "resolved" in running.out.kinds())
                (resolved,) = [e for e in running.out.events() if e["event"] == "resolved"]
                assert resolved["labels"]["endpoint"] == "redis"
                assert resolved["id"] == firing["redis"]["id"]
                alerts = await wait_until(lambda: _active(alertmanager, 1))
                assert alerts[0]["labels"]["endpoint"] == "sync"  # sync still pages
                assert running.watcher.alerts.trackers["Health Endpoint Down (sync)"].firing

        # the webhook got the same events, with the same labels and ids
        await wait_until(lambda: len(hook.received) >= 3)
        got = [(e["event"], e["labels"]["endpoint"], e["id"]) for e in hook.received]
        assert got[:3] == [
            ("firing", "sync", firing["sync"]["id"]),
            ("firing", "redis", firing["redis"]["id"]),
            ("resolved", "redis", firing["redis"]["id"]),
        ]
    finally:
        hook.stop()


async def _active(alertmanager: Alertmanager, count: int) -> list[dict[str, Any]] | None:
    alerts = [a for a in await alertmanager.alerts() if a["status"]["state"] == "active"]
    return alerts if len(alerts) == count else None
