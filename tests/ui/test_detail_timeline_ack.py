"""The alert detail screen, the timeline and the acknowledge dialog (SPEC §17), driven by
keys at 80×24 and 120×40 on frozen data: what they show is the evaluation the list shows,
untrusted text stays literal, and `escape` changes nothing."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import ListView

from syncmon.core.episodes import since_text
from syncmon.ui.app import SyncmonApp
from syncmon.ui.launch import create_app
from syncmon.ui.panels.alerts import AlertsTable
from syncmon.ui.screens.ack_dialog import AckDialog, parse_ack_duration
from syncmon.ui.screens.alert_detail import AlertDetailScreen
from syncmon.ui.screens.dashboard import DashboardScreen
from syncmon.ui.screens.timeline import TimelineScreen
from syncmon.ui.screens.unack import UnackScreen
from syncmon.ui.views import CountsView
from tests.ui.fixed_data import FROZEN, FixedConflicts, MovableClock
from tests.ui.fixed_history import HOSTILE, NEW_MESSAGE, HistoryEngine
from tests.ui.helpers import (
    make_settings,
    narrow,
    screen_text,
    syncmon_app,
    terminal_output,
    wait_for,
    wait_for_text,
    wait_for_workers,
)

API = "http://api.example:8080"
DSN = "postgresql://monitor:hunter2@db.internal:5432/sync"
RULE = "High Sync Failure Rate"
RULES = """
alerts:
  - name: "High Sync Failure Rate"
    condition: "sync_failure_rate > 5%"
    severity: "critical"
    labels: {team: mobile, tier: "[b]gold[/b]"}
    annotations:
      summary: "Sync failures above 5 % [@click=app.quit]quit[/]"
      runbook_url: "https://runbooks.example/sync/high-failure-rate?source=syncmon&x=1"
  - name: "Endpoint Down"
    condition: "endpoints_down > 0"
    severity: "critical"
  - name: "Plaid API Errors"
    condition: "plaid_error_rate > 2%"
    severity: "warning"
dashboard:
  resolved_by: "tester"
"""
SIZES = pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])


@pytest.fixture(autouse=True)
def _in_utc(utc: None) -> None:
    """Clock times in this module are drawn in UTC (tests/ui/conftest.py)."""


def history_app(**options: Any) -> SyncmonApp:
    settings = make_settings(API, DSN, rules=RULES)
    return create_app(
        settings,
        engine=HistoryEngine(settings.rules),
        conflicts=FixedConflicts(),
        clock=MovableClock(),
        **options,
    )


async def polled(pilot: Pilot[Any]) -> None:
    app = syncmon_app(pilot)
    await wait_for(pilot, lambda: app.polls >= 1 and app.view.counts.firing == 2, what="firing")
    await wait_for_workers(pilot)


async def select(pilot: Pilot[Any], rule: str) -> None:
    table = pilot.app.screen.query_one(AlertsTable)
    await pilot.press(*["up"] * 5)
    for _ in range(10):
        if table.selected_rule() == rule:
            return
        await pilot.press("down")
    raise AssertionError(f"{rule} not in the list")


async def open_detail(pilot: Pilot[Any], rule: str = RULE) -> AlertDetailScreen:
    await select(pilot, rule)
    await pilot.press("enter")
    app = pilot.app
    await wait_for(pilot, lambda: isinstance(app.screen, AlertDetailScreen), what="the detail")
    await wait_for_workers(pilot)
    await wait_for_text(pilot, "delivery")  # the facts drawn
    return narrow(app.screen, AlertDetailScreen)


@SIZES
async def test_enter_opens_the_detail_of_the_selected_alert_as_the_list_shows_it(
    size: tuple[int, int],
) -> None:
    app = history_app()
    async with app.run_test(size=size) as pilot:
        await polled(pilot)
        row = next(r for r in app.view.alerts.rows if r.rule == RULE)
        screen = await open_detail(pilot)
        tracker = app.alerts.trackers[RULE]
        text = screen_text(app)
        assert "High Sync Failure Rate" in text and "critical" in text
        assert "sync_failure_rate > 5%" in text and "window 5m" in text and "for 0s" in text
        assert f"{row.value} > {row.threshold}" in text  # the list's value, not another read
        assert "FIRING" in text
        assert tracker.since_info is not None
        assert since_text(tracker.since_info, FROZEN) in text
        assert tracker.episode_id and tracker.episode_id in text  # the same episode
        assert "not acknowledged" in text and "nothing delivered from this dashboard" in text
        # what changed: the episode against the stretch before it
        [(name, since, end)] = narrow(app.engine, HistoryEngine).episode_calls
        assert (name, since, end) == (RULE, tracker.since, FROZEN)
        body = screen.query_one("#alert-detail-body")
        body.scroll_end(animate=False)
        await pilot.pause()
        whole = _detail_text(screen)
        assert f"NEW 0 → 31 {NEW_MESSAGE}" in " ".join(whole.split())
        assert "7 → 9 ECONNRESET" in " ".join(whole.split())
        assert "NEW" not in _line_with(whole, "ECONNRESET")
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, DashboardScreen), what="back")


def _detail_text(screen: AlertDetailScreen) -> str:
    """Every line the detail screen holds, scrolled or not (the facts and the changes)."""
    from rich.console import Console
    from textual.widgets import Static

    console = Console(width=screen.size.width, record=True, color_system=None)
    for widget_id in ("#alert-detail-facts", "#alert-detail-changes"):
        console.print(screen.query_one(widget_id, Static).content)
    return console.export_text()


def _line_with(text: str, needle: str) -> str:
    return next(line for line in text.splitlines() if needle in line)


async def test_the_detail_shows_labels_annotations_and_stored_text_literally() -> None:
    app = history_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await polled(pilot)
        screen = await open_detail(pilot)
        whole = _detail_text(screen)
        assert "tier=[b]gold[/b]" in whole
        assert "[@click=app.quit]quit[/]" in whole
        # the runbook URL whole, on one line, so it can be copied
        assert "https://runbooks.example/sync/high-failure-rate?source=syncmon&x=1" in whole
        assert "[red]markup[/]" in whole and "evil title" in whole
        assert HOSTILE not in whole  # the ESC and BEL were replaced
        output = terminal_output(app)
        assert "\x1b]0;" not in output and "\x07" not in output
        assert isinstance(app.screen, AlertDetailScreen)  # no markup action ran


@SIZES
async def test_an_endpoint_rules_detail_says_when_each_endpoint_went_down_and_why(
    size: tuple[int, int],
) -> None:
    app = history_app()
    async with app.run_test(size=size) as pilot:
        await polled(pilot)
        screen = await open_detail(pilot, "Endpoint Down")
        whole = " ".join(_detail_text(screen).split())
        assert "plaid: down · last OK never, since this dashboard started" in whole
        assert "not up since" in whole and "HTTP 503 Service Unavailable" in whole
        assert "database: degraded" in whole and "status 'warn'" in whole
        assert "sync: up" in whole
        assert "first seen" in whole  # since was seen here, not found in a database
        assert (
            narrow(app.engine, HistoryEngine).episode_calls == []
        )  # endpoint rules have no database history


async def test_the_detail_under_at_reads_the_episode_up_to_that_moment() -> None:
    at = FROZEN
    app = history_app(at=at)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: app.polls >= 1 and app.view.counts.firing == 1)
        await wait_for_workers(pilot)
        await open_detail(pilot)
        [(_, since, end)] = narrow(app.engine, HistoryEngine).episode_calls
        assert end == at and since == at - timedelta(minutes=40)
        assert "at 2026-11-27 03:12:00" in screen_text(app)
        screen = await open_detail_endpoint_under_at(pilot)
        assert "not available with --at" in _detail_text(screen)


async def open_detail_endpoint_under_at(pilot: Pilot[Any]) -> AlertDetailScreen:
    await pilot.press("escape")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, DashboardScreen))
    return await open_detail(pilot, "Endpoint Down")


@SIZES
async def test_t_lists_every_episode_newest_first_and_enter_opens_it(size: tuple[int, int]) -> None:
    app = history_app()
    async with app.run_test(size=size) as pilot:
        await polled(pilot)
        await pilot.press("t")
        await wait_for(pilot, lambda: isinstance(app.screen, TimelineScreen), what="timeline")
        await wait_for_workers(pilot)
        screen = app.screen
        [(start, end)] = narrow(app.engine, HistoryEngine).timeline_calls
        assert end - start == timedelta(hours=24)
        lines = screen_text(app).splitlines()
        rows = [line for line in lines if "High Sync" in line or "Plaid API" in line]
        endpoint = [line for line in lines if "Endpoint Down" in line and "*" in line]
        assert len(rows) >= 3 and endpoint  # the endpoint rule's live episode, first seen
        assert "02:32" in rows[0] and "firing" in rows[0] and "40m" in rows[0]
        assert "9.60%" in rows[0]
        assert "22:12" in rows[1] and "22:30" in rows[1] and "18m" in rows[1]
        assert "Plaid API Errors" in rows[2] and "3.40%" in rows[2]
        assert "never fired" not in screen_text(app)

        # enter on the episode under way: its live detail
        await _choose(pilot, "02:32")
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, AlertDetailScreen))
        assert narrow(app.screen, AlertDetailScreen).episode is None
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is screen, what="back to the timeline")

        # enter on a past one: that episode, at its time
        await _choose(pilot, "22:12")
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, AlertDetailScreen))
        await wait_for_workers(pilot)
        detail = narrow(app.screen, AlertDetailScreen)
        assert detail.episode is not None and detail.episode.end is not None
        whole = " ".join(_detail_text(detail).split())
        assert "resolved at 2026-11-26 22:30:00" in whole and "after 18m" in whole
        assert "peak 7.10%" in whole and "a past episode" in whole
        assert detail.episode.id in whole
        assert narrow(app.engine, HistoryEngine).episode_calls[-1][1:] == (
            detail.episode.start,
            detail.episode.end,
        )
        await pilot.press("escape", "escape")
        await wait_for(pilot, lambda: isinstance(app.screen, DashboardScreen), what="home")


async def _choose(pilot: Pilot[Any], needle: str) -> None:
    screen = pilot.app.screen
    listing = screen.query_one("#timeline-list", ListView)
    for index, item in enumerate(listing.children):
        if needle in str(item.query_one(".timeline-row").render()):
            listing.index = index
            await pilot.pause()
            return
    raise AssertionError(f"no episode row with {needle}")


async def test_the_timeline_says_which_history_could_not_be_read() -> None:
    app = history_app()
    narrow(
        app.engine, HistoryEngine
    ).history_error = "sync_performance_metrics: statement timed out after 5s"
    async with app.run_test(size=(80, 24)) as pilot:
        await polled(pilot)
        await pilot.press("t")
        await wait_for(pilot, lambda: isinstance(app.screen, TimelineScreen))
        await wait_for_workers(pilot)
        text = screen_text(app)
        assert "Plaid API Errors: history unreadable" in " ".join(text.split())


@SIZES
async def test_a_opens_a_dialog_naming_the_alert_and_escape_acks_nothing(
    size: tuple[int, int],
) -> None:
    app = history_app()
    async with app.run_test(size=size) as pilot:
        await polled(pilot)
        await select(pilot, RULE)
        row = next(r for r in app.view.alerts.rows if r.rule == RULE)
        await pilot.press("a")
        await wait_for(pilot, lambda: isinstance(app.screen, AckDialog), what="the dialog")
        await wait_for_text(pilot, "for how long")
        text = " ".join(screen_text(app).split())
        assert f"Acknowledge {RULE}?" in text
        assert f"value {row.value}" in text and f"since {row.since_age} ago" in text
        assert "until resolved" in text and "1 h" in text and "4 h" in text
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, DashboardScreen))
        assert app.acks.local == {} and app.view.counts == CountsView(firing=2, acked=0)


@SIZES
async def test_a_typed_duration_and_comment_make_a_timed_ack(size: tuple[int, int]) -> None:
    app = history_app()
    async with app.run_test(size=size) as pilot:
        await polled(pilot)
        await select(pilot, RULE)
        await pilot.press("a")
        await wait_for(pilot, lambda: isinstance(app.screen, AckDialog))
        await pilot.press(*"rolling back 4.2")
        await pilot.press("shift+tab")  # to the typed duration
        await pilot.press(*"soon", "enter")
        assert isinstance(app.screen, AckDialog)  # refused, and says why
        assert "duration:" in screen_text(app)
        assert app.acks.local == {}
        await pilot.press(*["backspace"] * 4, *"90m", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, DashboardScreen))
        ack = app.acks.local[RULE]
        assert ack.until == app.clock() + timedelta(minutes=90)
        assert ack.comment == "rolling back 4.2"
        assert app.view.counts == CountsView(firing=1, acked=1)
        # the ack ends at its time even if the alert still fires
        narrow(app.clock, MovableClock).advance(timedelta(minutes=91))
        app.publish()
        assert app.acks.ack_for(app.alerts.trackers[RULE].rule) is None


async def test_a_on_an_acked_alert_still_offers_to_unacknowledge_from_the_detail() -> None:
    app = history_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await polled(pilot)
        screen = await open_detail(pilot)
        await pilot.press("a")
        await wait_for(pilot, lambda: isinstance(app.screen, AckDialog))
        await pilot.press("enter")  # until resolved, the default
        await wait_for(pilot, lambda: app.screen is screen, what="back on the detail")
        await wait_for(pilot, lambda: "acked by tester" in _detail_text(screen))
        assert "until it resolves" in _detail_text(screen)
        await pilot.press("a")
        await wait_for(pilot, lambda: isinstance(app.screen, UnackScreen), what="the offer")
        await pilot.press("enter")
        await wait_for(pilot, lambda: "not acknowledged" in _detail_text(screen))


def test_typed_durations_are_checked() -> None:
    assert parse_ack_duration(" 90m ") == timedelta(minutes=90)
    for bad in ("", "soon", "0s", "8d"):
        with pytest.raises(ValueError):
            parse_ack_duration(bad)


def _reversed(app: SyncmonApp, rule: str) -> bool:
    """Whether the alerts list's row of `rule` is drawn in reverse video (its name cell)."""
    region = app.screen.query_one("#alerts-list").region
    strips = app.screen._compositor.render_strips()[region.y : region.bottom]
    for strip in strips:  # the list's rows only (the status block also names alerts)
        if rule in strip.text:
            cells = [seg for seg in strip if rule[:8] in seg.text]
            return bool(cells) and all(seg.style is not None and seg.style.reverse for seg in cells)
    raise AssertionError(f"no row for {rule}")


@SIZES
async def test_the_selected_row_is_reverse_video_focused_or_not(
    size: tuple[int, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    app = history_app()
    async with app.run_test(size=size) as pilot:
        await polled(pilot)
        await select(pilot, RULE)
        assert _reversed(app, RULE) and not _reversed(app, "Plaid API Errors")
        app.screen.set_focus(None)  # the list without focus: still reverse, never only dim
        await pilot.pause()
        assert _reversed(app, RULE) and not _reversed(app, "Plaid API Errors")
