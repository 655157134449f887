"""An incident under way, written into a real database relative to a fixed moment, and the
`since` SPEC §4.1 says every process must find for it, computed here from the rows alone."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from tests.integration.rows import Op, insert_operations

INCIDENT_RULE = """
alerts:
  - name: "High Sync Failure Rate"
    condition: "sync_failure_rate > 5%"
    severity: "critical"
    labels: {team: mobile}
"""
RULE_NAME = "High Sync Failure Rate"


@dataclass(frozen=True)
class Incident:
    now: datetime  # the moment the rows were written relative to
    ops: list[Op]
    since: datetime  # what the database must say


def incident_ops(started_ago: float, history: float = 90 * 60) -> list[Op]:
    """One sync every 2 s for `history` seconds; from `started_ago` on, every other one fails.

    Stamps sit at x.5 s, never on a grid or bucket boundary, so no rounding can move them.
    """
    ops = []
    for k in range(int(history // 2)):
        ago = 2 * k + 0.5
        failing = ago < started_ago and k % 2 == 0
        ops.append(Op(ago, "sync_push", 300, not failing, "timeout" if failing else None))
    return ops


def expected_since(
    ops: list[Op],
    now: datetime,
    *,
    window: float = 300,
    step: int = 30,
    threshold: float = 0.05,
    min_samples: int = 10,
) -> datetime:
    """The earliest point of the unbroken run of held grid points that reaches `now`."""
    stamps = [(now.timestamp() - o.seconds_ago, o.success) for o in ops]

    def holds(point: float) -> bool:
        inside = [ok for t, ok in stamps if point - window <= t < point]
        failed = sum(not ok for ok in inside)
        return len(inside) >= min_samples and failed / len(inside) > threshold

    point = math.floor(now.timestamp() / step) * step
    assert holds(point), "the incident must still be under way at `now`"
    while holds(point - step):
        point -= step
    return datetime.fromtimestamp(point, UTC)


async def write_incident(dsn: str, started_ago: timedelta = timedelta(minutes=40)) -> Incident:
    now = datetime.now(UTC).replace(microsecond=0)
    ops = incident_ops(started_ago.total_seconds())
    await insert_operations(dsn, ops, now=now)
    return Incident(now, ops, expected_since(ops, now))
