"""A rule's past on its own grid (SPEC §4.1, §17): the value at every point, and the episodes.

The points are those the since search walks — multiples of the rule's step since the
epoch, each over the rule's window ending there — so an episode found here starts exactly
where `since` says the live alert started, and has the same episode id. An episode is a
run of points where the condition held that lasted `for` (so the alert fired); it ends at
the first point where it had been false (or without data) for `keep_firing_for`, as the
live state machine resolves it. A run that never reached `for` was only pending: not an
episode. Pure: the per-bucket history comes from the database through `sources/`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from syncmon.core.alerts import Verdict, observe
from syncmon.core.conditions import comparisons
from syncmon.core.episodes import episode_id
from syncmon.core.history import SlidingWindow, StepHistory, grid_step, window_seconds
from syncmon.core.metrics import Source, Unit
from syncmon.core.rules import AlertRule

_LOW_IS_BAD = ("<", "<=")


@dataclass(frozen=True)
class Point:
    """The rule at one grid point: its verdict, and its first comparison's value."""

    at: datetime
    verdict: Verdict
    value: float | None


@dataclass(frozen=True)
class Episode:
    """One firing episode of a rule, as found in the history.

    `end` None: still firing at the end of the range. `bounded`: it held from the first
    point of the range, so it began then or earlier (shown "≥").
    """

    rule: AlertRule
    start: datetime
    end: datetime | None
    peak: float | None
    unit: Unit
    bounded: bool = False

    @property
    def id(self) -> str:
        return episode_id(self.rule, self.start)

    def length(self, now: datetime) -> timedelta:
        return (self.end or now) - self.start


def walk(
    rule: AlertRule,
    history: StepHistory,
    start: datetime,
    end: datetime,
    step: int | None = None,
) -> list[Point]:
    """The rule at every grid point in [start, end] the history covers (oldest first).
    `step`: a coarser grid (a multiple of the history's bucket) for a long chart."""
    return walk_many([rule], history, start, end, step)[rule.name]


def walk_many(
    rules: list[AlertRule],
    history: StepHistory,
    start: datetime,
    end: datetime,
    step: int | None = None,
) -> dict[str, list[Point]]:
    """`walk` for several rules: rules with the same grid, window and tables share one
    sliding sum and one computation of the metrics per point (the costly part)."""
    groups: dict[tuple[int, int, frozenset[Source]], list[AlertRule]] = {}
    for rule in rules:
        tables = frozenset(s for s in rule.sources if s.has_history)
        key = (step or grid_step(rule), window_seconds(rule), tables)
        groups.setdefault(key, []).append(rule)
    found: dict[str, list[Point]] = {}
    for (grid, window, tables), members in groups.items():
        found.update(_walk_group(members, history, start, end, grid, window, tables))
    return found


def _walk_group(
    rules: list[AlertRule],
    history: StepHistory,
    start: datetime,
    end: datetime,
    step: int,
    window: int,
    tables: frozenset[Source],
) -> dict[str, list[Point]]:
    bucket = history.bucket
    first = math.ceil(start.timestamp() / step) * step
    last = math.floor(end.timestamp() / step) * step
    first = max(first, math.ceil((history.first * bucket + window) / step) * step)
    last = min(last, math.floor(history.end * bucket / step) * step)
    sliding = SlidingWindow(history, set(tables))
    points: dict[str, list[Point]] = {rule.name: [] for rule in rules}
    for point in range(last, first - 1, -step):  # the sums slide backwards, as since's do
        sliding.move_to((point - window) // bucket, point // bucket)
        metrics = sliding.metrics(window)
        at = datetime.fromtimestamp(point, UTC)
        for rule in rules:
            observation = observe(rule, metrics)
            points[rule.name].append(Point(at, observation.verdict, observation.value))
    for found in points.values():
        found.reverse()
    return points


def _worse(rule: AlertRule, a: float | None, b: float | None) -> float | None:
    if a is None or b is None:
        return a if b is None else b
    low_is_bad = comparisons(rule.condition)[0].op in _LOW_IS_BAD
    return min(a, b) if low_is_bad else max(a, b)


def episodes(rule: AlertRule, points: list[Point]) -> list[Episode]:
    """The episodes in `points` (oldest first), as the live state machine would have seen
    them evaluating at every point."""
    unit = comparisons(rule.condition)[0].metric.unit
    found: list[Episode] = []
    start: datetime | None = None
    fired = False
    false_since: datetime | None = None
    peak: float | None = None
    bounded = False
    for index, point in enumerate(points):
        if point.verdict is Verdict.TRUE:
            if start is None:
                start, fired, peak, bounded = point.at, False, None, index == 0
            false_since = None
            peak = _worse(rule, peak, point.value)
            fired = fired or bounded or point.at - start >= rule.for_
            continue
        if start is None:
            continue
        if not fired:  # pending only: it never fired
            start = None
            continue
        false_since = false_since or point.at
        if point.at - false_since >= rule.keep_firing_for:
            found.append(Episode(rule, start, point.at, peak, unit, bounded))
            start = None
    if start is not None and fired:
        found.append(Episode(rule, start, None, peak, unit, bounded))
    return found
