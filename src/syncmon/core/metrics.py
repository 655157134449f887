"""The metric catalogue of SPEC §2 and the arithmetic that turns raw aggregates into metrics.

Sources return *aggregates* (counts, sums, percentiles of rows in one time interval);
this module derives every named metric from them, so the rules that say what a metric
means live in one place and are testable without a database.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from enum import StrEnum


class Unit(StrEnum):
    """The unit family of a metric; decides which suffixes a threshold may carry."""

    RATIO = "ratio"
    MS = "ms"
    COUNT = "count"
    PER_MIN = "per_min"
    NUMBER = "number"


class Source(StrEnum):
    """Where a metric's samples come from; a failed source puts its rules in `error`."""

    PERFORMANCE = "sync_performance_metrics"
    CONFLICTS = "conflict_resolution_history"
    HEALTH_TABLE = "sync_health_metrics"
    ENDPOINTS = "health endpoints"

    @property
    def has_history(self) -> bool:
        """Database tables can be asked about the past; endpoint polls cannot."""
        return self is not Source.ENDPOINTS


class EndpointStatus(StrEnum):
    """A health endpoint's state after one poll (SPEC §1.2)."""

    UP = "up"
    """Answered 2xx and said it is healthy, or said nothing we understood."""
    DEGRADED = "degraded"
    """Answered 2xx and said warn/degraded, or a status we do not know, or in an encoding
    we cannot decode."""
    DOWN = "down"
    """No answer, a non-2xx answer, or said fail/down/error."""


TABLE_SOURCES = (Source.PERFORMANCE, Source.CONFLICTS, Source.HEALTH_TABLE)
"""The metrics tables, in the order they are read and reported."""


@dataclass(frozen=True)
class MetricDef:
    name: str
    unit: Unit
    source: Source
    description: str


HEALTH_PREFIX = "health."

CATALOGUE: dict[str, MetricDef] = {
    m.name: m
    for m in (
        MetricDef(
            "sync_failure_rate",
            Unit.RATIO,
            Source.PERFORMANCE,
            "failed sync operations / sync operations",
        ),
        MetricDef("sync_success_rate", Unit.RATIO, Source.PERFORMANCE, "1 - sync_failure_rate"),
        MetricDef(
            "plaid_error_rate",
            Unit.RATIO,
            Source.PERFORMANCE,
            "failed Plaid operations / Plaid operations",
        ),
        MetricDef(
            "error_rate", Unit.RATIO, Source.PERFORMANCE, "failed operations / all operations"
        ),
        MetricDef(
            "avg_sync_duration", Unit.MS, Source.PERFORMANCE, "mean duration of sync operations"
        ),
        MetricDef(
            "p95_sync_duration",
            Unit.MS,
            Source.PERFORMANCE,
            "95th percentile (continuous) of sync operation duration",
        ),
        MetricDef(
            "sync_throughput", Unit.PER_MIN, Source.PERFORMANCE, "sync operations per minute"
        ),
        MetricDef(
            "conflict_auto_resolve_rate",
            Unit.RATIO,
            Source.CONFLICTS,
            "auto-resolved conflicts / all resolved conflicts",
        ),
        MetricDef(
            "api_response_time",
            Unit.MS,
            Source.ENDPOINTS,
            "mean latency of this process's health polls in the window",
        ),
        MetricDef(
            "endpoints_down",
            Unit.COUNT,
            Source.ENDPOINTS,
            "health endpoints whose latest poll is down",
        ),
        MetricDef(
            "endpoints_insecure",
            Unit.COUNT,
            Source.ENDPOINTS,
            "health endpoints missing a required security header",
        ),
    )
}


class UnknownMetricError(ValueError):
    """A metric name that is not in the catalogue, with the closest known name if any."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.suggestion = suggest_metric(name)
        hint = f"; did you mean {self.suggestion!r}?" if self.suggestion else ""
        super().__init__(f"unknown metric {name!r}{hint}")


def suggest_metric(name: str) -> str | None:
    matches = difflib.get_close_matches(name, list(CATALOGUE), n=1, cutoff=0.6)
    return matches[0] if matches else None


def lookup_metric(name: str) -> MetricDef:
    """Return the definition of `name`; `health.<metric_type>` is valid for any type."""
    if name in CATALOGUE:
        return CATALOGUE[name]
    if name.startswith(HEALTH_PREFIX) and len(name) > len(HEALTH_PREFIX):
        return MetricDef(
            name,
            Unit.NUMBER,
            Source.HEALTH_TABLE,
            f"mean numeric reading of {name[len(HEALTH_PREFIX) :]!r}",
        )
    raise UnknownMetricError(name)


@dataclass(frozen=True)
class MetricValue:
    """One metric over one window: `value` is None when there were no samples to compute it."""

    name: str
    value: float | None
    unit: Unit
    samples: int
    window_seconds: int


@dataclass(frozen=True)
class PerformanceAggregates:
    """Counts and durations of `sync_performance_metrics` rows in one interval."""

    sync_total: int = 0
    sync_failed: int = 0
    plaid_total: int = 0
    plaid_failed: int = 0
    sync_avg_ms: float | None = None
    sync_p95_ms: float | None = None


@dataclass(frozen=True)
class ConflictAggregates:
    """Rows of `conflict_resolution_history` in one interval."""

    total: int = 0
    auto_resolved: int = 0


@dataclass(frozen=True)
class HealthReading:
    """Numeric readings of one `metric_type` in `sync_health_metrics` over one interval."""

    metric_type: str
    numeric_samples: int
    mean: float | None
    latest_raw: str | None = None


@dataclass(frozen=True)
class EndpointAggregates:
    """What the latest health polls say, plus the latencies seen in the window."""

    polled: int
    down: int
    insecure: int
    latency_sum_ms: float = 0.0
    latency_samples: int = 0


def format_value(value: float | None, unit: Unit) -> str:
    """Human form of a value in base units: ratios as %, durations as ms or s."""
    if value is None:
        return "no data"
    if unit is Unit.RATIO:
        return f"{value * 100:.2f}%"
    if unit is Unit.MS:
        return f"{value / 1000:.2f}s" if value >= 1000 else f"{value:.0f}ms"
    if unit is Unit.PER_MIN:
        return f"{value:.1f}/min"
    return f"{value:g}" if value == int(value) else f"{value:.2f}"


def _ratio(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


def performance_metrics(agg: PerformanceAggregates, window_seconds: int) -> list[MetricValue]:
    """Every metric of the performance table over one window."""
    w = window_seconds
    failure = _ratio(agg.sync_failed, agg.sync_total)
    all_total = agg.sync_total + agg.plaid_total
    return [
        MetricValue("sync_failure_rate", failure, Unit.RATIO, agg.sync_total, w),
        MetricValue(
            "sync_success_rate",
            None if failure is None else 1.0 - failure,
            Unit.RATIO,
            agg.sync_total,
            w,
        ),
        MetricValue(
            "plaid_error_rate",
            _ratio(agg.plaid_failed, agg.plaid_total),
            Unit.RATIO,
            agg.plaid_total,
            w,
        ),
        MetricValue(
            "error_rate",
            _ratio(agg.sync_failed + agg.plaid_failed, all_total),
            Unit.RATIO,
            all_total,
            w,
        ),
        MetricValue(
            "avg_sync_duration",
            agg.sync_avg_ms if agg.sync_total else None,
            Unit.MS,
            agg.sync_total,
            w,
        ),
        MetricValue(
            "p95_sync_duration",
            agg.sync_p95_ms if agg.sync_total else None,
            Unit.MS,
            agg.sync_total,
            w,
        ),
        MetricValue(
            "sync_throughput",
            agg.sync_total / (w / 60) if w else None,
            Unit.PER_MIN,
            agg.sync_total,
            w,
        ),
    ]


def conflict_metrics(agg: ConflictAggregates, window_seconds: int) -> list[MetricValue]:
    return [
        MetricValue(
            "conflict_auto_resolve_rate",
            _ratio(agg.auto_resolved, agg.total),
            Unit.RATIO,
            agg.total,
            window_seconds,
        )
    ]


def health_table_metrics(readings: list[HealthReading], window_seconds: int) -> list[MetricValue]:
    return [
        MetricValue(
            HEALTH_PREFIX + r.metric_type,
            r.mean if r.numeric_samples else None,
            Unit.NUMBER,
            r.numeric_samples,
            window_seconds,
        )
        for r in readings
    ]


def endpoint_metrics(agg: EndpointAggregates, window_seconds: int) -> list[MetricValue]:
    samples = agg.latency_samples
    return [
        MetricValue(
            "api_response_time",
            agg.latency_sum_ms / samples if samples else None,
            Unit.MS,
            samples,
            window_seconds,
        ),
        MetricValue(
            "endpoints_down",
            float(agg.down) if agg.polled else None,
            Unit.COUNT,
            agg.polled,
            window_seconds,
        ),
        MetricValue(
            "endpoints_insecure",
            float(agg.insecure) if agg.polled else None,
            Unit.COUNT,
            agg.polled,
            window_seconds,
        ),
    ]
