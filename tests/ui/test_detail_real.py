"""The detail screen and the timeline end to end: the real engine, a real PostgreSQL (the
demo backend's), rows of an incident that brings an error message never seen before."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from syncmon.core.alerts import AlertState
from syncmon.demo.backend import DemoBackend
from syncmon.ui.launch import create_app
from syncmon.ui.screens.alert_detail import AlertDetailScreen
from syncmon.ui.screens.timeline import TimelineScreen
from tests.integration.rows import Op, insert_operations
from tests.ui.conftest import TOKEN
from tests.ui.helpers import make_settings, narrow, screen_text, wait_for, wait_for_workers

pytestmark = pytest.mark.database
RULE = "Sync Failures"
RULES = f"""
alerts:
  - name: "{RULE}"
    condition: "sync_failure_rate > 30%"
    severity: "critical"
dashboard:
  resolved_by: "tester"
"""
MESSAGE = "certificate verify failed: sync-gateway-7f3a (new in this incident)"


def incident() -> list[Op]:
    """Twenty minutes of syncs every second, nine in ten failing with a new message."""
    return [
        Op(k + 0.5, "sync_push", 250, k % 10 == 0, None if k % 10 == 0 else MESSAGE)
        for k in range(20 * 60)
    ]


async def test_enter_on_a_firing_alert_marks_the_new_message_with_its_counts(
    backend: DemoBackend,
) -> None:
    await insert_operations(backend.dsn, incident(), now=datetime.now(UTC))
    settings = make_settings(backend.api_url, backend.dsn, token=TOKEN, rules=RULES)
    app = create_app(settings)
    async with app.run_test(size=(120, 40)) as pilot:
        tracker = app.alerts.trackers[RULE]
        await wait_for(pilot, lambda: tracker.state is AlertState.FIRING, what="firing")
        await wait_for_workers(pilot)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, AlertDetailScreen))
        screen = narrow(app.screen, AlertDetailScreen)
        await wait_for(pilot, lambda: screen.context is not None, what="the history read")
        assert screen.context is not None
        changes = screen.context.changes
        assert changes is not None and changes.error is None, changes
        [new] = [c for c in changes.messages if c.key == MESSAGE]
        assert new.new and new.before == 0 and new.during >= 1000
        await wait_for(pilot, lambda: MESSAGE in screen_text(app), what="shown")
        line = next(x for x in screen_text(app).splitlines() if MESSAGE in x)
        assert "NEW" in line and f"0 → {new.during}" in line
        assert tracker.episode_id and tracker.episode_id in screen_text(app)

        await pilot.press("t")
        await wait_for(pilot, lambda: isinstance(app.screen, TimelineScreen))
        timeline = narrow(app.screen, TimelineScreen)
        await wait_for(pilot, lambda: timeline.timeline is not None, what="the timeline")
        assert timeline.timeline is not None
        current = [e for e in timeline.timeline.episodes if e.end is None]
        assert [e.start for e in current] == [tracker.since]
