"""A rule's past on a real PostgreSQL (SPEC §17): the timeline's episodes start where since
says, and "what changed at since" counts error messages and operation types before and
during an episode, marking the ones that are new — computed here from the rows alone."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from syncmon.core.alerts import Verdict
from syncmon.core.episodes import Since, episode_id
from syncmon.engine.poll import Engine
from syncmon.sources.past import stretches
from tests.conftest import PgServer, create_database, drop_database
from tests.integration.incident import INCIDENT_RULE, RULE_NAME
from tests.integration.rows import Op, insert_operations
from tests.integration.watch_support import settings_for, write_config

pytestmark = pytest.mark.database

NEW_MESSAGE = "TLS handshake failed: upstream sync-gateway [bold]certificate expired[/]"
OLD_MESSAGE = "timeout after 30s"
EARLIER_MESSAGE = "ECONNRESET while streaming changeset"


@dataclass(frozen=True)
class History:
    now: datetime
    ops: list[Op]


def history_ops() -> list[Op]:
    """One operation every 2 s for 2 hours. A baseline of one `timeout` in 50 (2 %, under the
    rule's 5 %); from 110 to 100 minutes ago an earlier incident (ECONNRESET, every other
    one); from 40 minutes ago the incident under way: every other one fails with a message
    never seen before, and `plaid_link` operations appear. Stamps at x.5 s."""
    ops = []
    for k in range(3600):
        ago = 2 * k + 0.5
        kind = "sync_push" if k % 3 else "sync_pull"
        if ago < 40 * 60 and k % 2 == 0:
            ops.append(Op(ago, kind, 900, False, NEW_MESSAGE))
        elif 100 * 60 <= ago < 110 * 60 and k % 2 == 0:
            ops.append(Op(ago, kind, 400, False, EARLIER_MESSAGE))
        elif k % 50 == 1:
            ops.append(Op(ago, kind, 300, False, OLD_MESSAGE))
        else:
            ops.append(Op(ago, kind, 300, True))
        if ago < 40 * 60 and k % 5 == 0:
            ops.append(Op(ago + 1, "plaid_link", 200, True))
    return ops


@pytest.fixture
async def db(pg_server: PgServer) -> AsyncIterator[str]:
    dsn = await create_database(pg_server, timezone="America/New_York")
    yield dsn
    await drop_database(pg_server, dsn)


@pytest.fixture
async def history(db: str) -> History:
    now = datetime.now(UTC).replace(microsecond=0)
    ops = history_ops()
    await insert_operations(db, ops, now=now)
    return History(now, ops)


@pytest.fixture
async def engine(db: str, tmp_path: Path) -> AsyncIterator[Engine]:
    async with Engine(settings_for(write_config(tmp_path, INCIDENT_RULE), db)) as engine:
        yield engine


def holds(ops: list[Op], now: datetime, point: float) -> bool:
    """The rule (sync failure rate > 5 % over 5 m, 10 samples) at one point, from the rows."""
    inside = [
        o.success
        for o in ops
        if not o.operation_type.startswith("plaid")
        and point - 300 <= now.timestamp() - o.seconds_ago < point
    ]
    return len(inside) >= 10 and sum(not ok for ok in inside) / len(inside) > 0.05


def runs(ops: list[Op], now: datetime, start: datetime) -> list[tuple[datetime, datetime | None]]:
    """Runs of held 30 s grid points in [start, now]: (first point, first point not held)."""
    found: list[tuple[datetime, datetime | None]] = []
    point = math.ceil(start.timestamp() / 30) * 30
    begun: float | None = None
    while point <= now.timestamp():
        if holds(ops, now, point):
            begun = point if begun is None else begun
        elif begun is not None:
            found.append((_at(begun), _at(point)))
            begun = None
        point += 30
    if begun is not None:
        found.append((_at(begun), None))
    return found


def _at(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


async def test_the_timeline_finds_both_episodes_where_since_says_they_began(
    engine: Engine, history: History
) -> None:
    start = history.now - timedelta(hours=2) + timedelta(minutes=5)
    timeline = await engine.timeline(start, history.now)
    assert timeline.failed == {}
    expected = runs(history.ops, history.now, start)
    assert len(expected) == 2
    got = [(e.start, e.end) for e in timeline.episodes]
    assert got == list(reversed(expected))  # newest first
    current, earlier = timeline.episodes
    [rule] = engine.rules
    found = await engine.find_since([rule], history.now)
    assert found[RULE_NAME] == Since(current.start)  # the live alert's since
    assert current.id == episode_id(rule, current.start)
    assert current.end is None and earlier.end is not None
    assert earlier.peak is not None and 0.4 < earlier.peak <= 0.55  # half of the syncs failed


async def test_what_changed_marks_the_new_message_with_counts_before_and_during(
    engine: Engine, history: History
) -> None:
    [rule] = engine.rules
    since = (await engine.find_since([rule], history.now))[RULE_NAME]
    assert isinstance(since, Since)
    context = await engine.episode(rule, since.at, history.now)
    assert context.error is None
    changes = context.changes
    assert changes is not None and changes.error is None

    # "during": the rows from the first held point's window on; "before": as long, before
    lo, mid = stretches(rule, since.at, history.now, timedelta(hours=24))
    assert mid == since.at - rule.window and lo == mid - (history.now - mid)
    assert (changes.before.start, changes.during.start) == (lo, mid)

    def count(pred: Callable[[Op], bool], a: datetime, b: datetime) -> int:
        return sum(
            1
            for o in history.ops
            if pred(o) and a.timestamp() <= history.now.timestamp() - o.seconds_ago < b.timestamp()
        )

    by_message = {c.key: c for c in changes.messages}
    new = by_message[NEW_MESSAGE]
    assert new.new
    assert new.before == 0
    assert new.during == count(lambda o: o.error_message == NEW_MESSAGE, mid, history.now)
    old = by_message[OLD_MESSAGE]
    assert not old.new
    assert old.before == count(lambda o: o.error_message == OLD_MESSAGE, lo, mid) > 0
    assert old.during == count(lambda o: o.error_message == OLD_MESSAGE, mid, history.now)
    assert EARLIER_MESSAGE not in by_message  # the earlier incident is outside both stretches

    by_type = {c.key: c for c in changes.operations}
    assert by_type["plaid_link"].new
    push = by_type["sync_push"]
    assert push.before == count(lambda o: o.operation_type == "sync_push", lo, mid)
    assert push.failed_during == count(
        lambda o: o.operation_type == "sync_push" and not o.success, mid, history.now
    )

    # the chart: the episode and the equal stretch before it, on the rule's grid
    points = context.points
    assert points[0].at >= lo and points[-1].at <= history.now
    assert all(p.verdict is Verdict.TRUE for p in points if p.at >= since.at)
    assert points[0].verdict is Verdict.FALSE


async def test_a_database_that_refuses_says_why_instead_of_an_empty_list(tmp_path: Path) -> None:
    dsn = "postgresql://nobody:secret-pw@127.0.0.1:9/none"
    settings = settings_for(write_config(tmp_path, INCIDENT_RULE), dsn)
    async with Engine(settings) as engine:
        now = datetime.now(UTC)
        timeline = await engine.timeline(now - timedelta(hours=24), now)
        [rule] = engine.rules
        context = await engine.episode(rule, now - timedelta(minutes=10), now)
    assert timeline.episodes == []
    assert "refused" in timeline.failed[RULE_NAME]
    assert context.changes is not None and "refused" in (context.changes.error or "")
    assert "secret-pw" not in repr(timeline) + repr(context)
