"""Hostile answers from real HTTP servers on 127.0.0.1 (SPEC §12, issue 9): each bad body is
that endpoint's or that value's error, every request has one deadline and a size cap, and a
conflict id never chooses the URL."""

from __future__ import annotations

import asyncio
import json
import logging
import time
import tracemalloc
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from syncmon.config.loader import load_config_text
from syncmon.core.clock import wall_clock
from syncmon.core.conflicts import Conflict, OutcomeKind, Resolution
from syncmon.core.endpoints import EndpointResult
from syncmon.headless.receivers import ActiveAlert, AlertmanagerReceiver, RetryPolicy
from syncmon.sinks.alertmanager import AlertmanagerClient, AlertmanagerError, build_alert
from syncmon.sources.conflicts import CONFLICTS_PATH, ConflictList, ConflictsClient
from syncmon.sources.health import HealthPoller
from tests.integration.http_endpoints import Behaviour, EndpointServer, answer, huge, trickle
from tests.integration.watch_support import FlakyReceiver, wait_until

DEEP = b'{"status": "pass", "x": ' + b"[" * 1100 + b"]" * 1100 + b"}"
GOOD_ID = "0b6f1c1e-0000-4000-8000-000000000001"
OTHER_ID = "11111111-1111-4111-8111-111111111111"
TRAVERSAL_ID = "44444444-4444-4444-4444-444444444444/../" + OTHER_ID


def conflict_json(conflict_id: str, local: str = '{"amount": 1}') -> str:
    return (
        f'{{"id": "{conflict_id}", "user_id": "{OTHER_ID}", "entity_type": "transaction", '
        f'"entity_id": "t1", "detected_at": "2026-01-01T00:00:00Z", "version": 3, '
        f'"local": {local}, "remote": {{"amount": 2}}, "base": null}}'
    )


async def poll(routes: dict[str, Behaviour], *, timeout: float = 2.0) -> dict[str, EndpointResult]:
    async with EndpointServer(routes) as server:
        poller = HealthPoller(
            server.url, {p.strip("/"): p for p in routes}, timeout=timeout, clock=wall_clock
        )
        try:
            return {r.name: r for r in await poller.poll()}
        finally:
            await poller.close()


# --- health bodies --------------------------------------------------------------------------


async def test_a_body_nested_1100_levels_is_that_endpoints_note_not_the_polls_crash() -> None:
    results = await poll({"/deep": answer(200, raw=DEEP), "/fine": answer(200, {"status": "ok"})})
    assert results["deep"].status == "up"  # a 2xx answer, body not understood (SPEC §1.2)
    assert "nested deeper than 64 levels" in (results["deep"].error or "")
    assert results["fine"].status == "up" and results["fine"].error is None


async def test_a_number_out_of_range_drops_only_the_checks_it_sits_in() -> None:
    body = b'{"status": "fail", "checks": {"db": [{"observedValue": 1e400}]}}'
    result = (await poll({"/h": answer(200, raw=body)}))["h"]
    assert result.status == "down"  # the status still counts
    assert "failing" not in (result.error or "")  # the checks were not read
    assert "1e400 is outside a double's range" in (result.error or "")


async def test_a_megabyte_of_status_is_shown_short() -> None:
    body = json.dumps({"status": " warn" + " " * 900_000}).encode()
    result = (await poll({"/h": answer(200, raw=body)}))["h"]
    assert result.status == "degraded"
    assert len(result.error or "") < 80


# --- the conflicts API ----------------------------------------------------------------------


async def list_open(behaviour: Behaviour, timeout: float = 15.0) -> tuple[ConflictList, str]:
    """List open conflicts from a server answering with `behaviour`; (list, its URL)."""
    async with EndpointServer({CONFLICTS_PATH: behaviour}) as server:
        client = ConflictsClient(server.url, timeout=timeout)
        try:
            listed = await asyncio.wait_for(client.list_open(), timeout=timeout + 10)
        finally:
            await client.close()
    return listed, server.url + CONFLICTS_PATH


async def test_conflicts_deadline_covers_a_trickling_body() -> None:
    started = time.monotonic()
    listed, url = await list_open(trickle(0.05), timeout=1.0)
    assert time.monotonic() - started < 2.5
    assert listed.error == f"conflicts {url}: timed out after 1s"


async def test_conflicts_answer_over_the_cap_is_cut_while_streaming() -> None:
    tracemalloc.start()
    try:
        listed, _ = await list_open(huge(300), timeout=20.0)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert "answer larger than 8 MiB" in (listed.error or "")
    assert peak < 64 * 1024 * 1024, f"peak {peak / 2**20:.0f} MiB for a 300 MB answer"


async def test_a_deep_conflicts_answer_is_an_error_not_an_exception() -> None:
    listed, _ = await list_open(answer(200, raw=DEEP))
    assert "nested deeper than 64 levels" in (listed.error or "")


async def test_bad_conflicts_are_left_out_one_by_one() -> None:
    entries = [
        conflict_json(GOOD_ID),
        conflict_json(TRAVERSAL_ID),
        conflict_json("../../admin"),
        conflict_json(OTHER_ID, local='{"amount": 1e400}'),
    ]
    body = ('{"conflicts": [' + ", ".join(entries) + "]}").encode()
    listed, _ = await list_open(answer(200, raw=body))
    assert listed.error is None
    assert [c.id for c in listed.conflicts] == [GOOD_ID]
    assert listed.skipped == 3


async def test_a_conflict_id_that_is_not_a_uuid_never_reaches_a_url() -> None:
    """`4444…/../1111…` resolved a different conflict from the one on screen."""
    paths = {
        f"{CONFLICTS_PATH}/{OTHER_ID}/resolve": answer(200, {"status": "resolved"}),
        f"{CONFLICTS_PATH}/{TRAVERSAL_ID}/resolve": answer(200, {"status": "resolved"}),
    }
    async with EndpointServer(paths) as server:
        client = ConflictsClient(server.url)
        hostile = Conflict(
            TRAVERSAL_ID, OTHER_ID, "transaction", "t1", None, 3, {"a": 1}, {"a": 2}, None
        )
        try:
            outcome = await client.resolve(hostile, Resolution.KEEP_LOCAL, resolved_by="alice")
        finally:
            await client.close()
    assert outcome.kind is OutcomeKind.REJECTED
    assert "not a UUID" in outcome.message
    assert server.requests == []


# --- Alertmanager ---------------------------------------------------------------------------

RULE = load_config_text(
    'alerts:\n  - {name: "Sync failing", condition: "sync_failure_rate > 5%", '
    "severity: critical}\n",
    "<test>",
    {},
).rules[0]


@pytest.fixture
def alertmanager_that_rejects() -> Iterator[FlakyReceiver]:
    server = FlakyReceiver()
    server.mode = "reject"  # HTTP 400 to every POST
    server.start()
    yield server
    server.stop()


async def test_alertmanager_is_not_retried_forever_on_a_400(
    alertmanager_that_rejects: FlakyReceiver, caplog: pytest.LogCaptureFixture
) -> None:
    server = alertmanager_that_rejects
    receiver = AlertmanagerReceiver(
        f"http://127.0.0.1:{server.port}",
        resend=timedelta(minutes=1),
        hold=timedelta(minutes=4),
        timeout=1.0,
        retry=RetryPolicy(initial=0.05, cap=0.2),
        clock=wall_clock,
    )
    caplog.set_level(logging.ERROR, "syncmon.watch")
    receiver.start()
    now = datetime.now(UTC)
    receiver.update({RULE.name: ActiveAlert(RULE, now, "6%")}, [])
    await wait_until(lambda: receiver.failures == 1)  # the 400 is in and handled
    assert not receiver.send_due  # nothing scheduled before the next change or resend
    assert server.attempts == 1
    assert "alerts rejected, not retried" in caplog.text
    receiver.update({}, [ActiveAlert(RULE, now, "1%", ends_at=datetime.now(UTC))])
    await wait_until(lambda: receiver.failures == 2)  # a change is still sent, once
    assert not receiver.send_due
    await receiver.stop(1.0)
    assert server.attempts == 2
    assert receiver.failures == 2 and receiver.dropped == 1


async def test_alertmanager_5xx_is_still_retried(
    alertmanager_that_rejects: FlakyReceiver,
) -> None:
    server = alertmanager_that_rejects
    server.mode = "error"  # HTTP 500
    receiver = AlertmanagerReceiver(
        f"http://127.0.0.1:{server.port}",
        resend=timedelta(minutes=1),
        hold=timedelta(minutes=4),
        timeout=1.0,
        retry=RetryPolicy(initial=0.05, cap=0.1),
        clock=wall_clock,
    )
    receiver.start()
    receiver.update({RULE.name: ActiveAlert(RULE, datetime.now(UTC), "6%")}, [])
    await wait_until(lambda: server.attempts >= 3)
    await receiver.stop(1.0)


async def test_a_redirect_from_alertmanager_is_a_failed_send_not_a_delivery() -> None:
    """Redirects are not followed, so a 3xx never means the alerts arrived: they are sent
    again (an Alertmanager moved behind a proxy must not swallow pages)."""
    moved = answer(307, raw=b"", headers={"Location": "http://127.0.0.1:1/api/v2/alerts"})
    async with EndpointServer({"/api/v2/alerts": moved}) as server:
        client = AlertmanagerClient(server.url, timeout=2.0)
        try:
            with pytest.raises(AlertmanagerError, match="HTTP 307"):
                now = datetime.now(UTC)
                alert = build_alert(RULE, value="6%", starts_at=now, ends_at=now)
                await client.post_alerts([alert])
        finally:
            await client.close()
