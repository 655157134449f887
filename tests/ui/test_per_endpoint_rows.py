"""The alerts panel has one row per alert (SPEC §15): two endpoints down are two rows,
each acknowledged on its own, on the real demo backend."""

from __future__ import annotations

import pytest

from syncmon.demo.backend import DemoBackend
from syncmon.ui.launch import create_app
from syncmon.ui.panels.alerts import AlertsTable
from syncmon.ui.screens.ack_dialog import AckDialog
from syncmon.ui.views import CountsView
from tests.ui.conftest import TOKEN
from tests.ui.helpers import ENDPOINT_RULE_ONLY, make_settings, screen_text, wait_for

pytestmark = pytest.mark.database

SYNC, REDIS = "Endpoint Down (sync)", "Endpoint Down (redis)"


async def test_two_down_endpoints_are_two_rows_acked_apart(backend: DemoBackend) -> None:
    backend.set_endpoint("sync", "down")
    backend.set_endpoint("redis", "down")
    settings = make_settings(backend.api_url, backend.dsn, token=TOKEN, rules=ENDPOINT_RULE_ONLY)
    app = create_app(settings)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.view.counts.firing == 2, what="two alerts firing")
        rows = {row.rule: row for row in app.view.alerts.rows}
        assert set(rows) == {SYNC, REDIS, "Endpoint Down (plaid)", "Endpoint Down (database)"}
        assert rows[SYNC].firing and rows[REDIS].firing and not rows["Endpoint Down (plaid)"].firing
        await wait_for(pilot, lambda: SYNC in screen_text(app) and REDIS in screen_text(app))

        selected = app.screen.query_one(AlertsTable).selected_rule()
        assert selected in (SYNC, REDIS)
        other = REDIS if selected == SYNC else SYNC
        await pilot.press("a")  # acknowledges the selected alert only
        await wait_for(pilot, lambda: isinstance(app.screen, AckDialog), what="the dialog")
        await pilot.press("enter")  # until it resolves
        await wait_for(pilot, lambda: app.view.counts == CountsView(firing=1, acked=1))
        assert app.acks.ack_for(app.alerts.trackers[selected].rule) is not None
        assert app.acks.ack_for(app.alerts.trackers[other].rule) is None

        backend.set_endpoint(selected.split("(")[1].rstrip(")"), "up")
        await pilot.press("r")
        await wait_for(pilot, lambda: app.view.counts == CountsView(firing=1, acked=0))
        assert app.alerts.trackers[other].firing  # the other endpoint still pages
