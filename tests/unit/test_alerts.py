"""Alert evaluation (SPEC §4): observations, the stateless `check` verdict, the state machine."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from syncmon.core.alerts import (
    AlertState,
    AlertTracker,
    Observation,
    Verdict,
    check_verdict,
    history_offsets,
    observe,
)
from syncmon.core.conditions import parse_condition
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


# -- check: stateless `for` ------------------------------------------------------------------


def test_history_offsets_step_is_min_of_for_and_30s() -> None:
    assert history_offsets(rule()) == [timedelta(0)]
    assert history_offsets(rule(for_=20 * S)) == [timedelta(0), 20 * S]
    assert history_offsets(rule(for_=90 * S)) == [0 * S, 30 * S, 60 * S, 90 * S]
    assert history_offsets(rule(for_=70 * S)) == [0 * S, 30 * S, 60 * S, 70 * S]
    assert history_offsets(rule("endpoints_down > 0", for_=60 * S)) == [timedelta(0)]


def test_check_fires_only_when_every_point_held() -> None:
    r = rule(for_=60 * S)
    assert check_verdict(r, [TRUE, TRUE, TRUE], T0).state is AlertState.FIRING
    pending = check_verdict(r, [TRUE, TRUE, FALSE], T0)
    assert pending.state is AlertState.PENDING
    assert pending.since == T0 - 30 * S
    assert "true for 30s of 1m" in pending.note
    assert check_verdict(r, [FALSE, TRUE, TRUE], T0).state is AlertState.INACTIVE
    assert check_verdict(r, [NODATA, TRUE, TRUE], T0).state is AlertState.NODATA
    assert check_verdict(r, [ERROR, TRUE, TRUE], T0).state is AlertState.ERROR


def test_check_notes_that_endpoint_rules_ignore_for() -> None:
    r = rule("endpoints_down > 0", for_=60 * S)
    verdict = check_verdict(r, [TRUE], T0)
    assert verdict.state is AlertState.FIRING
    assert "evaluated as if for were 0s" in verdict.note


# -- the state machine -----------------------------------------------------------------------


def run(tracker: AlertTracker, steps: list[tuple[int, Observation]]) -> list[list[str]]:
    return [[e.kind for e in tracker.update(o, T0 + t * S)] for t, o in steps]


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
    assert t.firing_since == T0 + 60 * S


def test_pending_that_clears_never_fires_or_resolves() -> None:
    t = AlertTracker(rule(for_=60 * S))
    assert run(t, [(0, TRUE), (30, FALSE), (60, TRUE)]) == [["pending"], [], ["pending"]]
    assert t.pending_since == T0 + 60 * S


def test_flapping_condition_with_for_never_fires() -> None:
    t = AlertTracker(rule(for_=60 * S))
    steps = [(i * 15, TRUE if i % 2 == 0 else FALSE) for i in range(40)]
    events = [e for batch in run(t, steps) for e in batch]
    assert "firing" not in events


def test_keep_firing_for_holds_through_a_short_dip() -> None:
    t = AlertTracker(rule(keep=60 * S))
    assert run(t, [(0, TRUE), (30, FALSE), (59, FALSE), (60, FALSE)]) == [
        ["firing"],
        [],
        [],
        ["resolved"],
    ]


def test_firing_alert_stays_firing_while_in_error() -> None:
    t = AlertTracker(rule())
    assert run(t, [(0, TRUE), (30, ERROR), (60, ERROR), (90, TRUE)]) == [
        ["firing"],
        ["error"],
        [],
        [],
    ]
    assert t.state is AlertState.FIRING
    assert t.error is None


def test_error_then_false_resolves_only_after_data_returns() -> None:
    t = AlertTracker(rule())
    assert run(t, [(0, TRUE), (30, ERROR), (60, FALSE)]) == [["firing"], ["error"], ["resolved"]]


def test_non_firing_rule_shows_error_and_keeps_pending_time() -> None:
    t = AlertTracker(rule(for_=60 * S))
    assert run(t, [(0, TRUE), (30, ERROR), (60, TRUE)]) == [["pending"], ["error"], ["firing"]]


def test_firing_alert_that_turns_nodata_resolves() -> None:
    t = AlertTracker(rule())
    assert run(t, [(0, TRUE), (30, NODATA), (60, NODATA)]) == [["firing"], ["resolved"], ["nodata"]]
    assert t.state is AlertState.NODATA


def test_nodata_event_once_then_back_to_inactive() -> None:
    t = AlertTracker(rule())
    assert run(t, [(0, NODATA), (30, NODATA), (60, FALSE)]) == [["nodata"], [], []]
    assert t.state is AlertState.INACTIVE


def test_events_carry_when_firing_started() -> None:
    t = AlertTracker(rule(for_=30 * S))
    t.update(TRUE, T0)
    firing = t.update(TRUE, T0 + 30 * S)[0]
    assert firing.started_at == T0 + 30 * S
    resolved = t.update(FALSE, T0 + 60 * S)[0]
    assert resolved.kind == "resolved"
    assert resolved.started_at == T0 + 30 * S


@pytest.mark.parametrize(
    ("true_for", "state", "next_events"),
    [(30, AlertState.PENDING, ["firing"]), (60, AlertState.FIRING, [])],
)
def test_restore_resumes_from_history_without_repaging(
    true_for: int, state: AlertState, next_events: list[str]
) -> None:
    t = AlertTracker(rule(for_=60 * S))
    now = T0 + 300 * S
    t.restore(now - true_for * S, now)
    assert t.state is state
    # pending time is remembered: 30 s of history + 30 s more completes `for: 60s`
    assert [e.kind for e in t.update(TRUE, now + 30 * S)] == next_events
    assert t.firing
