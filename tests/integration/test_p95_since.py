"""A p95 rule's since agrees with the live poll (SPEC §15): on a real PostgreSQL, with a p95 that
hovers around its threshold, the since found from histograms is never after the evaluation, the
condition holds there and at every grid point up to the evaluation by the live statement's own
arithmetic, and did not hold one step before."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from syncmon.core.alerts import Verdict, observe
from syncmon.core.clock import wall_clock
from syncmon.core.conditions import parse_condition
from syncmon.core.episodes import Since
from syncmon.core.history import grid_step
from syncmon.core.rules import AlertRule, Severity
from syncmon.engine.history_search import search_since, window_metrics
from syncmon.sources.database import MetricsDatabase
from syncmon.sources.queries import Interval, MetricsQuery
from tests.integration.rows import Op, insert_operations

pytestmark = pytest.mark.database

THRESHOLD_MS = 2000
MINUTES = 30


def p95_rule(for_seconds: int) -> AlertRule:
    condition = f"p95_sync_duration > {THRESHOLD_MS}ms"
    return AlertRule(
        f"p95 for {for_seconds}s",
        condition,
        parse_condition(condition),
        Severity.CRITICAL,
        window=timedelta(minutes=1),
        for_=timedelta(seconds=for_seconds),
    )


def hovering_operations(seed: int) -> list[Op]:
    """Two operations a second for 30 minutes; each minute a different share (2–9 %) is slow
    (2000–2200 ms), the rest 1500–1999 ms: the p95 of a minute crosses 2 s back and forth."""
    rng = random.Random(seed)
    ops: list[Op] = []
    for minute in range(MINUTES):
        slow_share = rng.uniform(0.02, 0.09)
        for tick in range(120):
            seconds_ago = (MINUTES - minute) * 60 - tick / 2 - 0.25
            slow = rng.random() < slow_share
            duration = rng.randint(2000, 2200) if slow else rng.randint(1500, 1999)
            ops.append(Op(seconds_ago, "sync_transactions", duration, True))
    return ops


async def live_holds(
    database: MetricsDatabase, rule: AlertRule, points: list[datetime]
) -> dict[datetime, bool]:
    """The rule at each point, as a live poll with its window ending there computes it."""
    intervals = {p: Interval(p - rule.window, p) for p in points}
    result = await database.fetch(MetricsQuery(tuple(intervals.values())))
    assert not result.failed
    seconds = int(rule.window.total_seconds())
    return {
        p: observe(rule, window_metrics(result, i, seconds)).verdict is Verdict.TRUE
        for p, i in intervals.items()
    }


@pytest.mark.parametrize("for_seconds", [0, 10, 60])
async def test_p95_since_is_where_the_live_p95_starts_to_hold(
    seed_db: str, for_seconds: int
) -> None:
    now = datetime.fromtimestamp(datetime.now(UTC).timestamp() // 60 * 60, UTC)
    await insert_operations(seed_db, hovering_operations(16 + for_seconds), now=now)
    rule = p95_rule(for_seconds)
    step = timedelta(seconds=grid_step(rule))
    database = MetricsDatabase(seed_db, clock=wall_clock)
    try:
        evaluations = [now - step * k for k in range(int(timedelta(minutes=12) / step))]
        holding = [
            at for at, held in (await live_holds(database, rule, evaluations)).items() if held
        ]
        assert 3 <= len(holding) < len(evaluations)  # the data crosses the threshold
        for at in holding:
            found = (await search_since(database, [rule], at, timedelta(minutes=20), timeout=30))[
                rule.name
            ]
            assert isinstance(found, Since), found
            since = found.at
            assert since <= at and not found.bounded
            run = [since + step * k for k in range(int((at - since) / step) + 1)]
            verdicts = await live_holds(database, rule, [since - step, *run])
            assert all(verdicts[p] for p in run), (at, since)
            assert not verdicts[since - step], (at, since)
    finally:
        await database.close()
