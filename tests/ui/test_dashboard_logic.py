"""The dashboard's decisions as plain objects, without a terminal: when to poll, which
columns give way, who acknowledged what, and who "I" am."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from syncmon.core.alerts import AlertState, AlertTracker, Observation, Verdict
from syncmon.core.metrics import Unit
from syncmon.core.silences import ACK_COMMENT, Matcher, Silence, SilenceMade, SilenceRead
from syncmon.ui.acks import AckBook, ack_target
from syncmon.ui.conflicts_service import operator_name
from syncmon.ui.panels.alerts import plan_columns
from syncmon.ui.panels.status import attention_line
from syncmon.ui.present import alert_row
from syncmon.ui.schedule import OVERDUE_GRACE, PollSchedule
from syncmon.ui.views import AckView, AlertRowView
from tests.ui.helpers import make_settings

T0 = datetime(2026, 11, 27, 3, 12, tzinfo=UTC)
AM = "http://am.example:9093"


# --- when to poll ---------------------------------------------------------------------------
def test_polls_never_overlap_and_one_asked_for_meanwhile_runs_right_after() -> None:
    schedule = PollSchedule(timedelta(seconds=5), at=None, health_apart=True)
    first = schedule.begin_poll(T0)
    assert first is not None and first.display.chart_span == timedelta(hours=1)
    assert not first.display.health  # health is polled apart
    assert schedule.begin_poll(T0) is None  # `r` while polling: not a second poll...
    assert schedule.end_poll(T0, error=None) == 0.0  # ...but one right after
    again = schedule.begin_poll(T0)
    assert again is not None and again.display.chart_span is None  # the chart waits
    assert schedule.end_poll(T0, error=None) == 5.0


def test_the_chart_is_fetched_every_half_bucket_or_when_asked() -> None:
    schedule = PollSchedule(timedelta(seconds=5), at=None, health_apart=True)

    def charted(now: datetime) -> bool:
        plan = schedule.begin_poll(now)
        assert plan is not None
        schedule.end_poll(now, error=None)
        return plan.display.chart_span is not None

    assert charted(T0)
    assert not charted(T0 + timedelta(seconds=5))
    assert charted(T0 + timedelta(seconds=30))
    schedule.refresh_now()
    assert charted(T0 + timedelta(seconds=35))


def test_a_window_change_drops_answers_for_the_old_window() -> None:
    schedule = PollSchedule(timedelta(seconds=5), at=None, health_apart=True)
    plan = schedule.begin_poll(T0)
    assert plan is not None
    schedule.change_view(window=schedule.next_window(), user=None)
    assert not schedule.current(plan.generation)
    assert schedule.window == timedelta(minutes=15)


def test_paused_and_at_time_poll_nothing_periodic_and_are_never_overdue() -> None:
    paused = PollSchedule(timedelta(seconds=5), at=None, health_apart=True)
    paused.begin_poll(T0)
    paused.toggle_pause()
    assert paused.end_poll(T0, error=None) is None
    assert paused.end_health() is None and paused.overdue_at() is None
    at = PollSchedule(timedelta(seconds=5), at=T0 - timedelta(hours=2), health_apart=True)
    assert not at.health_apart and not at.begin_health(T0)
    at.begin_poll(T0)
    assert at.end_poll(T0, error=None) is None and at.overdue_at() is None


def test_numbers_are_overdue_after_two_intervals_and_a_grace() -> None:
    schedule = PollSchedule(timedelta(seconds=5), at=None, health_apart=True)
    assert schedule.overdue_at() is None  # never refreshed: "not refreshed yet" says it
    schedule.begin_poll(T0)
    schedule.end_poll(T0, error=None)
    due = T0 + timedelta(seconds=10) + OVERDUE_GRACE
    assert schedule.overdue_at() == due
    assert not schedule.overdue(due - timedelta(milliseconds=1)) and schedule.overdue(due)


# --- which columns give way -----------------------------------------------------------------
@pytest.mark.parametrize("width", range(30, 200, 7))
def test_since_and_state_never_give_way(width: int) -> None:
    keys = [c.key for c in plan_columns(width)]
    assert keys[0] == "state" and "since" in keys and "alert" in keys


def test_less_important_columns_give_way_first() -> None:
    wide = [c.key for c in plan_columns(120)]
    assert wide == ["state", "sev", "alert", "value", "threshold", "since", "ack"]
    narrow = [c.key for c in plan_columns(76)]
    assert narrow == ["state", "alert", "value", "since"]
    since = next(c for c in plan_columns(76) if c.key == "since")
    assert since.width >= len("1h05m (03:02)")  # the clock time still fits at 80 columns
    state = next(c for c in plan_columns(76) if c.key == "state")
    assert state.width == len("FIRING blind")  # the longest state word, never cut


def test_an_empty_column_yields_before_any_name_is_cut() -> None:
    """No one acknowledged anything: the "acknowledged" column gives its width to names."""
    names = ("High Sync Failure Rate", "Health Endpoint Down: plaid")
    rows = [row(rule=name, ack=None) for name in names]
    for width in (100, 110, 116):
        columns = plan_columns(width, rows)
        keys = [c.key for c in columns]
        assert "ack" not in keys, (width, keys)
        name = next(c for c in columns if c.key == "alert")
        assert name.width >= max(len(n) for n in names), (width, keys)
    with_ack = [row(rule=names[0], ack=AckView("alice")), row(rule=names[1], ack=None)]
    assert "ack" in [c.key for c in plan_columns(140, with_ack)]


def test_the_name_yields_before_since_and_state() -> None:
    long = "A very long alert name that cannot fit in sixty columns at all"
    for width in range(40, 80, 3):
        columns = plan_columns(width, [row(rule=long)])
        keys = [c.key for c in columns]
        assert keys[0] == "state" and "since" in keys, (width, keys)
        name = next(c for c in columns if c.key == "alert")
        assert name.width < len(long)


def row(**fields: Any) -> AlertRowView:
    base: dict[str, Any] = {
        "rule": "High Sync Failure Rate",
        "state": AlertState.FIRING,
        "severity": "critical",
        "value": "8.00%",
        "threshold": "5.00%",
        "op": ">",
        "since_age": "1h05m",
        "since_clock": "02:07",
    }
    base.update(fields)
    return AlertRowView(**base)


@pytest.mark.parametrize("width", [40, 50, 60, 78, 118])
def test_the_status_line_keeps_the_since_age_at_any_width(width: int) -> None:
    acked = row(ack=AckView("a-rather-long-operator-name", "15:12", shared=True))
    for line in (attention_line(row(), width), attention_line(acked, width)):
        assert "1h05m" in line.plain
        assert line.cell_len <= max(width, 8 + 12 + 2 + len("1h05m"))
    full = attention_line(acked, 118).plain
    assert "8.00% > 5.00%" in full and "until 15:12" in full and "(02:07)" in full


def test_since_is_bounded_and_seen_as_issue_8_will_say() -> None:
    class Tracker(AlertTracker):
        since_bounded = True
        since_seen = True

    rule = make_settings(None, None).rules[0]
    tracker = Tracker(rule)
    tracker.update(Observation(Verdict.TRUE, 0.08, 0.05, Unit.RATIO, 100), T0)
    shown = alert_row(tracker, None, T0 + timedelta(hours=30))
    assert shown.since_age == "≥30h00m" and shown.since_seen
    assert "≥30h00m*" in attention_line(shown, 100).plain


# --- who acknowledged what ------------------------------------------------------------------
def silence(id: str, name: str, by: str = "carol", comment: str = "maintenance") -> Silence:
    return Silence(
        id,
        (Matcher("alertname", name),),
        by,
        comment,
        T0,
        T0 + timedelta(hours=2),
        "active",
    )


def firing_tracker(index: int = 1) -> AlertTracker:
    tracker = AlertTracker(make_settings(None, None).rules[index])
    tracker.update(Observation(Verdict.TRUE, 1, 0, Unit.COUNT, 4), T0)
    assert tracker.state is AlertState.FIRING
    return tracker


def test_without_alertmanager_an_ack_is_local_and_says_so() -> None:
    tracker = firing_tracker()
    book = AckBook([tracker.rule])
    book.acknowledge(tracker.rule, "tester", T0)
    ack = book.ack_for(tracker.rule)
    assert ack is not None and not ack.shared and ack.reason and "local" in ack.reason


def test_a_silence_read_back_is_the_ack_whoever_made_it() -> None:
    tracker = firing_tracker()
    book = AckBook([tracker.rule], [AM])
    book.acknowledge(tracker.rule, "alice", T0)
    pending = book.ack_for(tracker.rule)
    assert pending is not None and pending.pending and not pending.shared
    notices = book.apply_reads([SilenceRead(AM, [silence("s1", tracker.rule.name, "alice")])])
    assert notices == []
    ack = book.ack_for(tracker.rule)
    assert ack is not None and ack.shared and ack.by == "alice"
    assert ack.until == T0 + timedelta(hours=2) and ack.silences == ((AM, "s1"),)
    assert tracker.rule.name not in book.local  # the shared one replaced the local one


def test_a_failed_silence_leaves_a_local_ack_that_says_why() -> None:
    tracker = firing_tracker()
    book = AckBook([tracker.rule], [AM])
    book.acknowledge(tracker.rule, "alice", T0)
    expire, notices = book.apply_made(tracker.rule, [SilenceMade(AM, None, "refused")], True)
    assert expire == [] and "could not silence" in notices[0][0]
    ack = book.ack_for(tracker.rule)
    assert ack is not None and not ack.shared and "refused" in (ack.reason or "")


def test_a_silence_made_after_the_alert_resolved_is_expired_at_once() -> None:
    tracker = firing_tracker()
    book = AckBook([tracker.rule], [AM])
    book.acknowledge(tracker.rule, "alice", T0)
    expire, _ = book.apply_made(tracker.rule, [SilenceMade(AM, "s9")], still_firing=False)
    assert expire == [(AM, "s9")] and book.ack_for(tracker.rule) is None


def test_unacknowledging_hides_the_silence_until_alertmanager_stops_listing_it() -> None:
    tracker = firing_tracker()
    book = AckBook([tracker.rule], [AM])
    listed = [silence("s1", tracker.rule.name)]
    book.apply_reads([SilenceRead(AM, listed)])
    assert book.unacknowledge(tracker.rule) == [(AM, "s1")]
    book.apply_reads([SilenceRead(AM, listed)])  # a read that raced the expiry
    assert book.ack_for(tracker.rule) is None
    book.apply_expired([((AM, "s1"), "HTTP 500")], quiet=False)  # expiring failed
    book.apply_reads([SilenceRead(AM, listed)])
    assert book.ack_for(tracker.rule) is not None  # so the ack is shown again


def test_on_resolve_only_silences_syncmon_made_are_expired() -> None:
    tracker = firing_tracker()
    book = AckBook([tracker.rule], [AM])
    ours = silence("s1", tracker.rule.name, "bob", f"{ACK_COMMENT} bob")
    theirs = silence("s2", tracker.rule.name, "carol", "maintenance window")
    book.apply_reads([SilenceRead(AM, [ours, theirs])])
    tracker.update(Observation(Verdict.FALSE, 0, 0, Unit.COUNT, 4), T0 + timedelta(minutes=1))
    assert book.resolved({tracker.rule.name: tracker}, {tracker.rule.name}) == [(AM, "s1")]


def test_a_read_failure_is_said_once_and_its_recovery_once() -> None:
    book = AckBook([], [AM])
    assert len(book.apply_reads([SilenceRead(AM, None, "refused")])) == 1
    assert book.apply_reads([SilenceRead(AM, None, "refused")]) == []
    assert "answers again" in book.apply_reads([SilenceRead(AM, [])])[0][0]


def test_a_means_the_selected_alert_or_the_only_one_firing() -> None:
    firing, quiet = firing_tracker(1), AlertTracker(make_settings(None, None).rules[0])
    trackers = {firing.rule.name: firing, quiet.rule.name: quiet}
    book = AckBook([firing.rule, quiet.rule])
    assert ack_target(quiet.rule.name, trackers, book) == (False, firing)  # the only one
    book.acknowledge(firing.rule, "tester", T0)
    assert ack_target(firing.rule.name, trackers, book) == (True, firing)  # offer to undo
    assert ack_target(quiet.rule.name, trackers, book) is None  # nothing else to ack


# --- who "I" am -----------------------------------------------------------------------------
def test_identity_is_config_then_user_then_the_login_name() -> None:
    import pwd

    configured = make_settings(None, None)  # dashboard.resolved_by: tester
    assert operator_name(configured, {"USER": "mallory"}) == "tester"
    bare = make_settings(None, None, rules="alerts: []\n")
    assert operator_name(bare, {"USER": "oncall"}) == "oncall"
    assert operator_name(bare, {}) == pwd.getpwuid(os.getuid()).pw_name
    assert operator_name(bare, {"USER": "evil\x1b]0;x\x07"}) == "evil␛]0;x\\x07"
