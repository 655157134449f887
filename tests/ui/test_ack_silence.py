"""The acknowledge dialog with the real Alertmanager (SPEC §17): the duration becomes the
silence's end and the comment its comment; the detail screen shows the delivery."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from syncmon.core.alerts import AlertState
from syncmon.core.silences import ACK_COMMENT
from syncmon.demo.backend import DemoBackend
from syncmon.ui.screens.ack_dialog import AckDialog
from syncmon.ui.screens.alert_detail import AlertDetailScreen
from syncmon.ui.screens.dashboard import DashboardScreen
from tests.integration.watch_support import NEEDS_ALERTMANAGER, Alertmanager
from tests.ui.helpers import screen_text, wait_for, wait_for_text
from tests.ui.test_shared_acks import RULE, active_now, dashboard, wait_for_value

pytestmark = [pytest.mark.database, *NEEDS_ALERTMANAGER]


async def test_a_four_hour_ack_with_a_comment_is_the_silence(
    backend: DemoBackend, alertmanager: Alertmanager
) -> None:
    backend.set_endpoint("sync", "down")
    app = dashboard(backend, alertmanager, "alice")
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: RULE in app.alerts.trackers, what="the sync alert")
        tracker = app.alerts.trackers[RULE]
        await wait_for(pilot, lambda: tracker.state is AlertState.FIRING, what="firing")
        await pilot.press("enter")  # the detail, then `a` from there
        await wait_for(pilot, lambda: isinstance(app.screen, AlertDetailScreen))
        detail = app.screen
        await wait_for_text(pilot, "nothing delivered from this dashboard")
        await pilot.press("a")
        await wait_for(pilot, lambda: isinstance(app.screen, AckDialog), what="the dialog")
        await pilot.press(*"failing over the gateway")
        await pilot.press("shift+tab", "shift+tab")  # typed duration, then the choices
        await pilot.press("right", "right", "enter")  # "4 h"
        asked = datetime.now(UTC)
        await pilot.press("tab", "tab", "enter")  # back to the comment; enter acks
        await wait_for(pilot, lambda: app.screen is detail, what="back on the detail")

        [silence] = await wait_for_value(pilot, lambda: active_now(alertmanager), "silence")
        assert silence["comment"] == f"{ACK_COMMENT} alice: failing over the gateway"
        ends = datetime.fromisoformat(silence["endsAt"].replace("Z", "+00:00"))
        assert abs(ends - (asked + timedelta(hours=4))) < timedelta(seconds=30)
        await wait_for_text(pilot, "silence created at")
        line = next(x for x in screen_text(app).splitlines() if "silence created" in x)
        assert alertmanager.url.split("//")[1] in line or "→" in line
        assert ": ok" in screen_text(app)
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, DashboardScreen))
