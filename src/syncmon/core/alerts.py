"""Alert evaluation (SPEC §4): one observation per rule, then a stateless or stateful verdict.

`observe` turns metric values into a verdict for one moment. `check_verdict` is the
stateless answer of `syncmon check`; `AlertTracker` is the Prometheus-style state machine
of `watch` and the dashboard. Both take `since` from outside: it is found in the database
(core/history.py) when a rule starts to hold, so every process agrees on it (§4.1).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from syncmon.core.conditions import Number, comparisons, evaluate
from syncmon.core.durations import format_duration
from syncmon.core.episodes import Since, episode_id
from syncmon.core.metrics import MetricValue, Source, Unit
from syncmon.core.rules import AlertRule


class AlertState(StrEnum):
    """Where a rule stands (SPEC §4)."""

    INACTIVE = "inactive"
    PENDING = "pending"
    FIRING = "firing"
    RESOLVED = "resolved"
    NODATA = "nodata"
    ERROR = "error"


ACTIVE_STATES = (AlertState.PENDING, AlertState.FIRING)


class EventKind(StrEnum):
    """The state changes `watch` reports (SPEC §7)."""

    PENDING = "pending"
    FIRING = "firing"
    RESOLVED = "resolved"
    ERROR = "error"
    NODATA = "nodata"


class Verdict(StrEnum):
    """A condition at one moment."""

    TRUE = "true"
    FALSE = "false"
    NODATA = "nodata"
    ERROR = "error"


@dataclass(frozen=True)
class Observation:
    """A rule's condition at one moment. `value`/`threshold` are the first comparison's."""

    verdict: Verdict
    value: float | None
    threshold: float
    unit: Unit
    samples: int
    reason: str | None = None


def observe(
    rule: AlertRule,
    metrics: Mapping[str, MetricValue],
    failed_sources: Mapping[Source, str] | None = None,
    unavailable_sources: Mapping[Source, str] | None = None,
    source_notes: Mapping[Source, str] | None = None,
) -> Observation:
    """Evaluate `rule` on the metrics of its window.

    A failed source gives `error`; an unavailable one (health endpoints under `--at`) or
    too few samples give `nodata`. `source_notes` (a writers' clock ahead) join the reason.
    """
    failed_sources = failed_sources or {}
    unavailable_sources = unavailable_sources or {}
    first = comparisons(rule.condition)[0]
    first_value = metrics.get(first.metric.name)
    value = first_value.value if first_value else None
    base = (first.threshold, first.metric.unit)

    errors = [failed_sources[s] for s in sorted(rule.sources) if s in failed_sources]
    if errors:
        return Observation(Verdict.ERROR, None, *base, samples=0, reason="; ".join(errors))
    missing = [unavailable_sources[s] for s in sorted(rule.sources) if s in unavailable_sources]
    if missing:
        return Observation(Verdict.NODATA, None, *base, samples=0, reason="; ".join(missing))

    samples: list[int] = []
    values: dict[str, Number] = {}
    short: list[str] = []
    for metric in rule.metrics:
        mv = metrics.get(metric.name)
        count = mv.samples if mv else 0
        samples.append(count)
        needed = rule.min_samples_for(metric)
        comparable = mv.comparable if mv else None
        if comparable is None or count < needed:
            short.append(f"{metric.name}: {count} samples, {needed} needed")
        else:
            values[metric.name] = comparable
    fewest = min(samples) if samples else 0
    source_notes = source_notes or {}
    notes = [source_notes[s] for s in sorted(rule.sources) if s in source_notes]
    if short:
        reason = "; ".join(short + notes)
        return Observation(Verdict.NODATA, value, *base, samples=fewest, reason=reason)
    holds = evaluate(rule.condition, values)
    verdict = Verdict.TRUE if holds else Verdict.FALSE
    return Observation(verdict, value, *base, samples=fewest, reason="; ".join(notes) or None)


@dataclass(frozen=True)
class CheckVerdict:
    """The stateless answer for one alert; `since`/`episode` only while pending or firing."""

    state: AlertState
    observation: Observation
    since: Since | None
    note: str
    episode: str | None = None
    # Pending only because a stateless check cannot confirm `for` (an endpoint rule): it
    # may have held for long. `check` reports it as a soft problem, exit 1 at most (README).
    unconfirmed: bool = False


def check_verdict(
    rule: AlertRule,
    now: Observation,
    evaluated_at: datetime,
    since: Since | str | None = None,
) -> CheckVerdict:
    """The verdict of `syncmon check` for one rule.

    `since` is what the history search found for a rule that holds now: a `Since`, or the
    reason it could not be read. Rules over health endpoints have no history: their since
    is the moment of this check (seen), and with a `for` one check cannot confirm they are
    pending, never firing: one failed poll must not page (SPEC §15).
    """
    notes: list[str] = []
    if now.reason:
        notes.append(now.reason)
    if now.verdict is not Verdict.TRUE:
        state = {
            Verdict.ERROR: AlertState.ERROR,
            Verdict.NODATA: AlertState.NODATA,
            Verdict.FALSE: AlertState.INACTIVE,
        }[now.verdict]
        return _verdict(rule, state, now, None, notes)
    if not rule.has_history:
        seen = Since(evaluated_at, seen=True)
        if rule.for_:  # one poll cannot confirm `for`: never page on it (SPEC §15)
            notes.insert(
                0,
                f"true at this check; for: {format_duration(rule.for_)} cannot be confirmed "
                "by one check (health endpoints have no history), so it is pending, not firing",
            )
            verdict = _verdict(rule, AlertState.PENDING, now, seen, notes)
            return replace(verdict, unconfirmed=True)
        return _verdict(rule, AlertState.FIRING, now, seen, notes)
    if not isinstance(since, Since):
        reason = since or "history not searched"
        if not rule.for_:  # no history needed to know it fires; only since is unknown
            notes.insert(0, f"since unknown ({reason}): shown as this check's time")
            return _verdict(rule, AlertState.FIRING, now, Since(evaluated_at, seen=True), notes)
        notes.insert(0, f"holds now, but its history is unreadable ({reason}): pending or firing?")
        return _verdict(rule, AlertState.ERROR, now, None, notes)
    since = since.at_most(evaluated_at)
    held = evaluated_at - since.at
    if held >= rule.for_ or since.bounded:  # held the whole lookback, and for <= lookback
        return _verdict(rule, AlertState.FIRING, now, since, notes)
    notes.insert(0, f"condition true for {format_duration(held)} of {format_duration(rule.for_)}")
    return _verdict(rule, AlertState.PENDING, now, since, notes)


def _verdict(
    rule: AlertRule,
    state: AlertState,
    obs: Observation,
    since: Since | None,
    notes: list[str],
) -> CheckVerdict:
    episode = episode_id(rule, since.identity) if since is not None else None
    return CheckVerdict(state, obs, since, "; ".join(notes), episode)


@dataclass(frozen=True)
class AlertEvent:
    """A state change worth telling someone about (SPEC §7), with its episode (§4.1–4.2)."""

    kind: EventKind
    rule: AlertRule
    at: datetime
    observation: Observation
    since: Since | None = None
    episode: str | None = None
    restored: bool = False  # reports a state that began before this process could see it


class AlertTracker:
    """The state machine of one alert (a rule, or one endpoint's alert of it) for `watch` and
    the dashboard.

    `since` comes from outside when the rule starts to hold (found in the database, so every
    process agrees); a rule without history, or whose history could not be read, uses the
    moment this tracker first saw it (`since.seen`).
    """

    def __init__(self, rule: AlertRule) -> None:
        self.rule = rule
        self.state = AlertState.INACTIVE
        self.state_since: datetime | None = None
        self.since_info: Since | None = None
        self.episode_id: str | None = None
        self.false_since: datetime | None = None  # a firing alert's condition stopped holding
        self.error: str | None = None
        self.observation: Observation | None = None
        self.readable = False  # this process has read the rule's sources at least once

    # -- what the front ends show ------------------------------------------------------------

    @property
    def firing(self) -> bool:
        return self.state is AlertState.FIRING

    @property
    def active(self) -> bool:
        return self.state in ACTIVE_STATES

    @property
    def since(self) -> datetime | None:
        return self.since_info.at if self.since_info else None

    @property
    def since_bounded(self) -> bool:
        return bool(self.since_info and self.since_info.bounded)

    @property
    def since_seen(self) -> bool:
        return bool(self.since_info and self.since_info.seen)

    def needs_since(self, obs: Observation) -> bool:
        """True when this observation starts a run whose start the database can tell."""
        return obs.verdict is Verdict.TRUE and not self.active and self.rule.has_history

    # -- the state machine -------------------------------------------------------------------

    def update(
        self, obs: Observation, now: datetime, found: Since | str | None = None
    ) -> list[AlertEvent]:
        """Advance by one evaluation. `found`: the since the database gave for a run that
        starts now, or why it could not be read."""
        self.observation = obs
        if obs.verdict is Verdict.ERROR:
            return self._on_error(obs, now)
        first_readable = not self.readable
        was_blind = self.error is not None
        self.readable = True
        self.error = None
        if obs.verdict is Verdict.TRUE:
            if self.firing and was_blind:
                # Its last word was `error`: say it still fires, same episode (§4.2), once.
                self.false_since = None
                return [self._event(EventKind.FIRING, now, obs, restored=True)]
            return self._on_true(obs, now, found, first_readable)
        return self._on_false_or_nodata(obs, now)

    def _enter(self, state: AlertState, at: datetime) -> None:
        if state is not self.state:
            self.state = state
            self.state_since = at

    def _event(
        self, kind: EventKind, now: datetime, obs: Observation, restored: bool = False
    ) -> AlertEvent:
        return AlertEvent(kind, self.rule, now, obs, self.since_info, self.episode_id, restored)

    def _on_error(self, obs: Observation, now: datetime) -> list[AlertEvent]:
        first_error = self.error is None
        self.error = obs.reason or "source unreadable"
        if self.firing:  # never report "resolved" while blind
            return [self._event(EventKind.ERROR, now, obs)] if first_error else []
        if self.state is AlertState.ERROR:
            return []
        self._enter(AlertState.ERROR, now)
        self.since_info = self.episode_id = None  # found again when it holds again
        return [self._event(EventKind.ERROR, now, obs)]

    def _on_true(
        self, obs: Observation, now: datetime, found: Since | str | None, first_readable: bool
    ) -> list[AlertEvent]:
        self.false_since = None
        if self.firing:
            return []
        if self.state is AlertState.PENDING:
            if not self._held_long_enough(now):
                return []
            self._enter(AlertState.FIRING, now)
            return [self._event(EventKind.FIRING, now, obs)]
        self.since_info = found.at_most(now) if isinstance(found, Since) else Since(now, seen=True)
        self.episode_id = episode_id(self.rule, self.since_info.identity)
        # Reported late: the run began before this process could read the rule's sources.
        restored = first_readable and not self.since_info.seen and self.since_info.at < now
        if self._held_long_enough(now):
            self._enter(AlertState.FIRING, now)
            return [self._event(EventKind.FIRING, now, obs, restored)]
        self._enter(AlertState.PENDING, now)
        return [self._event(EventKind.PENDING, now, obs, restored)]

    def _held_long_enough(self, now: datetime) -> bool:
        if not self.rule.for_:
            return True
        since = self.since_info
        # A run as long as the lookback is at least `for` (validate keeps for <= lookback).
        return since is not None and (since.bounded or now - since.at >= self.rule.for_)

    def _on_false_or_nodata(self, obs: Observation, now: datetime) -> list[AlertEvent]:
        if self.firing:
            # Like Prometheus: resolved once false (or nodata) for keep_firing_for, counted
            # from the first evaluation that found it false.
            if self.false_since is None:
                self.false_since = now
            keep = self.rule.keep_firing_for
            if keep and now - self.false_since < keep:
                return []
            event = self._event(EventKind.RESOLVED, now, obs)
            self._end_episode()
            self._enter(AlertState.RESOLVED, now)
            return [event]
        self._end_episode()
        if obs.verdict is Verdict.NODATA:
            if self.state is AlertState.NODATA:
                return []
            self._enter(AlertState.NODATA, now)
            return [self._event(EventKind.NODATA, now, obs)]
        self._enter(AlertState.INACTIVE, now)
        return []

    def _end_episode(self) -> None:
        self.since_info = None
        self.episode_id = None
        self.false_since = None
