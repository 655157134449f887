"""A frozen engine with a past: deterministic episodes for the timeline, and a chart and
"what changed" for the detail screen (no I/O; the real reads are tested on PostgreSQL in
tests/integration/test_episode_history.py)."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

from syncmon.core.alerts import Verdict
from syncmon.core.conditions import comparisons
from syncmon.core.metrics import Unit
from syncmon.core.rules import AlertRule
from syncmon.core.timeline import Episode, Point
from syncmon.sources.past import Change, EpisodeContext, Timeline, WhatChanged, stretches
from syncmon.sources.queries import Interval
from tests.ui.fixed_data import FROZEN, FixedEngine

NEW_MESSAGE = "HTTP 503 Service Unavailable from upstream sync-gateway"
HOSTILE = "[red]markup[/] \x1b]0;evil title\x07 stays literal"
MESSAGES = (
    Change(NEW_MESSAGE, 0, 31, 0, 31),
    Change("ECONNRESET while streaming changeset", 7, 9, 7, 9),
    Change(HOSTILE, 1, 2, 1, 2),
)
OPERATIONS = (
    Change("sync_push", 1200, 1180, 12, 96),
    Change("sync_pull", 800, 790, 8, 40),
    Change("plaid_link", 0, 45, 0, 3),
)


class HistoryEngine(FixedEngine):
    """`FixedEngine` (the frozen snapshot) plus a past: every database rule that fires now
    began 40 minutes ago (as `find_since` says), and fired before, deterministically."""

    def __init__(self, rules: tuple[AlertRule, ...]) -> None:
        super().__init__()
        self.rules = {rule.name: rule for rule in rules}
        self.episode_calls: list[tuple[str, datetime, datetime]] = []
        self.timeline_calls: list[tuple[datetime, datetime]] = []
        self.history_error: str | None = None

    async def timeline(self, start: datetime, end: datetime) -> Timeline:
        self.timeline_calls.append((start, end))
        found = Timeline(start, end)
        failure = self.rules.get("High Sync Failure Rate")
        if failure is not None:
            found.episodes += [
                Episode(failure, FROZEN - timedelta(minutes=40), None, 0.096, Unit.RATIO),
                Episode(
                    failure,
                    FROZEN - timedelta(hours=5),
                    FROZEN - timedelta(hours=4, minutes=42),
                    0.071,
                    Unit.RATIO,
                ),
            ]
        plaid = self.rules.get("Plaid API Errors")
        if plaid is not None:
            found.episodes.append(
                Episode(
                    plaid,
                    FROZEN - timedelta(hours=9),
                    FROZEN - timedelta(hours=8, minutes=50),
                    0.034,
                    Unit.RATIO,
                )
            )
        if self.history_error:
            found.failed["Plaid API Errors"] = self.history_error
            found.episodes = [e for e in found.episodes if e.rule.name != "Plaid API Errors"]
        found.episodes.sort(key=lambda e: e.start, reverse=True)
        return found

    async def episode(self, rule: AlertRule, since: datetime, end: datetime) -> EpisodeContext:
        self.episode_calls.append((rule.name, since, end))
        lo, mid = stretches(rule, since, end, timedelta(hours=24))
        threshold = comparisons(rule.condition)[0].threshold
        points = []
        step = 30
        first = math.ceil(lo.timestamp() / step) * step
        for t in range(first, int(end.timestamp()) + 1, step):
            at = datetime.fromtimestamp(t, UTC)
            during = at >= since
            value = threshold * (1.9 if during else 0.4) + threshold * 0.1 * math.sin(t / 600)
            points.append(Point(at, Verdict.TRUE if during else Verdict.FALSE, value))
        changes = WhatChanged(Interval(lo, mid), Interval(mid, end), MESSAGES, OPERATIONS)
        return EpisodeContext(tuple(points), changes)


__all__ = ["FROZEN", "HOSTILE", "NEW_MESSAGE", "HistoryEngine"]
