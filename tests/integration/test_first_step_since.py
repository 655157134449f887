"""An episode's first step (SPEC §15, §4.1): before any grid point has held, since is the
evaluation that first saw the condition, never after it, and every process still computes the
same episode id, from the next grid point — on a real PostgreSQL, with `check` at one moment
and a watcher's state machines (the engine and `LiveAlerts` as `watch` runs them) at another
moment of the same grid step."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from syncmon.config.settings import Settings
from syncmon.core.alerts import AlertState, AlertTracker
from syncmon.core.episodes import Since, episode_id
from syncmon.engine.evaluation import LiveAlerts
from syncmon.engine.poll import Engine, PollRequest
from syncmon.headless.check import evaluate
from tests.integration.rows import Op, insert_operations
from tests.integration.watch_support import settings_for, write_config

pytestmark = pytest.mark.database

RULE = """
alerts:
  - name: "Failing For 30s"
    condition: "sync_failure_rate > 5%"
    for: 30s
    severity: "critical"
"""
STEP = 30  # min(for, 30 s): the rule's grid


def first_step_ops(grid: datetime, end: datetime) -> list[Op]:
    """One good sync every 2 s for 15 minutes before `grid`; from just after `grid` on, two
    failed syncs a second. Nothing fails in the window ending at `grid`, so it does not hold
    there; ten seconds later the failure rate is far above 5%. Stamps sit off every grid and
    bucket boundary."""
    ops: list[Op] = []
    last = end - grid
    for k in range(int((timedelta(minutes=15) + last) / timedelta(seconds=2))):
        ago = 2 * k + 1.5
        ops.append(Op(ago, "sync_push", 300, True))
    for k in range(int(last.total_seconds() * 2)):
        stamp = grid + timedelta(seconds=0.25 + k / 2)
        ops.append(Op((end - stamp).total_seconds(), "sync_push", 300, False, "timeout"))
    return ops


class FixedClock:
    """The watcher's clock, moved by the test."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


async def check_at(settings: Settings, at: datetime) -> tuple[AlertState, Since | None, str]:
    report = await evaluate(settings, at)
    [alert] = report.alerts
    assert report.evaluated_at == at
    verdict = alert.verdict
    assert verdict.episode is not None, verdict
    return verdict.state, verdict.since, verdict.episode


@pytest.fixture
async def first_step(seed_db: str, tmp_path: Path) -> tuple[Settings, datetime]:
    """Settings over a database where the rule starts to hold just after grid point `G`."""
    now = datetime.now(UTC)
    grid = datetime.fromtimestamp(math.floor(now.timestamp() / STEP) * STEP - 600, UTC)
    end = grid + timedelta(seconds=90)
    await insert_operations(seed_db, first_step_ops(grid, end), now=end)
    return settings_for(write_config(tmp_path, RULE), seed_db), grid


async def test_check_and_a_watcher_in_one_step_report_their_own_since_and_the_same_id(
    first_step: tuple[Settings, datetime],
) -> None:
    settings, grid = first_step
    step = timedelta(seconds=STEP)
    episode = episode_id(settings.rules[0], grid + step)  # the first grid point that holds

    # `check` 10 s into the step: pending since itself, not since the next grid point
    state, since, checked_id = await check_at(settings, grid + timedelta(seconds=10))
    assert state is AlertState.PENDING
    assert since is not None and since.at == grid + timedelta(seconds=10)
    assert checked_id == episode

    # a watcher that first evaluates 20 s into the same step disagrees on since, not on the id
    clock = FixedClock(grid + timedelta(seconds=20))
    async with Engine(settings, clock=clock) as engine:
        alerts = LiveAlerts(engine.rules, engine)
        [pending] = await alerts.advance(await engine.poll(PollRequest()))
        assert not alerts.search_errors
        assert (pending.kind.value, pending.since, pending.episode) == (
            "pending",
            Since(clock.now, grid=grid + step),
            episode,
        )
        assert pending.since is not None and pending.since.at <= pending.at
        [tracker] = alerts.trackers.values()
        assert isinstance(tracker, AlertTracker) and tracker.since == clock.now

        # `for` counts from the evaluation that first saw it: not yet at 49 s, fires at 50 s
        clock.now = grid + timedelta(seconds=49)
        assert await alerts.advance(await engine.poll(PollRequest())) == []
        clock.now = grid + timedelta(seconds=50)
        [firing] = await alerts.advance(await engine.poll(PollRequest()))
        assert (firing.kind.value, firing.since, firing.episode) == (
            "firing",
            pending.since,
            episode,
        )

    # a check after the grid point held finds that point itself, and the same id
    state, since, later_id = await check_at(settings, grid + timedelta(seconds=50))
    assert (state, since, later_id) == (AlertState.PENDING, Since(grid + step), episode)


async def test_a_check_on_the_grid_point_before_the_episode_sees_nothing(
    first_step: tuple[Settings, datetime],
) -> None:
    """The unhappy side: at the grid point before the failures the rule does not hold, so no
    since and no id exist — the first step really is the first."""
    settings, grid = first_step
    report = await evaluate(settings, grid)
    [alert] = report.alerts
    assert (alert.verdict.state, alert.verdict.since, alert.verdict.episode) == (
        AlertState.INACTIVE,
        None,
        None,
    )
