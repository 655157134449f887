"""Health polling (SPEC §1.2) against real HTTP servers on 127.0.0.1, hostile ones included."""

from __future__ import annotations

import asyncio
import socket
import time
from pathlib import Path

import pytest
from pydantic import SecretStr

from syncmon.core.clock import wall_clock
from syncmon.core.endpoints import EndpointResult
from syncmon.sources.health import MAX_BODY, HealthPoller
from tests.integration.http_endpoints import (
    SECURITY_HEADERS,
    Behaviour,
    EndpointServer,
    answer,
    hang,
    healthy_routes,
    huge,
    trickle,
)


async def poll_one(
    behaviour: Behaviour, *, timeout: float = 2.0, token: str | None = None
) -> tuple[EndpointResult, EndpointServer]:
    async with EndpointServer({"/h": behaviour}) as server:
        poller = HealthPoller(
            server.url,
            {"x": "/h"},
            timeout=timeout,
            token=SecretStr(token) if token else None,
            clock=wall_clock,
        )
        try:
            return (await poller.poll())[0], server
        finally:
            await poller.close()


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"status": "pass"}, "up"),
        ({"status": "OK"}, "up"),
        ({"status": "UP"}, "up"),
        ({"status": "healthy"}, "up"),
        ({"status": "warn"}, "degraded"),
        ({"status": "Degraded"}, "degraded"),
        ({"status": "fail"}, "down"),
        ({"status": "DOWN"}, "down"),
        ({"status": "error"}, "down"),
        ({"status": "unhealthy"}, "down"),
    ],
)
async def test_status_field_mapping(body: dict[str, str], status: str) -> None:
    result, _ = await poll_one(answer(200, body))
    assert result.status == status
    assert result.http_status == 200
    assert result.latency_ms is not None and result.latency_ms >= 0


async def test_failing_nested_checks_are_named_in_the_reason() -> None:
    """IETF `checks` and Spring `components`: the tile says which part is unwell."""
    checks = {
        "db:connections": [{"status": "pass", "observedValue": 12}],
        "redis:ping": [{"status": "fail", "output": "timeout"}],
        "queue:lag": [{"status": "warn"}],
    }
    result, _ = await poll_one(answer(200, {"status": "fail", "checks": checks}))
    assert (result.status, result.error) == (
        "down",
        "status 'fail'; failing: redis:ping, queue:lag",
    )
    spring = {"status": "DOWN", "components": {"db": {"status": "UP"}, "mq": {"status": "DOWN"}}}
    result, _ = await poll_one(answer(200, spring))
    assert result.error == "status 'DOWN'; failing: mq"
    healthy, _ = await poll_one(answer(200, {"status": "pass", "checks": checks}))
    assert (healthy.status, healthy.error) == ("up", None)  # up is up, whatever parts say


@pytest.mark.parametrize(
    ("raw", "note"),
    [
        (b"", "empty body"),
        (b"<html>fine</html>", "not JSON"),
        (b'{"healthy": true}', "no status field"),
        (b"\xff\xfe garbage \x00", "not JSON"),
        (b"[1, 2, 3]", "no status field"),
    ],
)
async def test_bodies_not_understood_are_up_with_a_note(raw: bytes, note: str) -> None:
    result, _ = await poll_one(answer(200, raw=raw))
    assert result.status == "up"
    assert note in (result.error or "")


@pytest.mark.parametrize("code", [500, 503, 404, 401])
async def test_non_2xx_is_down_with_the_status(code: int) -> None:
    result, _ = await poll_one(answer(code, {"status": "pass"}))
    assert result.status == "down"
    assert result.http_status == code
    assert f"HTTP {code}" in (result.error or "")


async def test_redirect_is_not_followed() -> None:
    redirect = answer(
        302, raw=b"", headers={**SECURITY_HEADERS, "Location": "http://127.0.0.1:1/elsewhere"}
    )
    result, server = await poll_one(redirect)
    assert result.status == "down"
    assert "redirect to http://127.0.0.1:1/elsewhere (not followed)" in (result.error or "")
    assert len(server.requests) == 1


async def test_timeout_is_down_and_bounded() -> None:
    started = time.monotonic()
    result, _ = await poll_one(hang(), timeout=0.5)
    assert time.monotonic() - started < 2
    assert result.status == "down"
    assert "timed out after 0.5s" in (result.error or "")


async def test_trickling_body_cannot_outlast_the_timeout() -> None:
    started = time.monotonic()
    result, _ = await poll_one(trickle(0.05), timeout=0.6)
    assert time.monotonic() - started < 2
    assert result.status == "down"


async def test_connection_refused_is_down() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    poller = HealthPoller(f"http://127.0.0.1:{port}", {"x": "/h"}, timeout=2, clock=wall_clock)
    try:
        result = (await poller.poll())[0]
    finally:
        await poller.close()
    assert result.status == "down"
    assert result.error == "connection refused"


async def test_a_50mb_body_is_read_only_up_to_the_cap() -> None:
    result, _ = await poll_one(huge(50), timeout=10)
    assert result.status == "up"
    assert f"over {MAX_BODY // 1024} KiB" in (result.error or "")


async def test_missing_security_headers_are_reported_not_an_error() -> None:
    partial = {"X-Frame-Options": "SAMEORIGIN", "X-Content-Type-Options": "nosniff"}
    result, _ = await poll_one(answer(200, {"status": "pass"}, headers=partial))
    assert result.status == "up"
    assert result.missing_security_headers == (
        "Content-Security-Policy",
        "X-Frame-Options",
        "X-XSS-Protection",
    )


async def test_all_headers_present_means_none_missing() -> None:
    result, _ = await poll_one(answer(200, {"status": "pass"}))
    assert result.missing_security_headers == ()


async def test_bearer_token_is_sent() -> None:
    _, server = await poll_one(answer(200, {"status": "pass"}), token="tok-123")
    assert server.requests[0][1]["authorization"] == "Bearer tok-123"


async def test_endpoints_are_polled_concurrently() -> None:
    routes = healthy_routes()
    routes["/api/health/plaid"] = answer(200, {"status": "pass"}, delay=0.8)
    routes["/api/health/redis"] = answer(200, {"status": "UP"}, delay=0.8)
    routes["/api/health/database"] = hang()
    async with EndpointServer(routes) as server:
        poller = HealthPoller(
            server.url,
            {
                "sync": "/api/health/sync",
                "plaid": "/api/health/plaid",
                "database": "/api/health/database",
                "redis": "/api/health/redis",
            },
            timeout=1.0,
            clock=wall_clock,
        )
        started = time.monotonic()
        results = await poller.poll()
        elapsed = time.monotonic() - started
        await poller.close()
    # sequentially this would take 0.8 + 0.8 + 1.0 s; concurrently, the slowest one
    assert elapsed < 1.6, elapsed
    by_name = {r.name: r.status for r in results}
    assert by_name == {"sync": "up", "plaid": "up", "database": "down", "redis": "up"}


async def test_poller_survives_many_hostile_polls() -> None:
    routes = {"/a": huge(2), "/b": hang(), "/c": answer(200, raw=b"\x00" * 10)}
    async with EndpointServer(routes) as server:
        poller = HealthPoller(
            server.url, {"a": "/a", "b": "/b", "c": "/c"}, timeout=0.3, clock=wall_clock
        )
        for _ in range(3):
            results = await asyncio.wait_for(poller.poll(), timeout=5)
            assert [r.status for r in results] == ["up", "down", "up"]
        await poller.close()


def test_tls_is_verified_for_https_and_never_skipped() -> None:
    import ssl

    from syncmon.transport.net import tls_context

    verified = tls_context("https://api.example.com", True)
    assert verified.verify_mode is ssl.CERT_REQUIRED and verified.check_hostname
    assert verified.get_ca_certs()  # the default CAs
    assert tls_context("https://other.example.com", True) is verified  # loaded once
    plain = tls_context("http://127.0.0.1:8080", True)
    assert plain.verify_mode is ssl.CERT_REQUIRED and plain.check_hostname
    assert plain.get_ca_certs() == []  # trusts nothing: TLS through it cannot succeed


async def test_engine_polls_health_apart_when_asked(tmp_path: Path) -> None:
    from syncmon.config.settings import Overrides, resolve_settings
    from syncmon.engine.poll import Engine, PollRequest

    (tmp_path / "a.yaml").write_text("alerts: []\n")
    routes = healthy_routes()
    async with EndpointServer(routes) as server:
        settings = resolve_settings(
            Overrides(config=str(tmp_path / "a.yaml"), api_url=server.url), {}
        )
        async with Engine(settings) as engine:
            nothing_yet = await engine.poll(PollRequest(health=False))
            assert nothing_yet.endpoints is None and server.requests == []
            polled = await engine.poll_health()
            assert polled is not None and len(server.requests) == 4
            routes["/api/health/redis"] = hang()  # would hold a combined poll for 5 s
            started = time.monotonic()
            cached = await engine.poll(PollRequest(health=False))
            assert time.monotonic() - started < 1
            assert len(server.requests) == 4  # nobody asked the endpoints again
            assert cached.endpoints == polled
            metrics = cached.display_metrics
            assert metrics["endpoints_down"].value == 0
            assert metrics["api_response_time"].samples == 4
