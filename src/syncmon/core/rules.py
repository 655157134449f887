"""Alert rules as the evaluator sees them: parsed, unit-checked, durations resolved."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum
from functools import cached_property

from syncmon.core.conditions import Condition, comparisons
from syncmon.core.metrics import MetricDef, Source

# A health poll of four endpoints can never give ten samples, so rules over endpoint
# metrics need only one by default (see README, "Decisions").
DEFAULT_MIN_SAMPLES_DATABASE = 10
DEFAULT_MIN_SAMPLES_ENDPOINTS = 1


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

    @cached_property  # asked at every point of every history walk: computed once
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
