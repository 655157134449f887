"""The since search's arithmetic (core/history.py) on hand-made per-bucket aggregates."""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime, timedelta

import pytest

from syncmon.config.loader import load_config_text
from syncmon.core.episodes import Since, since_age, since_text
from syncmon.core.history import (
    ConflictStep,
    PerformanceStep,
    SinceSearch,
    StepHistory,
    _p95_bounds,
    bucket_seconds,
    grid_step,
    health_types,
    histogram_bin,
    needs_histogram,
    p95_splits,
)
from syncmon.core.rules import AlertRule
from tests.integration.rows import percentile_cont

# 03:00:00 UTC: a multiple of 30 s, so the grid lines up with it.
NOW = datetime(2026, 11, 27, 3, 0, 10, tzinfo=UTC)
GRID0 = int(datetime(2026, 11, 27, 3, 0, tzinfo=UTC).timestamp())


def rules(body: str) -> tuple[AlertRule, ...]:
    return load_config_text("alerts:\n" + body, "alerts.yaml").rules


def one(condition: str, extra: str = "") -> AlertRule:
    [rule] = rules(f"  - {{name: r, condition: '{condition}', severity: critical{extra}}}\n")
    return rule


def history_of(per_bucket: dict[int, PerformanceStep], bucket: int = 30) -> StepHistory:
    """Buckets given by their start in seconds relative to GRID0."""
    keys = {(GRID0 + start) // bucket: step for start, step in per_bucket.items()}
    first = min(keys) if keys else GRID0 // bucket
    return StepHistory(bucket, first, GRID0 // bucket + 1, performance=keys)


def steady(start: int, end: int, *, total: int, failed: int) -> dict[int, PerformanceStep]:
    """Every 30 s bucket in [start, end) with `total` sync operations, `failed` failing."""
    return {
        s: PerformanceStep(total, failed, 0, 0, 100 * total, {histogram_bin(100): total})
        for s in range(start, end, 30)
    }


def search(
    rule: AlertRule, history: StepHistory, lookback: timedelta = timedelta(hours=24)
) -> tuple[SinceSearch, Since | None]:
    s = SinceSearch(rule, NOW, lookback, history.bucket)
    return s, s.advance(history)


def at(offset: int) -> datetime:
    return datetime.fromtimestamp(GRID0 + offset, UTC)


def test_grid_step_and_bucket_width() -> None:
    assert grid_step(one("error_rate > 1%")) == 30
    assert grid_step(one("error_rate > 1%", ", for: 10s")) == 10
    assert grid_step(one("error_rate > 1%", ", for: 1h")) == 30
    assert grid_step(one("error_rate > 1%", ", for: 500ms")) == 1
    both = rules(
        "  - {name: a, condition: 'error_rate > 1%', severity: info, for: 20s}\n"
        "  - {name: b, condition: 'error_rate > 1%', severity: info, window: 5m}\n"
    )
    assert bucket_seconds(both) == 10
    # a bucket always divides 15 minutes, so local and UTC buckets start together
    odd = rules("  - {name: a, condition: 'error_rate > 1%', severity: info, window: 7m}\n")
    assert bucket_seconds(odd) == 30 and 900 % bucket_seconds(odd) == 0


def test_the_run_starts_at_the_first_grid_point_whose_window_held() -> None:
    # quiet until -20 min, then 20 % failing: the 5 m window passes 5 % soon after
    per_bucket = steady(-3600, -1200, total=10, failed=0) | steady(-1200, 0, total=10, failed=2)
    rule = one("sync_failure_rate > 5%")
    _, since = search(rule, history_of(per_bucket))
    # the window ending at -1170 holds 1 bucket of 2/10 failures among 10 buckets: 2 %;
    # at -1110 three failing buckets of ten: 6 % > 5 %: the first point that held
    assert since == Since(at(-1110))


def test_a_run_that_began_within_the_last_step_is_dated_at_the_next_grid_point() -> None:
    per_bucket = steady(-3600, 0, total=10, failed=0)
    rule = one("sync_failure_rate > 5%")
    _, since = search(rule, history_of(per_bucket))
    assert since == Since(at(30))  # 20 s after now: what every later process will find


def test_a_run_longer_than_the_lookback_is_bounded() -> None:
    per_bucket = steady(-8000, 0, total=10, failed=5)
    rule = one("sync_failure_rate > 5%")
    _, since = search(rule, history_of(per_bucket), lookback=timedelta(hours=1))
    assert since is not None and since.bounded
    assert since.at == at(-3600 + 30)  # the earliest grid point inside the lookback


def test_the_search_asks_for_older_buckets_until_the_run_ends() -> None:
    rule = one("sync_failure_rate > 5%")
    recent = history_of(steady(-600, 0, total=10, failed=5))
    s = SinceSearch(rule, NOW, timedelta(hours=24), 30)
    assert s.advance(recent) is None
    assert s.needs_from < recent.first * 30
    older = history_of(
        steady(-3600, -2400, total=10, failed=0) | steady(-2400, -600, total=10, failed=5)
    )
    older.end = recent.first
    recent.merge_older(older)
    # one failing bucket of ten is 5 %, not above it; two are 10 %
    assert s.advance(recent) == Since(at(-2400 + 60))


def test_too_few_samples_break_the_run() -> None:
    # 10 samples needed (the default); buckets of one operation give 10 per 5 m
    per_bucket = steady(-3600, -1800, total=0, failed=0) | steady(-1800, 0, total=1, failed=1)
    _, since = search(one("sync_failure_rate > 5%"), history_of(per_bucket))
    assert since == Since(at(-1800 + 300))  # the first window with 10 samples


def test_conflict_and_health_metrics_compose_like_the_poll() -> None:
    rule = one("conflict_auto_resolve_rate < 80%")
    conflicts = {
        (GRID0 + s) // 30: ConflictStep(10, 9 if s < -900 else 5) for s in range(-3600, 0, 30)
    }
    history = StepHistory(30, (GRID0 - 3600) // 30, GRID0 // 30 + 1, conflicts=conflicts)
    s = SinceSearch(rule, NOW, timedelta(hours=24), 30)
    # the 5 m window's rate drops below 80 % once more than ~2.5 buckets of 50 % are in it
    assert s.advance(history) == Since(at(-900 + 90))

    readings = rules(
        "  - {name: h, condition: 'health.queue_depth > 90', severity: info, min_samples: 1}\n"
    )
    assert health_types(readings) == ("queue_depth",)
    health = {
        (GRID0 + s) // 30: {"queue_depth": (2, 2 * (100.0 if s >= -600 else 10.0))}
        for s in range(-3600, 0, 30)
    }
    history = StepHistory(30, (GRID0 - 3600) // 30, GRID0 // 30 + 1, health=health)
    found = SinceSearch(readings[0], NOW, timedelta(hours=24), 30).advance(history)
    # mean of 10 buckets: > 90 once 9 of them read 100 (9 x 100 + 10) / 10 = 91
    assert found == Since(at(-600 + 9 * 30))


@pytest.mark.parametrize("splits", [(), (1500,), (700, 2001, 2500)])
def test_the_exact_p95_lies_within_the_histograms_bounds(splits: tuple[int, ...]) -> None:
    """The bounds never exclude the live value, and with the bins split at a threshold they
    straddle it only when the two rows percentile_cont interpolates between lie either side."""
    rng = random.Random(5)
    parts = len(splits) + 1
    for n in (1, 2, 19, 20, 21, 100, 5000):
        durations = [round(rng.lognormvariate(7.3, 0.6)) for _ in range(n)] + [0] * (n % 3)
        histogram: dict[int, int] = {}
        for d in durations:
            key = histogram_bin(d) * parts + sum(1 for t in splits if d >= t)
            histogram[key] = histogram.get(key, 0) + 1
        exact = percentile_cont(durations, 0.95)
        bounds = _p95_bounds(histogram, splits)
        assert bounds is not None
        low, high = bounds
        assert low <= exact <= high, (n, bounds, exact)
        ordered = sorted(durations)
        rank = 19 * (len(ordered) - 1) / 20
        below, above = ordered[math.floor(rank)], ordered[math.ceil(rank)]
        for t in splits:  # a split t separates d < t from d >= t
            if not below < t <= above:  # both interpolated rows on one side of it
                assert high < t or low >= t, (n, t, bounds)
    assert needs_histogram([one("p95_sync_duration > 3s")])
    assert not needs_histogram([one("avg_sync_duration > 3s")])
    assert p95_splits([one("p95_sync_duration > 2.0005s or p95_sync_duration < 1s")]) == (
        1000,
        2001,
    )
    assert p95_splits([one("p95_sync_duration >= 2s"), one("p95_sync_duration == 3s")]) == (
        2000,
        3000,
        3001,
    )


def test_p95_rule_runs_on_the_histogram() -> None:
    fast = {
        s: PerformanceStep(10, 0, 0, 0, 1000, {histogram_bin(100): 10})
        for s in range(-3600, -600, 30)
    }
    slow = {
        s: PerformanceStep(10, 0, 0, 0, 50000, {histogram_bin(5000): 10})
        for s in range(-600, 0, 30)
    }
    _, since = search(one("p95_sync_duration > 3s"), history_of(fast | slow))
    # p95 of ten buckets passes 3 s once at least one bucket in the window is slow
    assert since is not None and since.at == at(-600 + 30)


def straddling_history(rule: AlertRule, splits: tuple[int, ...]) -> StepHistory:
    """For the last 10 minutes, 19 rows of 1000 ms and one of 20 s per bucket: the p95 of a
    window interpolates between a fast and a slow row, so the bins cannot decide `> 2s`;
    before that, every row is fast (decided: false)."""
    parts = len(splits) + 1

    def key(d: int) -> int:
        return histogram_bin(d) * parts + sum(1 for t in splits if d >= t)

    fast = {
        s: PerformanceStep(20, 0, 0, 0, 20_000, {key(1000): 20}) for s in range(-3600, -600, 30)
    }
    mixed = {
        s: PerformanceStep(20, 0, 0, 0, 39_000, {key(1000): 19, key(20_000): 1})
        for s in range(-600, 0, 30)
    }
    return history_of(fast | mixed)


def test_points_the_histogram_cannot_decide_await_the_live_statement() -> None:
    rule = one("p95_sync_duration > 2s", ", window: 1m")
    splits = p95_splits([rule])
    search = SinceSearch(rule, NOW, timedelta(hours=24), 30, splits)
    assert search.advance(straddling_history(rule, splits)) is None
    assert search.awaits_confirmation
    points = search.unconfirmed
    assert points == [GRID0 - 30 * k for k in range(len(points))]  # latest first
    assert points[-1] == GRID0 - 600 + 60  # the first window wholly in the mixed rows
    # the live statement says the third point back did not hold: since is the one after it
    assert search.confirm({p: k != 2 for k, p in enumerate(points[:4])}) == Since(at(-30))


def test_a_run_longer_than_the_confirmation_budget_is_at_least_its_checked_part() -> None:
    rule = one("p95_sync_duration > 2s", ", window: 1m")
    splits = p95_splits([rule])
    search = SinceSearch(rule, NOW, timedelta(hours=24), 30, splits)
    search.advance(straddling_history(rule, splits))
    checked = search.unconfirmed[:3]
    assert search.confirm(dict.fromkeys(checked, True)) is None  # more may still break it
    assert search.confirm(dict.fromkeys(checked, True), last=True) == Since(at(-60), bounded=True)


def test_the_live_statement_saying_the_first_point_fails_gives_the_next_grid_point() -> None:
    rule = one("p95_sync_duration > 2s", ", window: 1m")
    splits = p95_splits([rule])
    search = SinceSearch(rule, NOW, timedelta(hours=24), 30, splits)
    search.advance(straddling_history(rule, splits))
    assert search.confirm({GRID0: False}) == Since(at(30))


def test_since_is_told_as_an_age_and_a_clock_time() -> None:
    assert since_age(Since(NOW - timedelta(minutes=40)), NOW) == "40m"
    assert since_age(Since(NOW - timedelta(hours=24), bounded=True), NOW) == "≥ 1d"
    assert since_age(Since(NOW + timedelta(seconds=20)), NOW) == "just now"
    assert since_text(Since(NOW - timedelta(minutes=40)), NOW).endswith("(40m ago)")
    assert since_text(Since(NOW, seen=True), NOW).endswith("first seen")


def test_histogram_bins_are_two_percent_wide() -> None:
    for value in (1.0, 40.0, 1234.5, 90_000.0):
        b = histogram_bin(value)
        assert 1.02**b <= value * (1 + 1e-9) and value < 1.02 ** (b + 1) * (1 + 1e-9)
    assert histogram_bin(0) == histogram_bin(-5) == 0
    assert math.isclose(1.02 ** (histogram_bin(1000) + 0.5), 1000, rel_tol=0.011)
