"""Alert evaluation (SPEC §4): observations, the stateless `check` verdict, the state machine."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from syncmon.core.alerts import (
    AlertState,
    AlertTracker,
    EventKind,
    Observation,
    Verdict,
    check_verdict,
    observe,
)
from syncmon.core.conditions import parse_condition
from syncmon.core.episodes import Since, episode_id
from syncmon.core.metrics import MetricValue, Source, Unit
from syncmon.core.rules import AlertRule, Severity

T0 = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)
S = timedelta(seconds=1)


def rule(
    condition: str = "sync_failure_rate > 5%",
    *,
    for_: timedelta = timedelta(0),
    keep: timedelta = timedelta(0),
    min_samples: int | None = None,
) -> AlertRule:
    return AlertRule(
        "r",
        condition,
        parse_condition(condition),
        Severity.CRITICAL,
        for_=for_,
        keep_firing_for=keep,
        min_samples=min_samples,
    )


def mv(name: str, value: float | None, samples: int = 100, unit: Unit = Unit.RATIO) -> MetricValue:
    return MetricValue(name, value, unit, samples, 300)


def obs(verdict: Verdict, value: float | None = 0.1) -> Observation:
    return Observation(
        verdict, value, 0.05, Unit.RATIO, 100, "db down" if verdict is Verdict.ERROR else None
    )


TRUE, FALSE, NODATA, ERROR = (
    obs(Verdict.TRUE),
    obs(Verdict.FALSE, 0.01),
    obs(Verdict.NODATA, None),
    obs(Verdict.ERROR, None),
)


# -- observe ---------------------------------------------------------------------------------


def test_observe_true_false_with_values_and_samples() -> None:
    r = rule()
    hot = observe(r, {"sync_failure_rate": mv("sync_failure_rate", 0.06, 50)})
    assert (hot.verdict, hot.value, hot.threshold, hot.samples) == (Verdict.TRUE, 0.06, 0.05, 50)
    cold = observe(r, {"sync_failure_rate": mv("sync_failure_rate", 0.05, 50)})
    assert cold.verdict is Verdict.FALSE


def test_fewer_than_min_samples_is_nodata_not_false() -> None:
    r = rule()
    result = observe(r, {"sync_failure_rate": mv("sync_failure_rate", 1.0, 9)})
    assert result.verdict is Verdict.NODATA
    assert "9 samples, 10 needed" in (result.reason or "")
    assert (
        observe(rule(min_samples=5), {"sync_failure_rate": mv("sync_failure_rate", 1.0, 9)}).verdict
        is Verdict.TRUE
    )


def test_zero_samples_is_nodata_even_with_min_samples_zero() -> None:
    result = observe(rule(min_samples=0), {"sync_failure_rate": mv("sync_failure_rate", None, 0)})
    assert result.verdict is Verdict.NODATA


def test_endpoint_metrics_need_one_sample_by_default() -> None:
    r = rule("endpoints_down > 0")
    result = observe(r, {"endpoints_down": mv("endpoints_down", 1, 4, Unit.COUNT)})
    assert result.verdict is Verdict.TRUE


def test_failed_source_is_error_and_unavailable_is_nodata() -> None:
    r = rule()
    failed = observe(r, {}, {Source.PERFORMANCE: "database: connection refused"})
    assert failed.verdict is Verdict.ERROR
    assert failed.reason == "database: connection refused"
    other = observe(
        r,
        {"sync_failure_rate": mv("sync_failure_rate", 0.5)},
        {Source.CONFLICTS: "conflicts table missing"},
    )
    assert other.verdict is Verdict.TRUE  # a failure elsewhere does not touch this rule
    ep = observe(rule("endpoints_down > 0"), {}, None, {Source.ENDPOINTS: "not with --at"})
    assert ep.verdict is Verdict.NODATA


def test_compound_condition_uses_first_comparison_for_value() -> None:
    r = rule("sync_failure_rate > 5% and error_rate > 1%")
    values = {
        "sync_failure_rate": mv("sync_failure_rate", 0.07),
        "error_rate": mv("error_rate", 0.02, 30),
    }
    result = observe(r, values)
    assert (result.verdict, result.value, result.threshold, result.samples) == (
        Verdict.TRUE,
        0.07,
        0.05,
        30,
    )


# -- check: stateless `for`, from the since the database found --------------------------------


def test_check_fires_once_since_is_for_ago() -> None:
    r = rule(for_=60 * S)
    firing = check_verdict(r, TRUE, T0, Since(T0 - 60 * S))
    assert (firing.state, firing.since) == (AlertState.FIRING, Since(T0 - 60 * S))
    assert firing.episode == episode_id(r, T0 - 60 * S)
    pending = check_verdict(r, TRUE, T0, Since(T0 - 30 * S))
    assert pending.state is AlertState.PENDING
    assert pending.since == Since(T0 - 30 * S)
    assert "true for 30s of 1m" in pending.note


def test_check_without_for_fires_even_when_since_is_the_next_grid_point() -> None:
    r = rule()
    verdict = check_verdict(r, TRUE, T0, Since(T0 + 20 * S))
    assert verdict.state is AlertState.FIRING
    # the first step: since is this check, never after it; the id is the grid point's
    assert verdict.since == Since(T0, grid=T0 + 20 * S)
    assert verdict.since is not None and verdict.since.at == T0
    assert verdict.episode == episode_id(r, T0 + 20 * S) != episode_id(r, T0)


def test_check_in_an_episodes_first_step_is_pending_since_the_check() -> None:
    r = rule(for_=20 * S)
    for evaluated_at in (T0 + 2 * S, T0 + 15 * S):  # two checks within one grid step
        verdict = check_verdict(r, TRUE, evaluated_at, Since(T0 + 20 * S))
        assert verdict.state is AlertState.PENDING
        assert verdict.since == Since(evaluated_at, grid=T0 + 20 * S)
        assert verdict.episode == episode_id(r, T0 + 20 * S)
        assert "true for 0ms of 20s" in verdict.note
    # bounded and seen carry over; a since at or before the evaluation is kept as found
    clamped = check_verdict(r, TRUE, T0, Since(T0 + 20 * S, bounded=True)).since
    assert clamped == Since(T0, bounded=True, grid=T0 + 20 * S)
    assert check_verdict(r, TRUE, T0, Since(T0)).since == Since(T0)


def test_check_states_without_a_run_carry_no_since_or_id() -> None:
    r = rule(for_=60 * S)
    for observation, state in [
        (FALSE, AlertState.INACTIVE),
        (NODATA, AlertState.NODATA),
        (ERROR, AlertState.ERROR),
    ]:
        verdict = check_verdict(r, observation, T0, Since(T0 - 600 * S))
        assert (verdict.state, verdict.since, verdict.episode) == (state, None, None)


def test_check_with_unreadable_history_is_error_when_for_matters() -> None:
    verdict = check_verdict(rule(for_=60 * S), TRUE, T0, "sync_performance_metrics: timed out")
    assert verdict.state is AlertState.ERROR
    assert "history is unreadable" in verdict.note
    assert "timed out" in verdict.note
    # without `for` it fires whatever the history says; only since is unknown (seen now)
    quick = check_verdict(rule(), TRUE, T0, "sync_performance_metrics: timed out")
    assert quick.state is AlertState.FIRING
    assert quick.since == Since(T0, seen=True)


def test_check_never_fires_an_endpoint_rule_with_for_on_one_poll() -> None:
    # SPEC §15: one check cannot confirm `for` on endpoints (no history): pending, never firing
    r = rule("endpoints_down > 0", for_=60 * S).instance((("endpoint", "sync"),))
    verdict = check_verdict(r, TRUE, T0)
    assert (verdict.state, verdict.unconfirmed) == (AlertState.PENDING, True)
    assert verdict.since == Since(T0, seen=True)
    assert "for: 1m cannot be confirmed by one check" in verdict.note
    assert verdict.episode == episode_id(r, T0)
    # without `for` one poll is enough: it fires, and is not "unconfirmed"
    now = check_verdict(rule("endpoints_down > 0"), TRUE, T0)
    assert (now.state, now.unconfirmed) == (AlertState.FIRING, False)
    # a database rule's pending is known from history, not unconfirmed
    known = check_verdict(rule(for_=60 * S), TRUE, T0, Since(T0 - 30 * S))
    assert (known.state, known.unconfirmed) == (AlertState.PENDING, False)
    # false stays inactive, whatever `for` says
    assert check_verdict(r, FALSE, T0).state is AlertState.INACTIVE


def test_an_alert_key_and_labels_carry_its_label_set() -> None:
    r = rule("endpoints_down > 0")
    assert r.split_by == ("endpoint",) and rule().split_by == ()
    sync = r.instance((("endpoint", "sync"),))
    assert (sync.key, sync.name, r.key) == ("r (sync)", "r", "r")
    assert sync.all_labels == {"endpoint": "sync"}
    labelled = AlertRule(
        "r", r.condition_text, r.condition, Severity.CRITICAL, labels={"team": "mobile"}
    ).instance((("endpoint", "redis"),))
    assert labelled.all_labels == {"team": "mobile", "endpoint": "redis"}
    # the episode id includes the alert's labels: two endpoints down since the same
    # moment are two episodes; the rule's only alert keeps the id it had before (§4.1)
    assert episode_id(sync, T0) != episode_id(r.instance((("endpoint", "plaid"),)), T0)
    assert episode_id(sync, T0) != episode_id(r, T0)
    assert episode_id(r, T0) == episode_id(rule("endpoints_down > 0"), T0)


def test_episode_id_is_stable_and_changes_with_since_labels_or_severity() -> None:
    r = rule()
    assert episode_id(r, T0) == episode_id(rule(), T0)
    assert episode_id(r, T0) == episode_id(r, T0.astimezone(timezone(timedelta(hours=9))))
    assert episode_id(r, T0) != episode_id(r, T0 + 30 * S)
    labelled = AlertRule("r", r.condition_text, r.condition, Severity.CRITICAL, labels={"a": "b"})
    assert episode_id(labelled, T0) != episode_id(r, T0)
    warning = AlertRule("r", r.condition_text, r.condition, Severity.WARNING)
    assert episode_id(warning, T0) != episode_id(r, T0)


# -- the state machine -----------------------------------------------------------------------


def run(tracker: AlertTracker, steps: list[tuple[int, Observation]]) -> list[list[str]]:
    return [[e.kind.value for e in tracker.update(o, T0 + t * S)] for t, o in steps]


def test_for_zero_fires_at_once_and_resolves() -> None:
    t = AlertTracker(rule())
    assert run(t, [(0, FALSE), (30, TRUE), (60, TRUE), (90, FALSE), (120, FALSE)]) == [
        [],
        ["firing"],
        [],
        ["resolved"],
        [],
    ]
    assert t.state is AlertState.INACTIVE


def test_pending_then_firing_after_for() -> None:
    t = AlertTracker(rule(for_=60 * S))
    assert run(t, [(0, TRUE), (30, TRUE), (60, TRUE), (90, TRUE)]) == [
        ["pending"],
        [],
        ["firing"],
        [],
    ]
    assert (t.since, t.since_seen) == (T0, True)  # nothing found: seen by this tracker


def test_pending_that_clears_never_fires_or_resolves() -> None:
    t = AlertTracker(rule(for_=60 * S))
    assert run(t, [(0, TRUE), (30, FALSE), (60, TRUE)]) == [["pending"], [], ["pending"]]
    assert t.since == T0 + 60 * S


def test_flapping_condition_with_for_never_fires() -> None:
    t = AlertTracker(rule(for_=60 * S))
    steps = [(i * 15, TRUE if i % 2 == 0 else FALSE) for i in range(40)]
    events = [e for batch in run(t, steps) for e in batch]
    assert "firing" not in events


def test_keep_firing_for_counts_from_the_first_false_evaluation_like_prometheus() -> None:
    t = AlertTracker(rule(keep=60 * S))
    assert run(t, [(0, TRUE), (30, FALSE), (60, FALSE), (89, FALSE), (90, FALSE)]) == [
        ["firing"],
        [],
        [],
        [],
        ["resolved"],  # false since 30 s, for 60 s
    ]


def test_keep_firing_for_holds_through_a_short_dip() -> None:
    t = AlertTracker(rule(keep=60 * S))
    assert run(t, [(0, TRUE), (30, FALSE), (60, TRUE), (90, FALSE), (149, FALSE)]) == [
        ["firing"],
        [],
        [],  # true again: the dip is forgotten
        [],
        [],
    ]
    assert t.firing


def test_firing_alert_stays_firing_while_in_error_and_is_re_announced_once_readable() -> None:
    t = AlertTracker(rule())
    assert run(t, [(0, TRUE), (30, ERROR), (60, ERROR), (90, TRUE), (120, TRUE)]) == [
        ["firing"],
        ["error"],
        [],
        ["firing"],  # its last word was error: it still fires (SPEC §4.2), once
        [],
    ]
    assert t.state is AlertState.FIRING
    assert t.error is None


def test_the_re_announcement_is_restored_with_the_episodes_id_once_per_recovery() -> None:
    t = AlertTracker(rule())
    [first] = t.update(TRUE, T0, Since(T0 - 60 * S))
    announced = []
    for k in range(1, 7):  # blind, back, blind, back, ...
        announced += t.update(ERROR if k % 2 else TRUE, T0 + k * 30 * S)
    back = [e for e in announced if e.kind is EventKind.FIRING]
    assert len(back) == 3
    assert all(e.restored and e.episode == first.episode for e in back)
    assert all(e.since == first.since for e in back)


def test_error_then_false_resolves_only_after_data_returns() -> None:
    t = AlertTracker(rule())
    assert run(t, [(0, TRUE), (30, ERROR), (60, FALSE)]) == [["firing"], ["error"], ["resolved"]]


def test_pending_time_survives_an_error_through_the_database() -> None:
    t = AlertTracker(rule(for_=60 * S))
    assert run(t, [(0, TRUE), (30, ERROR)]) == [["pending"], ["error"]]
    assert t.needs_since(TRUE)  # back from blind: ask the database again
    events = t.update(TRUE, T0 + 60 * S, Since(T0))
    assert [e.kind for e in events] == [EventKind.FIRING]
    assert t.since == T0


def test_firing_alert_that_turns_nodata_resolves() -> None:
    t = AlertTracker(rule())
    assert run(t, [(0, TRUE), (30, NODATA), (60, NODATA)]) == [["firing"], ["resolved"], ["nodata"]]
    assert t.state is AlertState.NODATA


def test_nodata_event_once_then_back_to_inactive() -> None:
    t = AlertTracker(rule())
    assert run(t, [(0, NODATA), (30, NODATA), (60, FALSE)]) == [["nodata"], [], []]
    assert t.state is AlertState.INACTIVE


def test_events_carry_since_and_the_episode_id_to_the_resolution() -> None:
    r = rule(for_=30 * S)
    t = AlertTracker(r)
    found = Since(T0 - 10 * S)
    t.update(TRUE, T0, found)
    firing = t.update(TRUE, T0 + 30 * S)[0]
    assert (firing.kind, firing.since, firing.episode) == (
        EventKind.FIRING,
        found,
        episode_id(r, found.at),
    )
    resolved = t.update(FALSE, T0 + 60 * S)[0]
    assert resolved.kind is EventKind.RESOLVED
    assert (resolved.since, resolved.episode) == (found, firing.episode)
    assert (t.since, t.episode_id) == (None, None)


@pytest.mark.parametrize(
    ("held_for", "kind", "then"),
    [(30, EventKind.PENDING, [EventKind.FIRING]), (600, EventKind.FIRING, [])],
)
def test_a_run_found_in_the_database_is_resumed_and_reported_as_restored(
    held_for: int, kind: EventKind, then: list[EventKind]
) -> None:
    t = AlertTracker(rule(for_=60 * S))
    now = T0 + 900 * S
    events = t.update(TRUE, now, Since(now - held_for * S))
    assert [(e.kind, e.restored) for e in events] == [(kind, True)]
    assert events[0].since == Since(now - held_for * S)
    # pending time is remembered: 30 s of history + 30 s more completes `for: 60s`
    assert [e.kind for e in t.update(TRUE, now + 30 * S)] == then


def test_restored_after_starting_blind_but_not_for_a_run_seen_live() -> None:
    blind = AlertTracker(rule())
    assert blind.update(ERROR, T0)[0].kind is EventKind.ERROR
    late = blind.update(TRUE, T0 + 30 * S, Since(T0 - 300 * S))
    assert [(e.kind, e.restored) for e in late] == [(EventKind.FIRING, True)]

    live = AlertTracker(rule())
    live.update(FALSE, T0)
    fresh = live.update(TRUE, T0 + 30 * S, Since(T0))
    assert [(e.kind, e.restored) for e in fresh] == [(EventKind.FIRING, False)]
    # a run that starts within the current grid step is new, never restored
    new = AlertTracker(rule())
    starting = new.update(TRUE, T0, Since(T0 + 20 * S))
    assert [(e.kind, e.restored) for e in starting] == [(EventKind.FIRING, False)]


def test_a_first_step_since_is_the_evaluation_and_the_id_the_grid_points() -> None:
    """SPEC §15: a since never lies after the evaluation; §4.1: the id is the same for two
    processes that first saw the episode at different moments within its first step."""
    r = rule(for_=20 * S)
    grid = T0 + 30 * S
    early, late = AlertTracker(r), AlertTracker(r)
    [one] = early.update(TRUE, T0 + 5 * S, Since(grid))
    [two] = late.update(TRUE, T0 + 25 * S, Since(grid))
    assert (one.kind, one.since, one.restored) == (
        EventKind.PENDING,
        Since(T0 + 5 * S, grid=grid),
        False,
    )
    assert two.since == Since(T0 + 25 * S, grid=grid)
    assert early.since == T0 + 5 * S and late.since == T0 + 25 * S
    assert one.episode == two.episode == early.episode_id == episode_id(r, grid)
    # a process that starts after the grid point held finds it, and agrees on the id
    restarted = AlertTracker(r)
    restarted.update(TRUE, grid + 10 * S, Since(grid))
    assert restarted.episode_id == one.episode
    # `for` counts from the reported since: 20 s after the evaluation that first saw it
    assert early.update(TRUE, T0 + 24 * S) == []
    [firing] = early.update(TRUE, T0 + 25 * S)
    assert (firing.kind, firing.since, firing.episode) == (
        EventKind.FIRING,
        Since(T0 + 5 * S, grid=grid),
        one.episode,
    )
    [resolved] = early.update(FALSE, T0 + 60 * S)
    assert (resolved.kind, resolved.episode) == (EventKind.RESOLVED, one.episode)
