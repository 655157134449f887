"""Snapshots at 80×24 of the alert detail screen and the timeline, on frozen data (a fixed
clock, a fixed past, no network): what an on-call engineer sees first on each."""

from __future__ import annotations

from typing import Any

import pytest
from textual.pilot import Pilot

from syncmon.ui.screens.alert_detail import AlertDetailScreen
from syncmon.ui.screens.timeline import TimelineScreen
from tests.ui.helpers import SnapCompare, screen_text, wait_for, wait_for_text, wait_for_workers
from tests.ui.test_detail_timeline_ack import RULE, history_app, polled, select


@pytest.fixture(autouse=True)
def _in_utc(utc: None) -> None:
    """Clock times in this module are drawn in UTC (tests/ui/conftest.py)."""


def test_alert_detail_at_80x24(snap_compare: SnapCompare) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await polled(pilot)
        await select(pilot, RULE)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, AlertDetailScreen))
        await wait_for_workers(pilot)
        await wait_for_text(pilot, "NEW")
        text = screen_text(pilot.app)
        for answer in ("sync_failure_rate > 5%", "FIRING", "8.00% > 5.00%", "02:32:00"):
            assert answer in text

    assert snap_compare(history_app(), terminal_size=(80, 24), run_before=run_before)


def test_timeline_at_80x24(snap_compare: SnapCompare) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await polled(pilot)
        await pilot.press("t")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, TimelineScreen))
        await wait_for_workers(pilot)
        await wait_for_text(pilot, "firing")

    assert snap_compare(history_app(), terminal_size=(80, 24), run_before=run_before)
