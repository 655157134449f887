"""The clock is injected (issue 18): what syncmon sends and judges follows the clock it was
given, not the machine's. Real receivers, a real PostgreSQL and a real watcher's state on
127.0.0.1; the clocks are fixed, so every expected moment is exact."""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from syncmon.config.loader import load_config_text
from syncmon.core.alerts import AlertTracker, Observation, Verdict
from syncmon.core.clock import wall_clock
from syncmon.core.episodes import Since
from syncmon.core.metrics import EndpointStatus, Unit
from syncmon.engine.poll import Snapshot
from syncmon.feed.encode import encode
from syncmon.headless.check_from import run_check_from
from syncmon.headless.receivers import ActiveAlert, AlertmanagerReceiver, RetryPolicy
from syncmon.sinks.alertmanager import format_time
from syncmon.sources.health import HealthPoller
from tests.integration.http_endpoints import EndpointServer, answer
from tests.integration.watch_support import (
    FAILURE_RULE,
    FlakyReceiver,
    RunningWatcher,
    free_port,
    insert_operations,
    settings_for,
    wait_until,
    write_config,
)

AT = datetime(2026, 11, 27, 3, 12, 0, 250000, tzinfo=UTC)  # far from the machine's now
HOLD = timedelta(minutes=4)
[RULE] = load_config_text(FAILURE_RULE.format(for_="0s"), "alerts.yaml").rules


class SetClock:
    """A clock the test sets: it moves only when told."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def alertmanager() -> Iterator[FlakyReceiver]:
    """Stands in for Alertmanager's POST /api/v2/alerts: records each body it accepts."""
    server = FlakyReceiver()
    server.start()
    yield server
    server.stop()


async def test_each_send_to_alertmanager_is_dated_by_the_watchers_clock(
    alertmanager: FlakyReceiver,
) -> None:
    """endsAt is now + hold at the moment of each send (read then, not when the alert
    changed); startsAt is the episode's since, but never after that now."""
    clock = SetClock(AT)
    receiver = AlertmanagerReceiver(
        f"http://127.0.0.1:{alertmanager.port}",
        resend=timedelta(minutes=1),
        hold=HOLD,
        timeout=2.0,
        retry=RetryPolicy(initial=0.05, cap=0.2),
        clock=clock,
    )
    receiver.start()
    try:
        since = AT - timedelta(minutes=40)
        receiver.update({RULE.key: ActiveAlert(RULE, since, "50.00%")}, [])
        [first] = (await wait_until(lambda: alertmanager.received))[0]
        clock.now = AT + timedelta(minutes=7)
        ahead = clock.now + timedelta(seconds=30)  # a since this clock has not reached yet
        receiver.update({RULE.key: ActiveAlert(RULE, ahead, "50.00%")}, [], announce=True)
        [second] = (await wait_until(lambda: alertmanager.received[1:]))[0]
    finally:
        await receiver.stop(1.0)
    assert (first["startsAt"], first["endsAt"]) == (format_time(since), format_time(AT + HOLD))
    assert (second["startsAt"], second["endsAt"]) == (
        format_time(clock.now),
        format_time(clock.now + HOLD),
    )


async def test_a_watcher_on_a_fixed_clock_sends_and_prints_that_moment(
    seed_db: str, alertmanager: FlakyReceiver, tmp_path: Any
) -> None:
    """The whole path: the engine's clock stamps the evaluation, the event on stdout and
    the Alertmanager payload alike."""
    await insert_operations(seed_db, ok=10, failed=10, ago=timedelta(minutes=1))
    now = datetime.now(UTC) - timedelta(seconds=7)  # after the rows; never the send's moment
    now = now.replace(microsecond=now.microsecond // 1000 * 1000)  # as the payload shows it
    settings = settings_for(write_config(tmp_path, FAILURE_RULE.format(for_="0s")), seed_db)
    url = f"http://127.0.0.1:{alertmanager.port}"
    async with RunningWatcher(settings, clock=lambda: now, alertmanagers=[url]) as running:
        [sent] = (await wait_until(lambda: alertmanager.received))[0]
        firing = await wait_until(lambda: "firing" in running.out.kinds())
        event = next(e for e in running.out.events() if e["event"] == "firing")
    assert firing
    assert sent["endsAt"] == format_time(now + running.watcher.options.hold)
    assert datetime.fromisoformat(event["ts"]) == now


async def test_endpoints_are_stamped_by_the_pollers_clock_answered_or_not() -> None:
    routes = {"/up": answer(200, {"status": "pass"}), "/down": answer(503, {"status": "fail"})}
    refused = f"http://127.0.0.1:{free_port()}"
    async with EndpointServer(routes) as server:
        pollers = [
            HealthPoller(server.url, {"up": "/up", "down": "/down"}, timeout=2.0, clock=lambda: AT),
            HealthPoller(refused, {"gone": "/health"}, timeout=2.0, clock=lambda: AT),
        ]
        try:
            results = [r for p in pollers for r in await p.poll()]
        finally:
            for poller in pollers:
                await poller.close()
    assert [(r.name, r.status) for r in results] == [
        ("up", EndpointStatus.UP),
        ("down", EndpointStatus.DOWN),
        ("gone", EndpointStatus.DOWN),
    ]
    assert {r.polled_at for r in results} == {AT}


def _firing_state(evaluated_at: datetime) -> dict[str, Any]:
    """A watcher's state document (30 s interval) in which the failure rule fires."""
    tracker = AlertTracker(RULE)
    obs = Observation(Verdict.TRUE, 0.5, 0.05, Unit.RATIO, 20)
    tracker.update(obs, evaluated_at, Since(evaluated_at - timedelta(minutes=3)))
    snapshot = Snapshot(evaluated_at, True, timedelta(minutes=5))
    document = encode(snapshot, [tracker], interval=timedelta(seconds=30), seq=1)
    wire: dict[str, Any] = json.loads(json.dumps(document))
    return wire


async def test_check_from_judges_a_states_age_by_its_clock(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """One served state, two clocks: 60 s after it the watcher is still evaluating (the
    verdict is its own: critical); 61 s after, it is not (UNKNOWN). No waiting. And the
    first watcher in order that is fresh by that clock is the one asked, though a later one
    has a newer state (which the machine's clock, days later, would prefer: both stale)."""
    monkeypatch.delenv("SYNCMON_WATCH_TOKEN", raising=False)

    async def check(url: str, now: datetime) -> tuple[int, dict[str, Any]]:
        out = io.StringIO()
        code = await asyncio.to_thread(
            run_check_from, url, output_format="json", out=out, clock=lambda: now
        )
        return code, json.loads(out.getvalue())

    first_routes = {"/api/v1/state": answer(200, _firing_state(AT))}
    newer_routes = {"/api/v1/state": answer(200, _firing_state(AT + timedelta(seconds=10)))}
    async with EndpointServer(first_routes) as first, EndpointServer(newer_routes) as newer:
        fresh = await check(first.url, AT + timedelta(seconds=60))
        stale = await check(first.url, AT + timedelta(seconds=61))
        today = await check(first.url, wall_clock())  # the machine's clock: days later
        in_order = await check(f"{first.url},{newer.url}", AT + timedelta(seconds=60))
    assert fresh[0] == 2 and fresh[1]["status"] == "critical"
    assert fresh[1]["watcher"]["age_seconds"] == 60
    assert stale[0] == 3 and stale[1]["status"] == "unknown"
    assert stale[1]["watcher"]["age_seconds"] == 61
    assert today[0] == 3
    assert in_order[1]["watcher"]["url"] == first.url
