"""Episodes from a rule's points (core/timeline.py): `for` makes a run an episode,
`keep_firing_for` bridges short gaps and delays the end, a run that reaches the start of
the range is bounded, and the peak is the worst value in the direction of the condition."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from syncmon.core.alerts import Verdict
from syncmon.core.timeline import Point, episodes
from tests.unit.test_history import one

T0 = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)
T, F, N = Verdict.TRUE, Verdict.FALSE, Verdict.NODATA


def points(pattern: list[tuple[Verdict, float]]) -> list[Point]:
    return [Point(T0 + timedelta(seconds=30 * i), v, x) for i, (v, x) in enumerate(pattern)]


def at(i: int) -> datetime:
    return T0 + timedelta(seconds=30 * i)


def test_each_run_that_held_is_an_episode_ending_at_the_first_point_that_did_not() -> None:
    rule = one("sync_failure_rate > 5%")
    found = episodes(
        rule, points([(F, 0.01), (T, 0.06), (T, 0.09), (F, 0.02), (T, 0.07), (N, 0.0)])
    )
    assert [(e.start, e.end, e.peak) for e in found] == [
        (at(1), at(3), 0.09),
        (at(4), at(5), 0.07),  # no data ends a firing episode, as the live machine does
    ]
    assert not any(e.bounded for e in found)


def test_a_run_shorter_than_for_was_only_pending() -> None:
    rule = one("sync_failure_rate > 5%", ", for: 1m")
    found = episodes(
        rule, points([(F, 0), (T, 0.06), (T, 0.06), (F, 0), (T, 0.1)] + [(T, 0.2)] * 2)
    )
    # 30 s held, then false: pending only; the next run reaches 1 m at its third point
    assert [(e.start, e.end, e.peak) for e in found] == [(at(4), None, 0.2)]


def test_keep_firing_for_bridges_a_short_gap_and_delays_the_end() -> None:
    rule = one("sync_failure_rate > 5%", ", keep_firing_for: 1m")
    pattern = [(T, 0.06), (F, 0), (T, 0.08), (F, 0), (F, 0), (F, 0), (F, 0)]
    [episode] = episodes(rule, points(pattern))
    assert episode.start == at(0) and episode.end == at(5)  # false from 3, +1 m
    assert episode.bounded  # held at the first point of the range: began then or earlier
    assert episode.peak == 0.08


def test_the_peak_of_a_below_condition_is_its_lowest_value() -> None:
    rule = one("sync_success_rate < 95%")
    [episode] = episodes(rule, points([(F, 0.99), (T, 0.9), (T, 0.7), (T, 0.8)]))
    assert episode.peak == 0.7 and episode.end is None
    assert episode.length(at(5)) == timedelta(minutes=2)
