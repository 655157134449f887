"""Alert evaluation (SPEC §4): one observation per rule, then a stateless or stateful verdict.

`observe` turns metric values into a verdict for one moment. `check_verdict` is the
stateless answer of `syncmon check` from a series of past moments; `AlertTracker` is the
Prometheus-style state machine used by `watch` and the dashboard.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from syncmon.core.conditions import comparisons, evaluate
from syncmon.core.durations import format_duration
from syncmon.core.metrics import MetricValue, Source, Unit
from syncmon.core.rules import AlertRule


class AlertState(StrEnum):
    INACTIVE = "inactive"
    PENDING = "pending"
    FIRING = "firing"
    RESOLVED = "resolved"
    NODATA = "nodata"
    ERROR = "error"


class Verdict(StrEnum):
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
) -> Observation:
    """Evaluate `rule` on the metrics of its window.

    A failed source gives `error`; an unavailable one (health endpoints under `--at`) or
    too few samples give `nodata`.
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
    values: dict[str, float] = {}
    short: list[str] = []
    for metric in rule.metrics:
        mv = metrics.get(metric.name)
        count = mv.samples if mv else 0
        samples.append(count)
        needed = rule.min_samples_for(metric)
        if mv is None or mv.value is None or count < needed:
            short.append(f"{metric.name}: {count} samples, {needed} needed")
        else:
            values[metric.name] = mv.value
    fewest = min(samples) if samples else 0
    if short:
        return Observation(Verdict.NODATA, value, *base, samples=fewest, reason="; ".join(short))
    holds = evaluate(rule.condition, values)
    return Observation(Verdict.TRUE if holds else Verdict.FALSE, value, *base, samples=fewest)


@dataclass(frozen=True)
class CheckVerdict:
    state: AlertState
    observation: Observation
    since: datetime | None
    note: str


def history_offsets(rule: AlertRule) -> list[timedelta]:
    """The moments `check` looks back at to honour `for`: 0, step, 2·step, …, `for`.

    step = min(for, 30s); rules over health endpoints have no history and get [0].
    """
    if not rule.for_ or not rule.has_history:
        return [timedelta(0)]
    step = min(rule.for_, timedelta(seconds=30))
    offsets: list[timedelta] = []
    current = timedelta(0)
    while current < rule.for_:
        offsets.append(current)
        current += step
    offsets.append(rule.for_)
    return offsets


def check_verdict(
    rule: AlertRule, observations: Sequence[Observation], evaluated_at: datetime
) -> CheckVerdict:
    """Stateless verdict from observations at `history_offsets(rule)` (newest first)."""
    offsets = history_offsets(rule)
    now_obs = observations[0]
    notes: list[str] = []
    if rule.for_ and not rule.has_history:
        notes.append(
            f"for: {format_duration(rule.for_)} not checked: health endpoints have no history, "
            "so this rule was evaluated as if for were 0s"
        )
    if now_obs.reason:
        notes.append(now_obs.reason)
    if now_obs.verdict is Verdict.ERROR:
        return CheckVerdict(AlertState.ERROR, now_obs, None, "; ".join(notes))
    if now_obs.verdict is Verdict.NODATA:
        return CheckVerdict(AlertState.NODATA, now_obs, None, "; ".join(notes))
    if now_obs.verdict is Verdict.FALSE:
        return CheckVerdict(AlertState.INACTIVE, now_obs, None, "; ".join(notes))
    run = 0
    for obs in observations:
        if obs.verdict is not Verdict.TRUE:
            break
        run += 1
    true_since = evaluated_at - offsets[run - 1]
    if run == len(offsets):
        return CheckVerdict(AlertState.FIRING, now_obs, true_since, "; ".join(notes))
    notes.insert(
        0, f"condition true for {format_duration(offsets[run - 1])} of {format_duration(rule.for_)}"
    )
    return CheckVerdict(AlertState.PENDING, now_obs, true_since, "; ".join(notes))


@dataclass(frozen=True)
class AlertEvent:
    """A state change worth telling someone about (SPEC §7 event kinds)."""

    kind: str  # pending | firing | resolved | error | nodata
    rule: AlertRule
    at: datetime
    observation: Observation
    started_at: datetime | None = None


class AlertTracker:
    """The per-rule state machine of `watch` and the dashboard."""

    def __init__(self, rule: AlertRule) -> None:
        self.rule = rule
        self.state = AlertState.INACTIVE
        self.state_since: datetime | None = None
        self.pending_since: datetime | None = None
        self.firing_since: datetime | None = None
        self.last_true_at: datetime | None = None
        self.error: str | None = None
        self.observation: Observation | None = None

    @property
    def firing(self) -> bool:
        return self.state is AlertState.FIRING

    # Stub of issue 8's interface (SPEC §4.1), replaced there by values found in the database.
    @property
    def since(self) -> datetime | None:
        return self.pending_since

    @property
    def since_bounded(self) -> bool:
        return False

    @property
    def since_seen(self) -> bool:
        return False

    @property
    def episode_id(self) -> str | None:
        return None

    def restore(self, true_since: datetime | None, now: datetime) -> None:
        """Resume from history so a restart neither re-pages nor forgets pending time."""
        if true_since is None:
            return
        self.pending_since = true_since
        self.last_true_at = now
        if now - true_since >= self.rule.for_:
            self.firing_since = true_since + self.rule.for_
            self._enter(AlertState.FIRING, self.firing_since)
        else:
            self._enter(AlertState.PENDING, true_since)

    def _enter(self, state: AlertState, at: datetime) -> None:
        if state is not self.state:
            self.state = state
            self.state_since = at

    def _event(self, kind: str, now: datetime, obs: Observation) -> AlertEvent:
        return AlertEvent(kind, self.rule, now, obs, self.firing_since)

    def update(self, obs: Observation, now: datetime) -> list[AlertEvent]:
        """Advance the state machine by one evaluation; return the events it produced."""
        self.observation = obs
        if obs.verdict is Verdict.ERROR:
            return self._on_error(obs, now)
        self.error = None
        if obs.verdict is Verdict.TRUE:
            return self._on_true(obs, now)
        return self._on_false_or_nodata(obs, now)

    def _on_error(self, obs: Observation, now: datetime) -> list[AlertEvent]:
        first_error = self.error is None
        self.error = obs.reason or "source unreadable"
        if self.firing:  # never report "resolved" while blind
            return [self._event("error", now, obs)] if first_error else []
        if self.state is AlertState.ERROR:
            return []
        self._enter(AlertState.ERROR, now)  # pending_since is kept: nothing is forgotten
        return [self._event("error", now, obs)]

    def _on_true(self, obs: Observation, now: datetime) -> list[AlertEvent]:
        self.last_true_at = now
        if self.firing:
            return []
        if self.pending_since is None:
            self.pending_since = now
        if now - self.pending_since >= self.rule.for_:
            self.firing_since = now
            self._enter(AlertState.FIRING, now)
            return [self._event("firing", now, obs)]
        if self.state is AlertState.PENDING:
            return []
        self._enter(AlertState.PENDING, self.pending_since)
        return [self._event("pending", now, obs)]

    def _on_false_or_nodata(self, obs: Observation, now: datetime) -> list[AlertEvent]:
        self.pending_since = None
        if self.firing:
            keep = self.rule.keep_firing_for
            if keep and self.last_true_at is not None and now - self.last_true_at < keep:
                return []
            event = self._event("resolved", now, obs)
            self.firing_since = None
            self._enter(AlertState.RESOLVED, now)
            return [event]
        if obs.verdict is Verdict.NODATA:
            if self.state is AlertState.NODATA:
                return []
            self._enter(AlertState.NODATA, now)
            return [self._event("nodata", now, obs)]
        self._enter(AlertState.INACTIVE, now)
        return []
