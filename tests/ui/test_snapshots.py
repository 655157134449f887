"""Snapshots of the dashboard on frozen data (no clock, no network, no randomness)."""

from __future__ import annotations

import time

import pytest

from syncmon.ui.app import SyncmonApp, create_app
from syncmon.ui.screens.conflict_detail import ConflictDetailScreen
from syncmon.ui.screens.conflicts import ConflictsScreen
from tests.ui.fixed_data import FixedConflicts, FixedEngine, frozen_clock
from tests.ui.helpers import make_settings, wait_for

API = "http://api.example:8080"
DSN = "postgresql://monitor:hunter2@db.internal:5432/sync"


@pytest.fixture(autouse=True)
def utc(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def fixed_app() -> SyncmonApp:
    return create_app(
        make_settings(API, DSN),
        engine=FixedEngine(),
        conflicts=FixedConflicts(),
        clock=frozen_clock,
        flash=False,
    )  # type: ignore[arg-type]


async def first_poll(pilot) -> None:
    app = pilot.app
    await wait_for(pilot, lambda: app.polls >= 1 and app.model.conflicts_open is not None)
    await pilot.pause(0.2)


def test_main_screen_80x24(snap_compare) -> None:
    assert snap_compare(fixed_app(), terminal_size=(80, 24), run_before=first_poll)


def test_main_screen_160x50(snap_compare) -> None:
    assert snap_compare(fixed_app(), terminal_size=(160, 50), run_before=first_poll)


def test_conflicts_screen(snap_compare) -> None:
    async def open_conflicts(pilot) -> None:
        await first_poll(pilot)
        await pilot.press("c")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, ConflictsScreen))
        await pilot.pause(0.3)

    assert snap_compare(fixed_app(), terminal_size=(100, 24), run_before=open_conflicts)


def test_conflict_detail_screen(snap_compare) -> None:
    async def open_detail(pilot) -> None:
        await first_poll(pilot)
        await pilot.press("c")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, ConflictsScreen))
        await pilot.pause(0.3)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, ConflictDetailScreen))
        await pilot.pause(0.2)

    assert snap_compare(fixed_app(), terminal_size=(100, 24), run_before=open_detail)
