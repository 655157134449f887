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
from syncmon.engine.poll import Snapshot


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
) -> list[tuple[AlertRule, CheckVerdict]]:
    """One stateless verdict per alert (a rule over endpoints has one per endpoint, SPEC
    §15), each with the rule bound to its label set; the history is read only for rules
    that hold now."""
    alerts = [alert for rule in rules for alert in snapshot.alerts_of(rule)]
    observations = {alert.key: snapshot.observe(alert) for alert in alerts}
    holding = [a for a in alerts if observations[a.key].verdict is Verdict.TRUE]
    found = (
        await finder.find_since(holding, snapshot.evaluated_at, timeout=timeout)
        if any(a.has_history for a in holding)
        else {}
    )
    return [
        (
            alert,
            check_verdict(
                alert, observations[alert.key], snapshot.evaluated_at, found.get(alert.key)
            ),
        )
        for alert in alerts
    ]


class LiveAlerts:
    """The state machines of every alert, advanced one snapshot at a time (watch, dashboard).

    Keyed by `AlertRule.key`. A rule over endpoints gets one tracker per endpoint once the
    endpoints are polled; an alert whose label set is no longer reported is dropped, after
    resolving if it was firing (as Prometheus does when a series disappears).
    """

    def __init__(self, rules: Iterable[AlertRule], finder: SinceFinder | None = None) -> None:
        self.rules = tuple(rules)
        self.trackers = {rule.key: AlertTracker(rule) for rule in self.rules}
        self.finder = finder
        self.search_errors: dict[str, str] = {}  # the last advance's unreadable histories

    async def find_since(
        self, snapshot: Snapshot, *, timeout: float | None = None
    ) -> dict[str, Since | str]:
        """Since when the rules that start to hold in `snapshot` have held: the only part of
        an evaluation that waits (the dashboard runs it in a worker, then `update`)."""
        starting = []
        for rule in self.rules:
            for alert in self._alerts(snapshot, rule):
                tracker = self.trackers.get(alert.key) or AlertTracker(alert)
                if tracker.needs_since(snapshot.observe(alert)):
                    starting.append(alert)
        if not starting or self.finder is None:
            return {}
        return await self.finder.find_since(starting, snapshot.evaluated_at, timeout=timeout)

    def update(
        self, snapshot: Snapshot, found: Mapping[str, Since | str] | None = None
    ) -> list[AlertEvent]:
        """Advance every state machine by `snapshot`, with what `find_since` found (by alert
        key, which for a table rule's only alert is the rule's name)."""
        found = found or {}
        self.search_errors = {k: v for k, v in found.items() if isinstance(v, str)}
        events: list[AlertEvent] = []
        trackers: dict[str, AlertTracker] = {}
        for rule in self.rules:
            for alert in self._alerts(snapshot, rule):
                tracker = self.trackers.get(alert.key) or AlertTracker(alert)
                trackers[alert.key] = tracker
                observation = snapshot.observe(alert)
                events += tracker.update(observation, snapshot.evaluated_at, found.get(alert.key))
        for key, tracker in self.trackers.items():
            if key in trackers or not tracker.firing:
                continue  # a vanished label set that was not firing just goes
            # observed without its metrics: nodata resolves it (after keep_firing_for), an
            # unreadable source keeps it firing
            gone = snapshot.observe(tracker.rule)
            events += tracker.update(gone, snapshot.evaluated_at)
            if tracker.firing:
                trackers[key] = tracker
        self.trackers.clear()  # in place: front ends hold this mapping
        self.trackers.update(trackers)
        return events

    def _alerts(self, snapshot: Snapshot, rule: AlertRule) -> list[AlertRule]:
        """The rule's alerts in `snapshot`. When it reports no label set at all (endpoints
        not polled, or unreadable) the alerts already known carry on, each observed without
        its metrics: an error keeps a firing one firing (never "resolved" while blind)."""
        alerts = snapshot.alerts_of(rule)
        if rule.split_by and len(alerts) == 1 and alerts[0] is rule:
            known = [t.rule for t in self.trackers.values() if t.rule.name == rule.name]
            if any(alert.series for alert in known):
                return [alert for alert in known if alert.series]
        return alerts

    async def advance(
        self, snapshot: Snapshot, *, timeout: float | None = None
    ) -> list[AlertEvent]:
        """Observe every rule, find since for those that start to hold, update the states."""
        return self.update(snapshot, await self.find_since(snapshot, timeout=timeout))
