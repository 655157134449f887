"""Rules over snapshots: the stateless verdicts of `check` and the live state of `watch` and
the dashboard. Both ask the engine since when a rule holds only when it starts to hold."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
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

    async def find_since(
        self, snapshot: Snapshot, *, timeout: float | None = None
    ) -> dict[str, Since | str]:
        """Since when the rules that start to hold in `snapshot` have held: the only part of
        an evaluation that waits (the dashboard runs it in a worker, then `update`)."""
        starting = [
            t.rule for t in self.trackers.values() if t.needs_since(snapshot.observe(t.rule))
        ]
        if not starting or self.finder is None:
            return {}
        return await self.finder.find_since(starting, snapshot.evaluated_at, timeout=timeout)

    def update(
        self, snapshot: Snapshot, found: Mapping[str, Since | str] | None = None
    ) -> list[AlertEvent]:
        """Advance every state machine by `snapshot`, with what `find_since` found."""
        found = found or {}
        self.search_errors = {k: v for k, v in found.items() if isinstance(v, str)}
        events: list[AlertEvent] = []
        for name, tracker in self.trackers.items():
            observation = snapshot.observe(tracker.rule)
            events += tracker.update(observation, snapshot.evaluated_at, found.get(name))
        return events

    async def advance(
        self, snapshot: Snapshot, *, timeout: float | None = None
    ) -> list[AlertEvent]:
        """Observe every rule, find since for those that start to hold, update the states."""
        return self.update(snapshot, await self.find_since(snapshot, timeout=timeout))
