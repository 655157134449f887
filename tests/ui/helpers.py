"""Shared helpers for the dashboard tests: settings, waiting, and the rendered screen text."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import SecretStr
from textual.app import App
from textual.pilot import Pilot
from textual.worker import Worker, WorkerCancelled

from syncmon.config.loader import load_config_text
from syncmon.config.settings import Settings
from syncmon.ui.app import SyncmonApp

RULES = """
alerts:
  - name: "High Sync Failure Rate"
    condition: "sync_failure_rate > 5%"
    severity: "critical"
  - name: "Endpoint Down"
    condition: "endpoints_down > 0"
    severity: "critical"
  - name: "Plaid API Errors"
    condition: "plaid_error_rate > 2%"
    severity: "warning"
dashboard:
  resolved_by: "tester"
"""

# The demo's history is random and moves with the clock: a database rule may or may not
# fire in the window a test happens to look at. Tests about acknowledging use the one rule
# they control, so that what fires is what the test made fire.
# pytest-textual-snapshot's `snap_compare` fixture: it declares `Callable[[str | PurePath], bool]`
# but its function also takes `press`, `terminal_size` and `run_before` by keyword.
SnapCompare = Callable[..., bool]

ENDPOINT_RULE_ONLY = """
alerts:
  - name: "Endpoint Down"
    condition: "endpoints_down > 0"
    severity: "critical"
dashboard:
  resolved_by: "tester"
"""


def make_settings(
    api_url: str | None,
    dsn: str | None,
    *,
    token: str | None = None,
    health_timeout: float = 5.0,
    rules: str = RULES,
) -> Settings:
    return Settings(
        config=load_config_text(rules, "<test>", {}),
        api_url=api_url,
        api_token=SecretStr(token) if token else None,
        dsn=SecretStr(dsn) if dsn else None,
        interval=None,
        health_timeout=health_timeout,
    )


T = TypeVar("T")


def narrow(value: object, kind: type[T]) -> T:
    """`value` as the `kind` the test built it as (the app's engine, screen or clock are
    typed by their port): checked, so a wrong guess fails the test instead of lying."""
    assert isinstance(value, kind), f"expected {kind.__name__}, got {type(value).__name__}"
    return value


def syncmon_app(pilot: Pilot[Any]) -> SyncmonApp:
    """The dashboard app a pilot drives (`Pilot.app` is typed as any `App`)."""
    return narrow(pilot.app, SyncmonApp)


def screen_text(app: App[Any]) -> str:
    """What the terminal shows now, as plain text (the active screen, composited)."""
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


def terminal_output(app: App[Any]) -> str:
    """The exact characters (escape sequences included) Textual would write for a full frame."""
    update = app.screen._compositor.render_full_update()
    return update.render_segments(app.console)


async def wait_for(
    pilot: Pilot[Any],
    predicate: Callable[[], bool],
    timeout: float = 15.0,
    what: str = "condition",
) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}\n{screen_text(pilot.app)}")
        await pilot.pause(0.05)
        await asyncio.sleep(0.02)


async def wait_for_text(pilot: Pilot[Any], text: str, timeout: float = 15.0) -> None:
    await wait_for(pilot, lambda: text in screen_text(pilot.app), timeout, repr(text))


async def wait_for_workers(pilot: Pilot[Any], *groups: str, timeout: float = 20.0) -> None:
    """Wait until the app's running workers (of `groups`, or all) have finished and every
    message they posted has been handled and drawn (harlequin's `wait_for_workers`).

    Workers post their results to the app's queue before they finish; a callback queued
    after that runs once those messages are handled, and `pilot.pause()` lets the widgets
    they changed process their own updates.
    """
    app = pilot.app
    deadline = time.monotonic() + timeout

    def running() -> list[Worker[Any]]:
        return [w for w in app.workers if w.is_running and (not groups or w.group in groups)]

    while True:
        busy = running()
        if time.monotonic() > deadline:
            raise AssertionError(f"workers still running: {busy}\n{screen_text(app)}")
        if busy:
            with contextlib.suppress(WorkerCancelled):  # exclusive workers replace each other
                await asyncio.wait_for(
                    app.workers.wait_for_complete(busy), deadline - time.monotonic()
                )
            continue
        handled = asyncio.Event()
        app.call_later(handled.set)
        await asyncio.wait_for(handled.wait(), max(0.1, deadline - time.monotonic()))
        if not running():  # a handler may have started more work: wait for that too
            break
    await pilot.pause()


async def press_and_settle(pilot: Pilot[Any], *keys: str) -> None:
    """Press keys, then wait for whatever work they started (polls, POSTs) to be handled."""
    await pilot.press(*keys)
    await wait_for_workers(pilot)
