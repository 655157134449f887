"""Since when a rule holds (SPEC §4.1), found from per-step aggregates of the database.

The database returns, per table, counts and sums for each *bucket* of `bucket` seconds
(aligned to the Unix epoch). Here those buckets are composed into the rule's sliding
window at every point of its grid (multiples of `step` since the epoch), walking back from
now until the condition stops holding. Every process that reads the same rows finds the
same `since`, whatever moment it looks from.

A percentile cannot be composed from per-bucket percentiles, so `p95_sync_duration` is
read from per-bucket histograms of 2 %-wide logarithmic bins. They give bounds, not the
value: the two rows percentile_cont interpolates between lie in known bins, so the p95 lies
between the first bin's lower edge and the second's upper edge. A point where those bounds
settle the condition is decided here; a point where they cannot (the p95 near its threshold)
is *unconfirmed*, and the caller re-evaluates it with the live poll's own statement and
arithmetic (`confirm`), so the since found is one the live poll agrees with (SPEC §15).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from syncmon.core.alerts import Verdict, observe
from syncmon.core.conditions import Number, comparisons, evaluate_within
from syncmon.core.episodes import Since
from syncmon.core.metrics import (
    HEALTH_PREFIX,
    ConflictAggregates,
    HealthReading,
    MetricValue,
    PerformanceAggregates,
    Source,
    conflict_metrics,
    health_table_metrics,
    performance_metrics,
)
from syncmon.core.rules import AlertRule

MAX_STEP_SECONDS = 30
# Every time zone in use today is offset from UTC by a multiple of 15 minutes, so buckets
# whose width divides 900 s start at the same instants in the writers' local time and UTC.
ALIGN_SECONDS = 900
HISTOGRAM_BASE = 1.02  # bin width of the duration histograms (p95 within 1 %)
P95_METRIC = "p95_sync_duration"


def grid_step(rule: AlertRule) -> int:
    """The grid of a rule in seconds: min(for, 30 s), or 30 s for a rule without `for`."""
    if rule.for_ <= timedelta(0):
        return MAX_STEP_SECONDS
    return max(1, min(MAX_STEP_SECONDS, int(rule.for_.total_seconds())))


def window_seconds(rule: AlertRule) -> int:
    return max(1, round(rule.window.total_seconds()))


def bucket_seconds(rules: Iterable[AlertRule]) -> int:
    """The widest bucket that every grid step and window of `rules` is a multiple of."""
    return math.gcd(
        ALIGN_SECONDS, *(grid_step(r) for r in rules), *(window_seconds(r) for r in rules)
    )


def histogram_bin(duration_ms: float) -> int:
    return math.floor(math.log(max(duration_ms, 1.0)) / math.log(HISTOGRAM_BASE))


def p95_splits(rules: Iterable[AlertRule]) -> tuple[int, ...]:
    """Where the duration histogram's bins are split so no bin holds durations on both sides
    of a p95 comparison. Durations are whole milliseconds: d > T (and not d <= T) exactly
    when d >= floor(T) + 1; d >= T (and not d < T) when d >= ceil(T); `==`/`!=` need both."""
    splits: set[int] = set()
    for rule in rules:
        for c in comparisons(rule.condition):
            if c.metric.name != P95_METRIC:
                continue
            if c.op in (">", "<=", "==", "!="):
                splits.add(math.floor(c.exact) + 1)
            if c.op in (">=", "<", "==", "!="):
                splits.add(math.ceil(c.exact))
    return tuple(sorted(splits))


def needs_histogram(rules: Iterable[AlertRule]) -> bool:
    return any(m.name == P95_METRIC for r in rules for m in r.metrics)


def health_types(rules: Iterable[AlertRule]) -> tuple[str, ...]:
    names = {m.name for r in rules for m in r.metrics if m.source is Source.HEALTH_TABLE}
    return tuple(sorted(name[len(HEALTH_PREFIX) :] for name in names))


# ---- per-bucket aggregates, as the database returns them -------------------------------


@dataclass
class PerformanceStep:
    sync_total: int = 0
    sync_failed: int = 0
    plaid_total: int = 0
    plaid_failed: int = 0
    sync_sum_ms: int = 0
    histogram: dict[int, int] = field(default_factory=dict)  # duration bin -> sync operations


@dataclass
class ConflictStep:
    total: int = 0
    auto_resolved: int = 0


HealthStep = dict[str, tuple[int, float]]  # metric_type -> (numeric readings, their sum)


@dataclass
class StepHistory:
    """Buckets `[first, end)` (indices of `bucket`-second steps since the epoch); a bucket
    with no rows is absent. Older chunks are merged in as the search walks back."""

    bucket: int
    first: int
    end: int
    performance: dict[int, PerformanceStep] = field(default_factory=dict)
    conflicts: dict[int, ConflictStep] = field(default_factory=dict)
    health: dict[int, HealthStep] = field(default_factory=dict)

    def merge_older(self, older: StepHistory) -> None:
        """Add a chunk that ends where this one starts."""
        self.first = min(self.first, older.first)
        self.performance.update(older.performance)
        self.conflicts.update(older.conflicts)
        self.health.update(older.health)


class _Window:
    """Running sums over a contiguous range of buckets, slid back one step at a time."""

    def __init__(
        self, history: StepHistory, tables: set[Source], splits: tuple[int, ...] = ()
    ) -> None:
        self.history = history
        self.tables = tables
        self.splits = splits
        self._reset(0)

    def _reset(self, at: int) -> None:
        self.lo = self.hi = at  # buckets [lo, hi)
        self.perf = PerformanceStep()
        self.conflicts = ConflictStep()
        self.health_counts: dict[str, int] = {}
        self.health_sums: dict[str, float] = {}

    def move_to(self, lo: int, hi: int) -> None:
        if hi <= self.lo or lo >= self.hi:  # no overlap: start afresh
            self._reset(hi)
        for k in range(max(hi, self.lo), self.hi):
            self._apply(k, -1)
        for k in range(lo, min(self.lo, hi)):
            self._apply(k, +1)
        self.lo, self.hi = lo, hi

    def _apply(self, k: int, sign: int) -> None:
        h = self.history
        if Source.PERFORMANCE in self.tables and (p := h.performance.get(k)) is not None:
            w = self.perf
            w.sync_total += sign * p.sync_total
            w.sync_failed += sign * p.sync_failed
            w.plaid_total += sign * p.plaid_total
            w.plaid_failed += sign * p.plaid_failed
            w.sync_sum_ms += sign * p.sync_sum_ms
            for b, n in p.histogram.items():
                w.histogram[b] = w.histogram.get(b, 0) + sign * n
        if Source.CONFLICTS in self.tables and (c := h.conflicts.get(k)) is not None:
            self.conflicts.total += sign * c.total
            self.conflicts.auto_resolved += sign * c.auto_resolved
        if Source.HEALTH_TABLE in self.tables and (readings := h.health.get(k)) is not None:
            for metric_type, (count, total) in readings.items():
                self.health_counts[metric_type] = (
                    self.health_counts.get(metric_type, 0) + sign * count
                )
                self.health_sums[metric_type] = (
                    self.health_sums.get(metric_type, 0.0) + sign * total
                )

    def p95_bounds(self) -> tuple[float, float] | None:
        return _p95_bounds(self.perf.histogram, self.splits)

    def metrics(self, seconds: int) -> dict[str, MetricValue]:
        values: list[MetricValue] = []
        if Source.PERFORMANCE in self.tables:
            p = self.perf
            avg = p.sync_sum_ms / p.sync_total if p.sync_total else None
            agg = PerformanceAggregates(
                p.sync_total,
                p.sync_failed,
                p.plaid_total,
                p.plaid_failed,
                avg,
                _p95_middle(self.p95_bounds()),
                p.sync_sum_ms,
            )
            values += performance_metrics(agg, seconds)
        if Source.CONFLICTS in self.tables:
            c = self.conflicts
            values += conflict_metrics(ConflictAggregates(c.total, c.auto_resolved), seconds)
        if Source.HEALTH_TABLE in self.tables:
            readings = [
                HealthReading(t, n, self.health_sums[t] / n)
                for t, n in self.health_counts.items()
                if n > 0
            ]
            values += health_table_metrics(readings, seconds)
        return {v.name: v for v in values}


SlidingWindow = _Window
"""Public name for the timeline's walk (core/timeline.py), which slides the same sums."""


_EDGE_SLACK = 1e-9  # bins are found with float logarithms: widen their edges a hair


def _bin_bounds(key: int, splits: tuple[int, ...]) -> tuple[float, float]:
    """The durations a histogram key holds: its logarithmic bin (`key // parts`; bin 0 holds
    every duration up to 1 ms, zero and negative ones too) cut by its split range."""
    b, k = divmod(key, len(splits) + 1)
    low = -math.inf if b <= 0 else HISTOGRAM_BASE**b * (1 - _EDGE_SLACK)
    high = HISTOGRAM_BASE ** (b + 1) * (1 + _EDGE_SLACK)
    if k > 0:
        low = max(low, splits[k - 1])
    if k < len(splits):
        high = min(high, splits[k] - 1)
    return low, high


def _p95_bounds(histogram: dict[int, int], splits: tuple[int, ...]) -> tuple[float, float] | None:
    """Where percentile_cont(0.95) must lie, from the bins of the two rows it interpolates
    between (ranks floor and ceil of 0.95·(n−1)). With the bins split at each threshold, the
    bounds straddle one only when those two rows lie on either side of it."""
    total = sum(histogram.values())
    if total <= 0:
        return None
    low_rank = 19 * (total - 1) // 20  # floor(0.95·(n−1)), exactly
    high_rank = -(-19 * (total - 1) // 20)  # its ceiling
    low_bin = high_bin = None
    seen = 0
    for b in sorted(histogram):
        seen += histogram[b]
        if low_bin is None and seen > low_rank:
            low_bin = b
        if seen > high_rank:
            high_bin = b
            break
    if low_bin is None or high_bin is None:
        return None
    return _bin_bounds(low_bin, splits)[0], _bin_bounds(high_bin, splits)[1]


def _p95_middle(bounds: tuple[float, float] | None) -> float | None:
    """A stand-in p95 within the bounds, so the window has a value; the bounds decide."""
    if bounds is None:
        return None
    low, high = bounds
    return high if math.isinf(low) else (low + high) / 2


class SinceSearch:
    """Walks one rule's grid back from `at`, one point per step, while its condition holds.

    Resumable: `advance` returns None when the history does not yet reach back far enough;
    merge an older chunk into the history and call it again.
    """

    def __init__(
        self,
        rule: AlertRule,
        at: datetime,
        lookback: timedelta,
        bucket: int,
        splits: tuple[int, ...] = (),
    ) -> None:
        self.rule = rule
        self.splits = splits  # the p95 histogram's split points (`p95_splits` of the search)
        self.step = grid_step(rule)
        self.window = window_seconds(rule)
        self.bucket = bucket
        now = at.timestamp()
        self.first_point = math.floor(now / self.step) * self.step
        self.point = self.first_point  # epoch seconds of the point to test next
        self.earliest = math.ceil((now - lookback.total_seconds()) / self.step) * self.step
        self.last_true: int | None = None
        self.result: Since | None = None
        self.tables = {s for s in rule.sources if s.has_history}
        self._window: _Window | None = None
        self._uses_p95 = any(m.name == P95_METRIC for m in rule.metrics)
        self.unconfirmed: list[int] = []  # points the histogram could not decide, latest first
        self._ended_bounded: bool | None = None  # how the run ended, while points await

    @property
    def needs_from(self) -> int:
        """Epoch seconds the history must reach back to for the next point."""
        return self.point - self.window

    @property
    def oldest_needed(self) -> int:
        """Epoch seconds the whole search could ever need (the lookback's first window)."""
        return self.earliest - self.window

    @property
    def awaits_confirmation(self) -> bool:
        """The run has ended, but some of its points need the exact statement (`confirm`)."""
        return self.result is None and self._ended_bounded is not None

    def advance(self, history: StepHistory) -> Since | None:
        """Walk back as far as `history` reaches; None while it needs older history or
        while `unconfirmed` points await `confirm`."""
        if self._window is None or self._window.history is not history:
            self._window = _Window(history, self.tables, self.splits)
        while self.result is None and self._ended_bounded is None:
            if self.point < self.earliest:  # held for the whole lookback
                self._end(bounded=True)
                break
            lo = self.point - self.window
            if lo < history.first * self.bucket:
                return None
            self._window.move_to(lo // self.bucket, self.point // self.bucket)
            held = self._holds(self._window)
            if held is False:
                self._end(bounded=False)
                break
            if held is None:
                self.unconfirmed.append(self.point)
            self.last_true = self.point
            self.point -= self.step
        return self.result

    def _holds(self, window: _Window) -> bool | None:
        metrics = window.metrics(self.window)
        observation = observe(self.rule, metrics)
        if observation.verdict is not Verdict.TRUE and observation.verdict is not Verdict.FALSE:
            return False  # nodata ends a run, as it does live
        if not self._uses_p95:
            return observation.verdict is Verdict.TRUE
        bounds = window.p95_bounds()
        if bounds is None:
            return False
        values: dict[str, Number] = {
            name: v for name, mv in metrics.items() if (v := mv.comparable) is not None
        }
        return evaluate_within(self.rule.condition, values, {P95_METRIC: bounds})

    def _end(self, *, bounded: bool) -> None:
        if self.unconfirmed:
            self._ended_bounded = bounded
        else:
            self.result = self._since(bounded=bounded)

    def confirm(self, held: dict[int, bool], *, last: bool = False) -> Since | None:
        """Settle unconfirmed points with the live poll's verdicts (point -> held), given
        latest first and possibly only some of them: the run is unbroken up to the latest
        point that did not hold. None while an undecided point could still break it.

        `last`: no more points will be checked (the caller's budget is spent). If all
        checked held, the run reaches back at least to the earliest of them: since is that
        point with `bounded` ("≥"), which is true, never after the evaluation, and the
        same for every process, though later than the run's real start."""
        for point in self.unconfirmed:
            if point not in held:
                if not last or not held:
                    return None
                self.result = Since(datetime.fromtimestamp(min(held), UTC), bounded=True)
                return self.result
            if not held[point]:
                self.last_true = point + self.step if point < self.first_point else None
                self.result = self._since(bounded=False)
                return self.result
        self.result = self._since(bounded=bool(self._ended_bounded))
        return self.result

    def _since(self, *, bounded: bool) -> Since:
        # No grid point held yet: the condition started within the last step, and the next
        # grid point is the first every process will agree on. It lies after the evaluation:
        # consumers report the evaluation time and keep it for the episode id (at_most).
        start = self.last_true if self.last_true is not None else self.first_point + self.step
        return Since(datetime.fromtimestamp(start, UTC), bounded=bounded)
