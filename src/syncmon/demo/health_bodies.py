"""Health response bodies in the two dialects syncmon must understand (SPEC §1.2).

sync, plaid and database speak the IETF health-check draft (`application/health+json`,
`pass`/`warn`/`fail`, `checks` keyed `component:measurement`); redis answers like a Spring
Boot actuator (`{"status": "UP"}`), as a Redis health indicator usually does.
"""

from __future__ import annotations

import random
from datetime import datetime
from typing import Any

from syncmon.core.clock import wall_clock
from syncmon.demo.fake_data import poisson, rfc3339
from syncmon.demo.http_server import Response
from syncmon.demo.incidents import Kind

HEALTH_PATHS = {
    "sync": "/api/health/sync",
    "plaid": "/api/health/plaid",
    "database": "/api/health/database",
    "redis": "/api/health/redis",
}
ENDPOINTS = tuple(HEALTH_PATHS)

_IETF = {"up": "pass", "degraded": "warn", "down": "fail"}
_SPRING = {"up": "UP", "degraded": "DEGRADED", "down": "DOWN"}
_REASONS = {
    "sync": "sync-gateway error rate above 5% / p50 latency above 5 s",
    "plaid": "Plaid API returning INSTITUTION_DOWN for 3 institutions",
    "database": "connection to PostgreSQL failed",
}


def health_response(
    name: str,
    status: str,
    *,
    rng: random.Random,
    kinds: frozenset[Kind],
    db_ms: float | None,
    output: str | None,
    started: datetime,
) -> Response:
    """200 for up/degraded, 503 with a failing body for down."""
    http_status = 503 if status == "down" else 200
    if name == "redis":
        body: dict[str, Any] = {
            "status": _SPRING[status],
            "details": {"version": "7.2.4", "mode": "standalone"},
        }
        if status == "down":
            body["details"] = {
                "error": output
                or "io.lettuce.core.RedisConnectionException: Unable to connect to redis:6379"
            }
        return Response.json(http_status, body)
    now = wall_clock()
    verdict = _IETF[status]
    body = {
        "status": verdict,
        "version": "1",
        "releaseId": "12.0.3",
        "serviceId": f"{name}-service",
        "description": f"Epic 12 {name} health",
        "checks": _checks(
            name, verdict, rng=rng, kinds=kinds, db_ms=db_ms, now=now, started=started
        ),
    }
    if status != "up" or output:
        body["output"] = output or _REASONS[name]
    return Response.json(http_status, body, content_type="application/health+json")


def _check(
    verdict: str,
    now: datetime,
    value: float | int,
    unit: str,
    component_type: str = "component",
    **extra: Any,
) -> list[dict[str, Any]]:
    return [
        {
            "componentType": component_type,
            "observedValue": value,
            "observedUnit": unit,
            "status": verdict,
            "time": rfc3339(now),
            **extra,
        }
    ]


def _checks(
    name: str,
    verdict: str,
    *,
    rng: random.Random,
    kinds: frozenset[Kind],
    db_ms: float | None,
    now: datetime,
    started: datetime,
) -> dict[str, Any]:
    if name == "sync":
        stressed = bool(kinds & {Kind.SYNC_FAILURES, Kind.SLOW_SYNCS})
        return {
            "sync:queueDepth": _check(
                verdict, now, poisson(rng, 180 if stressed else 6), "operations"
            ),
            "uptime": _check("pass", now, round((now - started).total_seconds()), "s", "system"),
        }
    if name == "plaid":
        outage = Kind.PLAID_OUTAGE in kinds
        return {
            "plaid:responseTime": _check(
                verdict,
                now,
                poisson(rng, 2400 if outage else 420),
                "ms",
                "system",
                componentId="plaid-production",
            ),
            "plaid:webhooks": _check("pass", now, poisson(rng, 3), "per_min", "system"),
        }
    ping = round(db_ms, 2) if db_ms is not None else None
    return {
        "postgres:responseTime": [
            {
                "componentType": "datastore",
                "observedValue": ping,
                "observedUnit": "ms",
                "status": verdict,
                "time": rfc3339(now),
            }
        ],
        "postgres:connections": _check(verdict, now, poisson(rng, 12), "connections", "datastore"),
    }
