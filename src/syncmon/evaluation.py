"""Rules over snapshots: the stateless verdicts of `check` and the live state of `watch` and
the dashboard. Both ask the engine since when a rule holds only when it starts to hold."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Protocol

from syncmon.core.alerts import (
    AlertEvent,
    AlertTracker,
    CheckVerdict,
    Verdict,
    check_verdict,
)
from syncmon.core.episodes import Since
from syncmon.core.rules import AlertRule
from syncmon.engine import Snapshot


class SinceFinder(Protocol):
    """What evaluation needs of the engine: since when rules have held (SPEC §4.1)."""

    async def find_since(
        self, rules: Iterable[AlertRule], at: datetime, *, timeout: float | None = None
    ) -> dict[str, Since | str]: ...


async def check_verdicts(
    finder: SinceFinder,
    rules: Iterable[AlertRule],
    snapshot: Snapshot,
    *,
    timeout: float | None = None,
) -> list[CheckVerdict]:
    """One stateless verdict per rule; the history is read only for rules that hold now."""
    rules = list(rules)
    observations = {rule.name: snapshot.observe(rule) for rule in rules}
    holding = [r for r in rules if observations[r.name].verdict is Verdict.TRUE]
    found = (
        await finder.find_since(holding, snapshot.evaluated_at, timeout=timeout)
        if any(r.has_history for r in holding)
        else {}
    )
    return [
        check_verdict(rule, observations[rule.name], snapshot.evaluated_at, found.get(rule.name))
        for rule in rules
    ]


class LiveAlerts:
    """The state machines of every rule, advanced one snapshot at a time (watch, dashboard)."""

    def __init__(self, rules: Iterable[AlertRule], finder: SinceFinder | None = None) -> None:
        self.trackers = {rule.name: AlertTracker(rule) for rule in rules}
        self.finder = finder
        self.search_errors: dict[str, str] = {}  # the last advance's unreadable histories

    async def advance(
        self, snapshot: Snapshot, *, timeout: float | None = None
    ) -> list[AlertEvent]:
        """Observe every rule, find since for those that start to hold, update the states."""
        observations = {name: snapshot.observe(t.rule) for name, t in self.trackers.items()}
        starting = [
            t.rule for name, t in self.trackers.items() if t.needs_since(observations[name])
        ]
        found: dict[str, Since | str] = {}
        if starting and self.finder is not None:
            found = await self.finder.find_since(starting, snapshot.evaluated_at, timeout=timeout)
        self.search_errors = {k: v for k, v in found.items() if isinstance(v, str)}
        events: list[AlertEvent] = []
        for name, tracker in self.trackers.items():
            events += tracker.update(observations[name], snapshot.evaluated_at, found.get(name))
        return events
