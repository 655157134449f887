"""Deterministic dashboard data for snapshot tests: a frozen moment, no I/O, no randomness."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from syncmon.core.conflicts import Conflict, OutcomeKind, ResolveOutcome, ResolveRequest
from syncmon.core.endpoints import EndpointResult
from syncmon.core.episodes import Since
from syncmon.core.metrics import (
    ConflictAggregates,
    EndpointAggregates,
    EndpointStatus,
    PerformanceAggregates,
    Source,
    conflict_metrics,
    endpoint_metrics,
    performance_metrics,
)
from syncmon.core.rules import AlertRule
from syncmon.engine.poll import ChartSeries, PollRequest, Snapshot, window_key
from syncmon.sources.conflicts import ConflictList
from syncmon.sources.past import EpisodeContext, Timeline

FROZEN = datetime(2026, 11, 27, 3, 12, tzinfo=UTC)
CLOCK_NOW = FROZEN + timedelta(seconds=30)


def frozen_clock() -> datetime:
    return CLOCK_NOW


class MovableClock:
    """A frozen clock the test moves forward (ages and "since" stay deterministic)."""

    def __init__(self, now: datetime = CLOCK_NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


UP = EndpointStatus.UP


def endpoints() -> list[EndpointResult]:
    return [
        EndpointResult(
            "sync", "http://api.example/api/health/sync", UP, 42.0, 200, None, (), FROZEN
        ),
        EndpointResult(
            "plaid",
            "http://api.example/api/health/plaid",
            EndpointStatus.DOWN,
            5003.0,
            503,
            "HTTP 503 Service Unavailable",
            (),
            polled_at=FROZEN,
        ),
        EndpointResult(
            "database",
            "http://api.example/api/health/database",
            EndpointStatus.DEGRADED,
            180.0,
            200,
            "status 'warn'",
            (),
            polled_at=FROZEN,
        ),
        EndpointResult(
            "redis",
            "http://api.example/api/health/redis",
            UP,
            7.0,
            200,
            None,
            ("X-Frame-Options",),
            polled_at=FROZEN,
        ),
    ]


def bucket(i: int) -> PerformanceAggregates:
    total = 100 + int(20 * math.sin(i / 6))
    failed = 1 + (9 if 40 <= i < 50 else i % 3)
    return PerformanceAggregates(
        sync_total=total,
        sync_failed=failed,
        plaid_total=30,
        plaid_failed=i % 2,
        sync_avg_ms=500 + 300 * math.sin(i / 9) ** 2,
        sync_p95_ms=1400 + 900 * math.sin(i / 7) ** 2,
    )


def snapshot(request: PollRequest) -> Snapshot:
    window = request.display_window
    seconds = int(window.total_seconds())
    perf = PerformanceAggregates(
        sync_total=600,
        sync_failed=48,
        plaid_total=150,
        plaid_failed=2,
        sync_avg_ms=612.0,
        sync_p95_ms=1830.0,
    )
    values = [
        *performance_metrics(perf, seconds),
        *conflict_metrics(ConflictAggregates(total=40, auto_resolved=30), seconds),
        *endpoint_metrics(EndpointAggregates(4, 1, 1, 42.0 + 5003.0 + 180.0 + 7.0, 4), seconds),
    ]
    snap = Snapshot(
        FROZEN,
        True,
        window,
        endpoints=endpoints(),
        top_errors=[
            ("HTTP 503 Service Unavailable from upstream sync-gateway", 31),
            ("ECONNRESET while streaming changeset", 9),
            ("version conflict: remote version 14 > local version 12", 4),
        ],
    )
    snap.metrics[window_key(window)] = {v.name: v for v in values}
    snap.chart = ChartSeries(
        FROZEN - timedelta(hours=1),
        timedelta(minutes=1),
        [bucket(i) for i in range(60)],
        [None] * 60,
    )
    return snap


class FixedEngine:
    """Stands in for `Engine`: every poll returns the same frozen snapshot; a test may make
    sources fail (`failing`), as a real one would report them."""

    def __init__(self) -> None:
        self.requests: list[PollRequest] = []
        self.failing: dict[Source, str] = {}

    async def poll(self, request: PollRequest | None = None) -> Snapshot:
        request = request or PollRequest()
        self.requests.append(request)
        snap = snapshot(request)
        snap.failed.update(self.failing)
        if request.at is not None:  # as the real engine: endpoints have no history
            snap.endpoints = None
            snap.unavailable[Source.ENDPOINTS] = "not available (--at): no history"
        return snap

    async def poll_health(self) -> list[EndpointResult]:
        return endpoints()

    async def find_since(
        self, rules: Iterable[AlertRule], at: datetime, *, timeout: float | None = None
    ) -> dict[str, Since | str]:
        """Every database rule that holds has held for 40 minutes."""
        return {rule.name: Since(at - timedelta(minutes=40)) for rule in rules}

    async def timeline(self, start: datetime, end: datetime) -> Timeline:
        return Timeline(start, end)  # no episodes: the snapshot tests never open it

    async def episode(self, rule: AlertRule, since: datetime, end: datetime) -> EpisodeContext:
        return EpisodeContext()

    async def close(self) -> None:
        pass


CONFLICTS = [
    Conflict(
        "0b6f1c1e-0000-4000-8000-000000000001",
        "6a2c8f0e-5b7d-4e71-9d3a-1f0e2d3c4b5a",
        "transaction",
        "txn_81f2",
        FROZEN - timedelta(minutes=42),
        4,
        {"amount": 18.5, "category": "Groceries", "pending": False},
        {"amount": 18.5, "category": "Dining", "pending": True},
        {"amount": 18.5, "category": "Groceries", "pending": True},
    ),
    Conflict(
        "0b6f1c1e-0000-4000-8000-000000000002",
        "b1d0e7a4-9c3f-4d2e-8a1b-7c6d5e4f3a2b",
        "budget",
        "bud_19",
        FROZEN - timedelta(minutes=7),
        2,
        {"limit": 400, "name": "Food"},
        {"limit": 450, "name": "Food"},
        None,
    ),
]


class FixedConflicts:
    """Stands in for `ConflictsService` with two open conflicts."""

    resolved_by = "tester"

    async def list_open(self) -> ConflictList:
        return ConflictList(list(CONFLICTS))

    async def resolve(self, request: ResolveRequest) -> ResolveOutcome:
        return ResolveOutcome(OutcomeKind.RESOLVED, "resolved")

    async def close(self) -> None:
        pass


__all__ = [
    "CLOCK_NOW",
    "FROZEN",
    "FixedConflicts",
    "FixedEngine",
    "MovableClock",
    "frozen_clock",
    "replace",
]
