"""The metric catalogue of SPEC §2 and the arithmetic that turns raw aggregates into metrics.

Sources return *aggregates* (counts, sums, percentiles of rows in one time interval);
this module derives every named metric from them, so the rules that say what a metric
means live in one place and are testable without a database.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from enum import StrEnum
from fractions import Fraction


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
        MetricDef(
            "sync_success_rate",
            Unit.RATIO,
            Source.PERFORMANCE,
            "successful sync operations / sync operations",
        ),
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
    """One metric over one window: `value` is None when there were no samples to compute it.

    `exact` is the same value as a rational when it is one (a ratio of counts, a sum over a
    count, a percentile of whole milliseconds), so a threshold is compared with it exactly
    (SPEC §15); `value` is its float, for display and JSON.
    """

    name: str
    value: float | None
    unit: Unit
    samples: int
    window_seconds: int
    exact: Fraction | None = None

    @property
    def comparable(self) -> Fraction | float | None:
        """What a threshold is compared with: the exact value when there is one."""
        return self.exact if self.exact is not None else self.value


@dataclass(frozen=True)
class PerformanceAggregates:
    """Counts and durations of `sync_performance_metrics` rows in one interval."""

    sync_total: int = 0
    sync_failed: int = 0
    plaid_total: int = 0
    plaid_failed: int = 0
    sync_avg_ms: float | None = None
    sync_p95_ms: float | None = None
    sync_sum_ms: int | None = None  # exact sum of durations, when the source has it


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


def _ratio(numerator: int, denominator: int) -> Fraction | None:
    return Fraction(numerator, denominator) if denominator else None


def _exact_value(
    name: str, exact: Fraction | None, unit: Unit, samples: int, window_seconds: int
) -> MetricValue:
    value = None if exact is None else float(exact)
    return MetricValue(name, value, unit, samples, window_seconds, exact)


P95_DENOMINATOR = 20
"""percentile_cont(0.95) of whole milliseconds interpolates at a fraction of k/20, so it is
a multiple of 1/20 ms: the nearest one to PostgreSQL's float8 answer is the exact value."""


def exact_p95(p95_ms: float) -> Fraction:
    """The exact continuous 95th percentile of integer durations from PostgreSQL's float8."""
    return Fraction(round(p95_ms * P95_DENOMINATOR), P95_DENOMINATOR)


def performance_metrics(agg: PerformanceAggregates, window_seconds: int) -> list[MetricValue]:
    """Every metric of the performance table over one window, exact where counts allow."""
    w = window_seconds
    total = agg.sync_total
    all_total = total + agg.plaid_total
    if not total:
        avg: Fraction | None = None
    elif agg.sync_sum_ms is not None:
        avg = Fraction(agg.sync_sum_ms, total)
    else:
        avg = None if agg.sync_avg_ms is None else Fraction(agg.sync_avg_ms)
    p95 = exact_p95(agg.sync_p95_ms) if total and agg.sync_p95_ms is not None else None
    return [
        _exact_value("sync_failure_rate", _ratio(agg.sync_failed, total), Unit.RATIO, total, w),
        _exact_value(
            "sync_success_rate", _ratio(total - agg.sync_failed, total), Unit.RATIO, total, w
        ),
        _exact_value(
            "plaid_error_rate",
            _ratio(agg.plaid_failed, agg.plaid_total),
            Unit.RATIO,
            agg.plaid_total,
            w,
        ),
        _exact_value(
            "error_rate",
            _ratio(agg.sync_failed + agg.plaid_failed, all_total),
            Unit.RATIO,
            all_total,
            w,
        ),
        _exact_value("avg_sync_duration", avg, Unit.MS, total, w),
        _exact_value("p95_sync_duration", p95, Unit.MS, total, w),
        _exact_value(
            "sync_throughput", Fraction(total * 60, w) if w else None, Unit.PER_MIN, total, w
        ),
    ]


def conflict_metrics(agg: ConflictAggregates, window_seconds: int) -> list[MetricValue]:
    return [
        _exact_value(
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
        _exact_value(
            "endpoints_down",
            Fraction(agg.down) if agg.polled else None,
            Unit.COUNT,
            agg.polled,
            window_seconds,
        ),
        _exact_value(
            "endpoints_insecure",
            Fraction(agg.insecure) if agg.polled else None,
            Unit.COUNT,
            agg.polled,
            window_seconds,
        ),
    ]
