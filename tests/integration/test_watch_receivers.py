"""Webhook receivers that fail in every way, then recover: nothing lost, evaluation never waits."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from syncmon.headless.receivers import RetryPolicy, WebhookReceiver
from tests.integration.watch_support import (
    FAILURE_RULE,
    FlakyReceiver,
    RunningWatcher,
    insert_operations,
    settings_for,
    wait_until,
    write_config,
)


def _first_seen(received: list[dict[str, Any]]) -> list[int]:
    """Ids in order of first arrival: a send that timed out may arrive twice (at least once)."""
    return list(dict.fromkeys(event["n"] for event in received))


async def test_webhook_survives_500s_timeouts_slow_answers_and_refusals() -> None:
    server = FlakyReceiver()
    server.start()
    receiver = WebhookReceiver(server.url, timeout=0.3, retry=RetryPolicy(0.02, 0.2))
    receiver.start()
    try:
        for n in range(0, 5):
            receiver.put({"n": n})
        await wait_until(lambda: len(server.received) == 5)

        server.mode = "error"
        for n in range(5, 10):
            receiver.put({"n": n})
        await wait_until(lambda: receiver.failures >= 3)

        server.mode, server.delay = "slow", 1.0  # longer than the 0.3 s timeout
        failures = receiver.failures
        await wait_until(lambda: receiver.failures >= failures + 2)

        server.mode, server.delay = "slow", 0.1  # slow but in time: delivered
        await wait_until(lambda: 5 in _first_seen(server.received), timeout=5)

        server.stop()  # connection refused
        for n in range(10, 15):
            receiver.put({"n": n})
        failures = receiver.failures
        await wait_until(lambda: receiver.failures >= failures + 3, timeout=5)

        server.mode = "ok"
        server.start()  # back on the same port
        await wait_until(lambda: _first_seen(server.received) == list(range(15)), timeout=5)
        assert receiver.queue_depth == 0
        assert receiver.dropped == 0
        assert receiver.healthy
    finally:
        await receiver.stop(grace=0.5)
        server.stop()


async def test_full_queue_drops_the_oldest_and_counts_them() -> None:
    receiver = WebhookReceiver("http://127.0.0.1:9/never", limit=3)
    for n in range(5):
        receiver.put({"n": n})
    assert receiver.queue_depth == 3
    assert receiver.dropped == 2
    assert [e["n"] for e in receiver._queue] == [2, 3, 4]
    await receiver.stop(grace=0.1)


async def test_a_rejected_event_is_not_retried_forever() -> None:
    """A 4xx (other than 408/429) would fail the same way forever: drop it, keep going."""
    server = FlakyReceiver()
    server.mode = "reject"
    server.start()
    receiver = WebhookReceiver(server.url, timeout=0.5, retry=RetryPolicy(0.02, 0.2))
    receiver.start()
    try:
        receiver.put({"n": 1})
        await wait_until(lambda: receiver.dropped == 1)
        server.mode = "ok"
        receiver.put({"n": 2})
        await wait_until(lambda: server.received == [{"n": 2}])
        assert server.attempts == 2
    finally:
        await receiver.stop(grace=0.2)
        server.stop()


@pytest.mark.database
async def test_events_reach_a_webhook_that_was_down_when_they_happened(
    seed_db: str, tmp_path: Path
) -> None:
    server = FlakyReceiver()  # not started yet: connection refused
    settings = settings_for(write_config(tmp_path, FAILURE_RULE.format(for_="0s")), seed_db)
    try:
        async with RunningWatcher(settings, webhooks=[server.url]) as running:
            await wait_until(lambda: "nodata" in running.out.kinds())
            await insert_operations(seed_db, ok=10, failed=10)
            await wait_until(lambda: "firing" in running.out.kinds())
            await wait_until(lambda: running.watcher.webhooks[0].failures >= 2)
            server.start()
            await wait_until(lambda: len(server.received) == 2, timeout=5)
        assert server.received == running.out.events()  # the very lines of stdout
    finally:
        server.stop()


@pytest.mark.database
async def test_a_hanging_webhook_never_delays_evaluation(seed_db: str, tmp_path: Path) -> None:
    server = FlakyReceiver()
    server.mode, server.delay = "slow", 5.0
    server.start()
    settings = settings_for(write_config(tmp_path, FAILURE_RULE.format(for_="0s")), seed_db)
    try:
        async with RunningWatcher(settings, webhooks=[server.url], receiver_timeout=3.0) as running:
            await wait_until(lambda: "nodata" in running.out.kinds())
            await wait_until(lambda: server.in_flight == 1)  # the webhook holds the event
            cycles = running.watcher.stats.cycles
            # five more evaluations while that request still hangs (it answers after 5 s)
            await wait_until(
                lambda: running.watcher.stats.cycles - cycles >= 5 and server.in_flight == 1,
                timeout=server.delay - 0.5,
            )
        # leaving the block stopped the watcher with the request still hanging (the stop's
        # time is measured by bench/watch_stop.py)
    finally:
        server.stop()
