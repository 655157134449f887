"""When the demo misbehaves: the repeating live schedule and the incidents baked into history.

The live schedule is sized for the shipped rules and their 5-minute windows: each incident
lasts long enough (2–3 minutes, far past its threshold) to fire its alert within a couple
of minutes, then stops so the alert resolves once the window slides past it. The first
one starts 20 s after launch so a new user sees something happen. docs/demo.md has the
table; keep the two in step.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from enum import StrEnum


class Kind(StrEnum):
    SYNC_FAILURES = "sync_failures"
    CONFLICT_BURST = "conflict_burst"
    PLAID_OUTAGE = "plaid_outage"
    REDIS_DOWN = "redis_down"
    SLOW_SYNCS = "slow_syncs"
    SLOW_HEALTH = "slow_health"


@dataclass(frozen=True)
class Incident:
    kind: Kind
    title: str
    start_s: int
    duration_s: int
    alert: str | None

    @property
    def end_s(self) -> int:
        return self.start_s + self.duration_s


CYCLE_S = 18 * 60

SCHEDULE: tuple[Incident, ...] = (
    Incident(
        Kind.SYNC_FAILURES,
        "sync failure spike (22% of sync operations fail)",
        20,
        160,
        "sync_failure_rate > 5%",
    ),
    Incident(Kind.CONFLICT_BURST, "burst of sync conflicts (about a dozen in 30 s)", 45, 30, None),
    Incident(
        Kind.PLAID_OUTAGE,
        "Plaid outage (45% of Plaid calls fail, /plaid warns)",
        120,
        150,
        "plaid_error_rate > 2%",
    ),
    Incident(
        Kind.REDIS_DOWN,
        "Redis down (/api/health/redis answers 503)",
        210,
        150,
        "endpoints_down > 0 for 1m",
    ),
    Incident(
        Kind.SLOW_SYNCS, "slow sync period (median sync ~11 s)", 300, 180, "avg_sync_duration > 5s"
    ),
    Incident(
        Kind.SLOW_HEALTH,
        "slow health endpoints (~1.8 s per request)",
        360,
        200,
        "api_response_time > 500ms",
    ),
)


def active_kinds(elapsed_s: float) -> frozenset[Kind]:
    """The incidents under way `elapsed_s` seconds after the demo started."""
    if elapsed_s < 0:
        return frozenset()
    t = elapsed_s % CYCLE_S
    return frozenset(i.kind for i in SCHEDULE if i.start_s <= t < i.end_s)


def incident(kind: Kind | str) -> Incident:
    return next(i for i in SCHEDULE if i.kind == Kind(kind))


@dataclass(frozen=True)
class PastIncident:
    """An incident in the generated history, `hours_ago` before the demo started."""

    kind: Kind
    title: str
    hours_ago: float
    duration_min: int


PAST_INCIDENTS: tuple[PastIncident, ...] = (
    PastIncident(Kind.SYNC_FAILURES, "sync failure spike", 3, 20),
    PastIncident(Kind.PLAID_OUTAGE, "Plaid outage", 9, 45),
    PastIncident(Kind.SLOW_SYNCS, "slow sync period", 15, 30),
    PastIncident(Kind.CONFLICT_BURST, "conflict storm (auto-resolve rate ~55%)", 20, 20),
)


class IncidentClock:
    """Where the demo is in its schedule; stopped (no incidents) unless started or jumped."""

    def __init__(self, *, running: bool = True) -> None:
        self._origin = time.monotonic()
        self.running = running

    def restart(self) -> None:
        self._origin = time.monotonic()
        self.running = True

    def elapsed(self) -> float:
        return time.monotonic() - self._origin

    def active(self) -> frozenset[Kind]:
        return active_kinds(self.elapsed()) if self.running else frozenset()

    def jump_to(self, kind: Kind | str) -> None:
        """Continue the schedule from the start of `kind`'s incident (and run the clock)."""
        self._origin = time.monotonic() - incident(kind).start_s
        self.running = True
