"""Shared acknowledgements through the real Alertmanager binary, with two dashboards
(SPEC §8.1): an ack in one is "acked by NAME until TIME" in the other, an ack made in
Alertmanager itself shows in both, `a` on an acked alert expires the silence for
everyone, and the silence syncmon made ends when the alert resolves."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any, TypeVar

import httpx
import pytest
from textual.pilot import Pilot

from syncmon.core.alerts import AlertState
from syncmon.core.silences import alert_labels
from syncmon.core.timefmt import minute_clock
from syncmon.demo.backend import DemoBackend
from syncmon.sinks.alertmanager import format_time
from syncmon.ui.app import SyncmonApp
from syncmon.ui.launch import create_app
from syncmon.ui.panels.alerts import AlertsTable
from syncmon.ui.screens.ack_dialog import AckDialog
from syncmon.ui.screens.unack import UnackScreen
from tests.integration.watch_support import (
    NEEDS_ALERTMANAGER,
    Alertmanager,
)
from tests.ui.conftest import TOKEN
from tests.ui.helpers import (
    ENDPOINT_RULE_ONLY,
    make_settings,
    screen_text,
    wait_for,
    wait_for_text,
)

pytestmark = [pytest.mark.database, *NEEDS_ALERTMANAGER]
RULE = "Endpoint Down (sync)"  # the sync endpoint's alert of the rule (SPEC §15)
ALERTNAME = "Endpoint Down"
# Alice's dashboard and its pilot, then Bob's.
Two = tuple[SyncmonApp, Pilot[Any], SyncmonApp, Pilot[Any]]
T = TypeVar("T")


def dashboard(backend: DemoBackend, am: Alertmanager, who: str) -> SyncmonApp:
    rules = ENDPOINT_RULE_ONLY.replace('resolved_by: "tester"', f'resolved_by: "{who}"')
    settings = make_settings(backend.api_url, backend.dsn, token=TOKEN, rules=rules)
    return create_app(settings, alertmanagers=[am.url], interval=timedelta(milliseconds=500))


def firing(app: SyncmonApp) -> bool:
    tracker = app.alerts.trackers.get(RULE)
    return tracker is not None and tracker.state is AlertState.FIRING


def shows_one_firing(app: SyncmonApp) -> bool:
    return app.view.counts.firing == 1


async def silences(am: Alertmanager) -> list[dict[str, Any]]:
    async with httpx.AsyncClient(timeout=5) as client:
        answer = await client.get(f"{am.url}/api/v2/silences")
        answer.raise_for_status()
        return list(answer.json())


def active(found: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [s for s in found if s["status"]["state"] == "active"]


def ack_of(app: SyncmonApp) -> tuple[str, str | None, bool] | None:
    row = next(r for r in app.view.alerts.rows if r.rule == RULE)
    return None if row.ack is None else (row.ack.by, row.ack.until, row.ack.shared)


def acked_as(app: SyncmonApp, ack: tuple[str, str | None, bool]) -> bool:
    return ack_of(app) == ack


@pytest.fixture
async def two(backend: DemoBackend, alertmanager: Alertmanager) -> AsyncIterator[Two]:
    """Alice's and Bob's dashboards, both seeing Endpoint Down fire."""
    backend.set_endpoint("sync", "down")
    alice, bob = dashboard(backend, alertmanager, "alice"), dashboard(backend, alertmanager, "bob")
    async with AsyncExitStack() as stack:
        pa = await stack.enter_async_context(alice.run_test(size=(120, 40)))
        pb = await stack.enter_async_context(bob.run_test(size=(120, 40)))
        for pilot, app in ((pa, alice), (pb, bob)):
            await wait_for(pilot, partial(firing, app), what="firing")
            await wait_for(pilot, partial(shows_one_firing, app), what="shown")
        yield alice, pa, bob, pb


async def test_an_ack_in_one_dashboard_shows_in_the_other_and_bob_can_take_it_back(
    two: Two, alertmanager: Alertmanager
) -> None:
    alice, pa, bob, pb = two
    assert alice.screen.query_one(AlertsTable).selected_rule() == RULE
    await pa.press("a")
    await wait_for(pa, lambda: isinstance(alice.screen, AckDialog), what="the dialog")
    await pa.press("enter")
    # Alertmanager holds one silence for exactly the alert's labels, made by alice
    made = await wait_for_value(pa, lambda: active_now(alertmanager), what="the silence")
    assert len(made) == 1
    matchers = {m["name"]: m["value"] for m in made[0]["matchers"]}
    assert matchers == alert_labels(alice.alerts.trackers[RULE].rule)
    assert matchers["endpoint"] == "sync"  # this endpoint's alert only (SPEC §15)
    assert made[0]["createdBy"] == "alice"
    until = datetime.fromisoformat(made[0]["endsAt"].replace("Z", "+00:00"))
    shown_until = minute_clock(until, datetime.now(UTC))  # "15:12", or "11-28 07:59"

    # bob's dashboard reads it back: acked by alice until TIME, counted apart
    await wait_for(pb, lambda: ack_of(bob) == ("alice", shown_until, True), what="bob sees it")
    await wait_for(pb, lambda: f"by alice until {shown_until}" in screen_text(bob))
    header = screen_text(bob).splitlines()[1]
    assert "1 ACKED" in header and "FIRING" not in header
    await wait_for(pa, lambda: ack_of(alice) == ("alice", shown_until, True), what="shared")

    # bob un-acknowledges: the silence expires, for alice too
    await pb.press("a")
    await wait_for(pb, lambda: isinstance(bob.screen, UnackScreen), what="the offer")
    assert "acked by alice" in screen_text(bob)
    await pb.press("enter")
    await wait_for_value(pb, lambda: no_active(alertmanager), what="the silence expired")
    await wait_for(pa, lambda: ack_of(alice) is None, what="alice sees it gone")
    await wait_for(pb, lambda: bob.view.counts.firing == 1, what="bob: firing again")


async def test_an_ack_made_in_alertmanager_itself_shows_in_both(
    two: Two, alertmanager: Alertmanager
) -> None:
    alice, pa, bob, pb = two
    ends = datetime.now(UTC) + timedelta(hours=2)
    async with httpx.AsyncClient(timeout=5) as client:
        answer = await client.post(
            f"{alertmanager.url}/api/v2/silences",
            json={
                "matchers": [{"name": "alertname", "value": ALERTNAME, "isRegex": False}],
                "startsAt": format_time(datetime.now(UTC)),
                "endsAt": format_time(ends),
                "createdBy": "carol",
                "comment": "maintenance of the sync gateway",
            },
        )
        answer.raise_for_status()
    until = minute_clock(ends, datetime.now(UTC))
    for pilot, app in ((pa, alice), (pb, bob)):
        await wait_for(pilot, partial(acked_as, app, ("carol", until, True)), what="carol")
        await wait_for_text(pilot, f"by carol until {until}")


async def test_the_silence_syncmon_made_ends_when_the_alert_resolves(
    two: Two, alertmanager: Alertmanager, backend: DemoBackend
) -> None:
    alice, pa, _, _ = two
    await pa.press("a")
    await wait_for(pa, lambda: isinstance(alice.screen, AckDialog), what="the dialog")
    await pa.press("enter")
    await wait_for_value(pa, lambda: active_now(alertmanager), what="the silence")
    backend.set_endpoint("sync", "up")
    tracker = alice.alerts.trackers[RULE]
    await wait_for(pa, lambda: tracker.state is not AlertState.FIRING, what="resolved")
    await wait_for_value(pa, lambda: no_active(alertmanager), what="expired on resolve")
    await wait_for(pa, lambda: ack_of(alice) is None, what="no ack left")


async def active_now(am: Alertmanager) -> list[dict[str, Any]]:
    return active(await silences(am))


async def no_active(am: Alertmanager) -> bool:
    found = await silences(am)
    return bool(found) and not active(found)


async def wait_for_value(
    pilot: Pilot[Any], probe: Callable[[], Awaitable[T]], what: str, timeout: float = 15.0
) -> T:
    """Like `wait_for`, for an async probe of the outside world (Alertmanager's API)."""
    import time

    deadline = time.monotonic() + timeout
    while True:
        value = await probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}: {value!r}")
        await pilot.pause(0.1)
