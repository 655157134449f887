"""Alert rules as the evaluator sees them: parsed, unit-checked, durations resolved.

A rule yields one alert per label set, as in Prometheus (SPEC §15): a rule over the health
endpoints yields one per endpoint, labelled `endpoint`. `AlertRule.instance` is the rule
bound to one label set; its `key` names that alert everywhere (trackers, rows, rule tests).
A later `by: [operation_type]` on table rules only adds a dimension to `split_by`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import timedelta
from enum import StrEnum
from functools import cached_property

from syncmon.core.conditions import Condition, comparisons
from syncmon.core.metrics import MetricDef, Source

# A health poll of four endpoints can never give ten samples, so rules over endpoint
# metrics need only one by default (see README, "Decisions").
DEFAULT_MIN_SAMPLES_DATABASE = 10
DEFAULT_MIN_SAMPLES_ENDPOINTS = 1

ENDPOINT_LABEL = "endpoint"
LabelSet = tuple[tuple[str, str], ...]
"""The labels that tell a rule's alerts apart, sorted by name; () for a rule's only alert."""


class Severity(StrEnum):
    CRITICAL = "critical"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True)
class AlertRule:
    name: str
    condition_text: str
    condition: Condition
    severity: Severity
    window: timedelta = timedelta(minutes=5)
    for_: timedelta = timedelta(0)
    keep_firing_for: timedelta = timedelta(0)
    min_samples: int | None = None
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)
    series: LabelSet = ()  # which of the rule's alerts this is (see `instance`)

    @cached_property
    def split_by(self) -> tuple[str, ...]:
        """The label names whose every value gets its own alert: `endpoint` for a rule over
        the health endpoints (its metrics are per endpoint), nothing for a table rule."""
        return (ENDPOINT_LABEL,) if Source.ENDPOINTS in self.sources else ()

    def instance(self, series: LabelSet) -> AlertRule:
        """This rule as the alert of one label set (e.g. `(("endpoint", "sync"),)`); made
        once per label set, so every poll observes the same object."""
        key = tuple(sorted(series))
        made = self._instances.get(key)
        if made is None:
            made = self._instances[key] = replace(self, series=key)
        return made

    @cached_property
    def _instances(self) -> dict[LabelSet, AlertRule]:
        return {}

    @cached_property
    def key(self) -> str:
        """The alert's name for people and its key in this process: the rule's name, and
        for one of several alerts the label values, `Health Endpoint Down (sync)`."""
        if not self.series:
            return self.name
        return f"{self.name} ({', '.join(value for _, value in self.series)})"

    @property
    def all_labels(self) -> dict[str, str]:
        """The rule's labels and the alert's own (`endpoint`), which win: they are what
        tells two alerts of one rule apart (validate refuses a rule label of that name)."""
        return {**self.labels, **dict(self.series)}

    @cached_property  # rules are immutable; observing one must not re-parse its condition
    def metrics(self) -> list[MetricDef]:
        seen: dict[str, MetricDef] = {}
        for comparison in comparisons(self.condition):
            seen.setdefault(comparison.metric.name, comparison.metric)
        return list(seen.values())

    @cached_property
    def sources(self) -> set[Source]:
        return {metric.source for metric in self.metrics}

    @property
    def has_history(self) -> bool:
        """True when every metric comes from the database, so `for` can be checked statelessly."""
        return all(source.has_history for source in self.sources)

    def min_samples_for(self, metric: MetricDef) -> int:
        """The rule's `min_samples`, else a default that suits where the metric comes from."""
        if self.min_samples is not None:
            return self.min_samples
        if metric.source is Source.ENDPOINTS:
            return DEFAULT_MIN_SAMPLES_ENDPOINTS
        return DEFAULT_MIN_SAMPLES_DATABASE
